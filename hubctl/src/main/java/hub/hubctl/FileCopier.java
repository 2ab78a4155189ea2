package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;
import javax.net.ssl.HttpsURLConnection;

/**
 * One file at a time between this machine and a node, through the hub's file routes: SHA-256
 * checked end to end (the node hashes what it wrote or read, hubctl what it sent or wrote), and
 * resumed after a dropped connection or a hub restart: a write asks the node how much of it it
 * holds, a read continues from the partial file kept here ({@code .NAME.hubpart}). Transient
 * failures (the hub or the node unreachable, 5xx but 507) are retried with backoff for
 * {@code retryFor}; anything else fails at once with the hub's explanation.
 */
final class FileCopier {
    static final int BUFFER = 256 * 1024;

    private final HubClient client;
    private final ObjectMapper mapper;
    private final Duration retryFor;
    /** The local user on the node to act as, or null for the agent's default. */
    private final String user;
    /** Told of each try that failed and will be retried, for the user. */
    private final java.util.function.Consumer<String> retrying;

    FileCopier(HubClient client, ObjectMapper mapper, Duration retryFor, String user,
            java.util.function.Consumer<String> retrying) {
        this.user = user;
        this.client = client;
        this.mapper = mapper;
        this.retryFor = retryFor;
        this.retrying = retrying;
    }

    /** Bytes moved so far, and the file's size once the node has said it (a read). */
    interface Progress extends LongConsumer {
        default void size(long bytes) {
        }
    }

    /** A local file's facts, as sent with a write or kept by a read. */
    record Meta(long size, int mode, String owner, String group, long modifiedMillis) {
        static Meta of(Path p) throws IOException {
            PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class);
            return new Meta(a.size(), FileCopier.mode(a.permissions()), a.owner().getName(), a.group().getName(),
                    a.lastModifiedTime().toMillis());
        }
    }

    /** What a finished copy says. */
    record Copied(String path, long size, String sha256, long resumedAt) {
    }

    /** The SHA-256 of a local file, hex. */
    static String sha256(Path p) throws IOException {
        MessageDigest d = digest();
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            while (ch.read(buf) >= 0) {
                buf.flip();
                d.update(buf);
                buf.clear();
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    // --- write (push) ---------------------------------------------------------------------------

    /**
     * Writes {@code local} to {@code remote} on the node; into it under the local name when it is
     * a directory there.
     *
     * @param preserve keep mode, owner, group and time; otherwise the mode less group/other write
     */
    /**
     * Asks whether a write of {@code size} bytes to {@code remote} can work (its directory, the
     * space), before the file is hashed: a full disk is known in a second, not after reading a
     * large file through.
     */
    void check(String node, String remote, String name, long size) {
        retried(() -> client.get("api/v1/nodes/" + HubClient.enc(node) + "/files/partial?" + query(Map.of(
                "path", remote, "size", Long.toString(size), "name", name))));
    }

    Copied push(String node, Path local, String sha, Meta meta, String remote, boolean preserve,
            Progress progress) {
        return push(node, local, sha, meta, remote, preserve, progress, null);
    }

    /** The same as one node of the copy run {@code run} (null: none). */
    Copied push(String node, Path local, String sha, Meta meta, String remote, boolean preserve,
            Progress progress, String run) {
        String name = local.getFileName().toString();
        Map<String, String> q = new LinkedHashMap<>();
        q.put("path", remote);
        q.put("size", Long.toString(meta.size()));
        q.put("sha256", sha);
        q.put("name", name);
        q.put("mode", String.format("%04o", preserve ? meta.mode() : meta.mode() & 0755));
        if (preserve) {
            if (user == null) { // as another user the node cannot give a file away: mode and time only
                q.put("owner", meta.owner());
                q.put("group", meta.group());
            }
            q.put("mtime", Long.toString(meta.modifiedMillis()));
        }
        String base = "api/v1/nodes/" + HubClient.enc(node) + "/files";
        return retried(() -> {
            Map<String, String> probe = new LinkedHashMap<>(Map.of("path", remote, "size",
                    Long.toString(meta.size()), "sha256", sha, "name", name));
            if (run != null) {
                probe.put("run", run);
            }
            JsonNode partial = client.get(base + "/partial?" + query(probe));
            long offset = partial.path("offset").asLong(0);
            Map<String, String> qq = new LinkedHashMap<>(q);
            qq.put("offset", Long.toString(offset));
            if (run != null) {
                qq.put("run", run);
            }
            JsonNode done = upload(base + "?" + query(qq), local, offset, meta.size(), progress);
            return new Copied(done.path("path").asText(remote), done.path("size").asLong(),
                    done.path("sha256").asText(), offset);
        });
    }

    private JsonNode upload(String path, Path local, long offset, long size, LongConsumer progress) {
        HttpURLConnection c = open("PUT", path, 60_000);
        c.setDoOutput(true);
        c.setRequestProperty("Content-Type", "application/octet-stream");
        c.setFixedLengthStreamingMode(size - offset);
        try {
            try (FileChannel ch = FileChannel.open(local, StandardOpenOption.READ); OutputStream out = c.getOutputStream()) {
                ByteBuffer buf = ByteBuffer.allocate(BUFFER);
                long pos = offset;
                while (pos < size) {
                    buf.clear().limit((int) Math.min(BUFFER, size - pos));
                    int n = ch.read(buf, pos);
                    if (n < 0) {
                        throw HubctlException.hub(local + " became shorter while it was copied");
                    }
                    out.write(buf.array(), 0, n);
                    pos += n;
                    progress.accept(pos);
                }
            }
            return answer(c);
        } catch (IOException e) {
            // The hub may have answered before taking the whole body (the node refused mid-file):
            // that answer, if there is one, says more than the broken write.
            HubctlException answered = null;
            try {
                answer(c);
            } catch (HubctlException h) {
                answered = h;
            } catch (IOException | RuntimeException ignored) {
                // no answer to read: the connection broke
            }
            if (answered != null && !answered.isTransient()) {
                throw answered;
            }
            throw transport(c, e);
        }
    }

    // --- read (pull) ----------------------------------------------------------------------------

    /**
     * Reads {@code remote} from the node into {@code local} (a file path; its directory must
     * exist), through {@code .NAME.hubpart} beside it, renamed once the hash matches.
     */
    Copied pull(String node, String remote, Path local, boolean preserve, Progress progress) {
        Path part = local.resolveSibling("." + local.getFileName() + ".hubpart");
        String base = "api/v1/nodes/" + HubClient.enc(node) + "/files";
        return retried(() -> {
            long offset = Files.isRegularFile(part, LinkOption.NOFOLLOW_LINKS) ? Files.size(part) : 0;
            HttpURLConnection c = open("GET", base + "?" + query(Map.of("path", remote, "offset",
                    Long.toString(offset))), 60_000);
            Meta meta;
            String transfer;
            MessageDigest digest = digest();
            try {
                int status = c.getResponseCode();
                if (status == 400 && offset > 0) {
                    // the file on the node is shorter than the partial copy: it changed; start over
                    c.disconnect();
                    Files.deleteIfExists(part);
                    throw HubctlException.unreachable(remote + " on the node is shorter than the partial copy; "
                            + "starting over");
                }
                if (status / 100 != 2) {
                    answer(c);
                }
                meta = new Meta(Long.parseLong(c.getHeaderField("Hub-File-Size")),
                        Integer.parseInt(c.getHeaderField("Hub-File-Mode"), 8), c.getHeaderField("Hub-File-Owner"),
                        c.getHeaderField("Hub-File-Group"), Long.parseLong(c.getHeaderField("Hub-File-Modified")));
                transfer = c.getHeaderField("Hub-Transfer");
                progress.size(meta.size());
                try (FileChannel ch = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS); InputStream in = c.getInputStream()) {
                    hashPrefix(ch, offset, digest);
                    ch.truncate(offset);
                    ch.position(offset);
                    byte[] buf = new byte[BUFFER];
                    long pos = offset;
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        digest.update(buf, 0, n);
                        ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                        while (bb.hasRemaining()) {
                            ch.write(bb);
                        }
                        pos += n;
                        progress.accept(pos);
                    }
                    if (pos != meta.size()) {
                        throw new IOException("the transfer ended at " + pos + " of " + meta.size() + " bytes");
                    }
                    ch.force(false);
                }
            } catch (IOException e) {
                throw transport(c, e);
            } catch (NumberFormatException | NullPointerException e) {
                throw HubctlException.hub("the hub's answer lacks the file's size, mode or time headers");
            }
            String sha = HexFormat.of().formatHex(digest.digest());
            JsonNode outcome = client.get("api/v1/transfers/" + HubClient.enc(transfer));
            if (!"done".equals(outcome.path("state").asText())) {
                throw HubctlException.unreachable("the node did not finish reading " + remote + ": "
                        + outcome.path("detail").asText("no reason given"));
            }
            String theirs = outcome.path("sha256").asText();
            if (!sha.equals(theirs)) {
                Files.deleteIfExists(part);
                throw HubctlException.hub(node + ":" + remote + " hashes to " + theirs + " on the node but "
                        + sha + " here; the partial copy was deleted");
            }
            Set<PosixFilePermission> perms = permissions(preserve ? meta.mode() : meta.mode() & 0755);
            Files.setPosixFilePermissions(part, perms);
            if (preserve) {
                Files.setLastModifiedTime(part, FileTime.fromMillis(meta.modifiedMillis()));
                chownIfRoot(part, meta.owner(), meta.group());
            }
            Files.move(part, local, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return new Copied(local.toString(), meta.size(), sha, offset);
        });
    }

    /** As tar and cp -p: ownership by name only when running as root, and only if the names exist here. */
    private static void chownIfRoot(Path p, String owner, String group) {
        if (!"root".equals(System.getProperty("user.name"))) {
            return;
        }
        try {
            var users = p.getFileSystem().getUserPrincipalLookupService();
            var view = Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            view.setOwner(users.lookupPrincipalByName(owner));
            view.setGroup(users.lookupPrincipalByGroupName(group));
        } catch (IOException | RuntimeException e) {
            // a user or group this machine does not have: the file stays ours, as cp -p does
        }
    }

    // --- trees ----------------------------------------------------------------------------------

    /** One entry of a node's directory listing. */
    record Entry(String path, String type, long size, int mode, String owner, String group, long mtime) {
    }

    /**
     * The tree under {@code remote} on the node, parents first. Every path is checked: a node's
     * listing is not trusted to stay inside the directory (no absolute paths, no "..").
     */
    List<Entry> tree(String node, String remote) {
        return retried(() -> {
            HttpURLConnection c = open("GET", "api/v1/nodes/" + HubClient.enc(node) + "/files/tree?"
                    + query(Map.of("path", remote)), 60_000);
            List<Entry> out = new ArrayList<>();
            String transfer;
            try {
                if (c.getResponseCode() / 100 != 2) {
                    answer(c);
                }
                transfer = c.getHeaderField("Hub-Transfer");
                try (BufferedReader r = new BufferedReader(new InputStreamReader(c.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        JsonNode e = mapper.readTree(line);
                        String rel = e.path("path").asText("");
                        if (!safeRelative(rel)) {
                            throw HubctlException.hub("the node listed an entry outside " + remote + ": '"
                                    + rel.replaceAll("\\p{Cntrl}", "?") + "'; nothing was copied");
                        }
                        out.add(new Entry(rel, e.path("type").asText(), e.path("size").asLong(),
                                e.path("mode").asInt(), e.path("owner").asText(), e.path("group").asText(),
                                e.path("mtime").asLong()));
                    }
                }
            } catch (IOException e) {
                throw transport(c, e);
            }
            JsonNode outcome = client.get("api/v1/transfers/" + HubClient.enc(transfer));
            if (!"done".equals(outcome.path("state").asText())) {
                throw HubctlException.unreachable("the node did not finish listing " + remote + ": "
                        + outcome.path("detail").asText("no reason given"));
            }
            return out;
        });
    }

    /** A relative path with "/" separators, no empty, "." or ".." parts, nothing a terminal would act on. */
    static boolean safeRelative(String rel) {
        if (rel.isEmpty() || rel.startsWith("/") || rel.length() > 4096) {
            return false;
        }
        for (String part : rel.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                return false;
            }
        }
        return rel.chars().noneMatch(ch -> ch < 0x20 || ch == 0x7f);
    }

    /** Creates a directory (and its parents) on the node. */
    void mkdir(String node, String remote, int mode, String owner, String group) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("path", remote);
        if (mode != 0) {
            body.put("mode", String.format("%04o", mode));
        }
        if (owner != null && user == null) {
            body.put("owner", owner);
            body.put("group", group);
        }
        if (user != null) {
            body.put("user", user);
        }
        retried(() -> client.post("api/v1/nodes/" + HubClient.enc(node) + "/directories", body));
    }

    // --- plumbing -------------------------------------------------------------------------------

    private interface Attempt<T> {
        T run() throws IOException;
    }

    /** Runs an attempt until it succeeds, fails for good, or {@code retryFor} has passed. */
    private <T> T retried(Attempt<T> attempt) {
        long deadline = System.nanoTime() + retryFor.toNanos();
        long backoff = 500;
        for (int tries = 1;; tries++) {
            try {
                return attempt.run();
            } catch (HubctlException e) {
                // Once a try has failed, a node that is offline is most likely reconnecting (after a
                // hub restart): wait for it as for the hub. At the first try it is an answer.
                boolean reconnecting = tries > 1 && e.status() == 409 && e.getMessage().contains("is offline");
                // 502: the node's own I/O failed (an answer, not a hub that is away); 507: no space
                if (!(e.isTransient() || reconnecting) || e.status() == 502 || e.status() == 507
                        || System.nanoTime() + backoff * 1_000_000 > deadline) {
                    throw e;
                }
                retrying.accept(e.getMessage());
            } catch (IOException e) {
                throw HubctlException.hub("local file: " + e.getMessage());
            }
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw HubctlException.interrupted();
            }
            backoff = Math.min(backoff * 2, 5_000);
        }
    }

    private HttpURLConnection open(String method, String path, int readTimeoutMs) {
        try {
            URI uri = client.base().resolve(path);
            HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
            if (client.tls() != null && c instanceof HttpsURLConnection https) {
                https.setSSLSocketFactory(client.tls().getSocketFactory());
            }
            c.setRequestMethod(method);
            c.setConnectTimeout(5_000);
            c.setReadTimeout(readTimeoutMs);
            c.setUseCaches(false);
            c.setRequestProperty("Accept", "application/octet-stream, application/x-ndjson, application/json");
            String token = client.token();
            if (token != null && !token.isBlank()) {
                c.setRequestProperty("Authorization", "Bearer " + token.strip());
            }
            return c;
        } catch (IOException e) {
            throw HubctlException.unreachable("cannot reach the hub at " + client.base() + ": " + e.getMessage());
        }
    }

    /** The JSON answer of a 2xx, else the hub's error. */
    private JsonNode answer(HttpURLConnection c) throws IOException {
        int status = c.getResponseCode();
        if (status / 100 == 2) {
            try (InputStream in = c.getInputStream()) {
                byte[] b = in.readAllBytes();
                return b.length == 0 ? mapper.createObjectNode() : mapper.readTree(b);
            }
        }
        InputStream err = c.getErrorStream();
        String text = "";
        if (err != null) {
            try (err) {
                text = new String(err.readAllBytes(), StandardCharsets.UTF_8);
            }
        }
        throw client.error(status, text);
    }

    /** A connection that broke: transient (the resume picks it up), unless it was a TLS failure. */
    private HubctlException transport(HttpURLConnection c, IOException e) {
        c.disconnect();
        if (e instanceof javax.net.ssl.SSLHandshakeException) {
            return HubClient.tlsFailure(client.base(), e);
        }
        if (Thread.currentThread().isInterrupted()) {
            return HubctlException.interrupted();
        }
        return HubctlException.unreachable("the connection to the hub broke: " + e.getMessage());
    }

    private String query(Map<String, String> given) {
        Map<String, String> params = new LinkedHashMap<>(given);
        if (user != null) {
            params.put("user", user);
        }
        StringBuilder b = new StringBuilder();
        params.forEach((k, v) -> {
            if (b.length() > 0) {
                b.append('&');
            }
            b.append(k).append('=').append(HubClient.enc(v));
        });
        return b.toString();
    }

    private static void hashPrefix(FileChannel ch, long length, MessageDigest d) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(BUFFER);
        long pos = 0;
        while (pos < length) {
            buf.clear().limit((int) Math.min(BUFFER, length - pos));
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new IOException("the partial file is shorter than it was");
            }
            buf.flip();
            d.update(buf);
            pos += n;
        }
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] all = PosixFilePermission.values();
        for (int i = 0; i < 9; i++) {
            if ((mode & (0400 >> i)) != 0) {
                s.add(all[i]);
            }
        }
        return s;
    }

    static int mode(Set<PosixFilePermission> perms) {
        int m = 0;
        for (PosixFilePermission p : perms) {
            m |= 0400 >> p.ordinal();
        }
        return m;
    }
}

package hub.hubd.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.auth.Principal;
import hub.hubd.auth.Role;
import hub.hubd.core.HubException;
import hub.hubd.files.FileFailure;
import hub.hubd.files.FileRelay;
import hub.hubd.registry.NodeDirectory;
import hub.hubd.registry.NodeStatus;
import hub.hubd.registry.NodeView;
import hub.proto.agent.v1.FileData;
import hub.proto.agent.v1.FileOp;
import hub.proto.agent.v1.FileOpen;
import hub.proto.agent.v1.FileStatus;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Locale;

/**
 * Files on nodes ({@code hubctl cp}), relayed through the agent's stream by {@link FileRelay}:
 * <ul>
 * <li>{@code PUT /api/v1/nodes/{node}/files?path=&size=&sha256=[&offset=&mode=&owner=&group=&mtime=&name=]}
 *     writes the body (application/octet-stream, exactly {@code size - offset} bytes) to the path;
 *     201 once the node has it whole with that SHA-256;</li>
 * <li>{@code GET /api/v1/nodes/{node}/files/partial?path=&size=[&sha256=&name=]}: how many bytes of
 *     that write the node holds from an earlier attempt ({@code offset} to resume from), or the
 *     problem the write would meet (no directory, no space); without sha256 only the checks;</li>
 * <li>{@code GET /api/v1/nodes/{node}/files?path=[&offset=]} reads a file from the offset; headers
 *     give its size, mode, owner, group, time and the transfer id, whose outcome (with the file's
 *     SHA-256) {@code GET /api/v1/transfers/{id}} gives once the body is read;</li>
 * <li>{@code GET /api/v1/nodes/{node}/files/tree?path=}: a directory tree, one JSON object per line;</li>
 * <li>{@code POST /api/v1/nodes/{node}/directories} {@code {"path","mode","owner","group"}}: mkdir -p.</li>
 * </ul>
 * Every route needs operator on the node and takes {@code user} (in the body for directories): the
 * local user to act as, under the node's policy as for exec. Writes, directories, reads and
 * listings are audited.
 */
final class FileRoutes {
    /** Response headers of a read. */
    static final String SIZE = "Hub-File-Size";
    static final String MODE = "Hub-File-Mode";
    static final String OWNER = "Hub-File-Owner";
    static final String GROUP = "Hub-File-Group";
    static final String MODIFIED = "Hub-File-Modified";
    static final String TRANSFER = "Hub-Transfer";

    private final FileRelay relay;
    private final NodeDirectory nodes;
    private final ObjectMapper mapper;
    private final hub.hubd.runs.RunService runs;

    FileRoutes(FileRelay relay, NodeDirectory nodes, ObjectMapper mapper, hub.hubd.runs.RunService runs) {
        this.runs = runs;
        this.relay = relay;
        this.nodes = nodes;
        this.mapper = mapper;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Written(String transfer, String node, String path, long size, String sha256, String mode) {
    }

    record Partial(String path, long offset) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record TransferJson(String id, String node, String op, String path, String state, Long size, String sha256,
            String problem, String detail) {
    }

    record MkdirRequest(String path, String mode, String owner, String group, String user) {
    }

    /** The node, operator on it, connected; recorded for the audit. */
    private NodeView node(Context ctx, Principal by) {
        NodeView node = nodes.resolve(by, ctx.pathParam("node"));
        NodeDirectory.require(by, node, Role.OPERATOR);
        ctx.attribute(AuditRoutes.NODE, node.info().id());
        if (node.status() != NodeStatus.ONLINE) {
            throw HubException.conflict("node " + node.info().name() + " is offline");
        }
        return node;
    }

    void write(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        String path = path(ctx);
        long size = number(ctx, "size", -1);
        if (size < 0) {
            throw HubException.invalid("size is required: the file's size in bytes");
        }
        long offset = number(ctx, "offset", 0);
        if (offset > size) {
            throw HubException.invalid("offset " + offset + " is beyond size " + size);
        }
        String sha = sha256(ctx);
        long length = ctx.req().getContentLengthLong();
        if (length < 0) {
            throw new io.javalin.http.HttpResponseException(411, "send a Content-Length of size - offset ("
                    + (size - offset) + ")");
        }
        if (length != size - offset) {
            throw HubException.invalid("the body has " + length + " bytes; size - offset is " + (size - offset));
        }
        FileOpen.Builder spec = FileOpen.newBuilder().setOp(FileOp.FILE_OP_WRITE).setPath(path).setSize(size)
                .setOffset(offset).setSha256(sha).setMode(mode(ctx.queryParam("mode")))
                .setOwner(name(ctx, "owner")).setGroup(name(ctx, "group"))
                .setModifiedUnixMillis(number(ctx, "mtime", 0)).setName(fileName(ctx.queryParam("name")))
                .setRunAs(name(ctx, "user"));
        NodeView node = node(ctx, by);
        ctx.attribute(AuditRoutes.DETAIL, (spec.getRunAs().isEmpty() ? "" : "as " + spec.getRunAs() + ": ")
                + "write " + path + " (" + size + " bytes, sha256 " + sha
                + (offset > 0 ? ", resumed at " + offset : "") + ")");
        String run = ctx.queryParam("run");
        if (run != null) {
            // One node of a copy run: the run records what this transfer does to it.
            runs.copyStarting(by, run, node.info().id(), null, path, size, sha);
            ctx.attribute(AuditRoutes.DETAIL, ctx.attribute(AuditRoutes.DETAIL) + " for run " + run);
        }
        hub.hubd.runs.Run.Outcome outcome = hub.hubd.runs.Run.Outcome.PENDING;
        String error = "the copy was cut off; its client may resume it";
        try (FileRelay.Transfer t = relay.open(node.info().id(), by.userId(), spec)) {
            byte[] buf = new byte[FileRelay.CHUNK];
            long pos = offset;
            try {
                InputStream in = ctx.req().getInputStream();
                do {
                    int n = in.readNBytes(buf, 0, (int) Math.min(buf.length, size - pos));
                    if (n == 0 && pos < size) {
                        throw new IOException("the body ended at " + pos + " of " + size + " bytes");
                    }
                    pos += n;
                    t.write(buf, n, pos == size);
                } while (pos < size);
            } catch (IOException e) {
                t.close("the client went away");
                throw clientGone(e);
            }
            FileStatus done = t.awaitDone();
            outcome = hub.hubd.runs.Run.Outcome.OK;
            error = null;
            ctx.status(201).json(new Written(t.id(), node.info().name(), done.getPath(), done.getSize(),
                    done.getSha256(), octal(spec.getMode())));
        } catch (FileFailure f) {
            // What the node refused fails the node; a lost connection or a silent node leaves it to a resume.
            if (f.status() != 503 && f.status() != 504 && !f.slug().equals("client-disconnected")) {
                outcome = hub.hubd.runs.Run.Outcome.FAILED;
                error = f.getMessage();
            }
            throw f;
        } catch (HubException e) {
            if (e.kind() != HubException.Kind.UNAVAILABLE) {
                outcome = hub.hubd.runs.Run.Outcome.FAILED;
                error = e.getMessage();
            }
            throw e;
        } finally {
            if (run != null) {
                runs.copyEnded(run, node.info().id(), outcome, error);
            }
        }
    }

    void partial(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        String path = path(ctx);
        String sha = ctx.queryParam("sha256");
        FileOpen.Builder spec = FileOpen.newBuilder().setOp(FileOp.FILE_OP_PROBE).setPath(path)
                .setSize(Math.max(0, number(ctx, "size", 0))).setSha256(sha == null || sha.isEmpty() ? "" : sha256(ctx))
                .setName(fileName(ctx.queryParam("name"))).setRunAs(name(ctx, "user"));
        NodeView node = node(ctx, by);
        String run = ctx.queryParam("run");
        if (run == null) {
            try (FileRelay.Transfer t = relay.open(node.info().id(), by.userId(), spec)) {
                ctx.json(new Partial(path, t.opened().getOffset()));
            }
            return;
        }
        // For a node of a copy run, what the node refuses here (no directory, no space) is its outcome.
        runs.copyStarting(by, run, node.info().id(), null, path, spec.getSize(), spec.getSha256());
        hub.hubd.runs.Run.Outcome outcome = hub.hubd.runs.Run.Outcome.PENDING;
        String error = null;
        try (FileRelay.Transfer t = relay.open(node.info().id(), by.userId(), spec)) {
            ctx.json(new Partial(path, t.opened().getOffset()));
        } catch (FileFailure f) {
            if (f.status() != 503 && f.status() != 504) {
                outcome = hub.hubd.runs.Run.Outcome.FAILED;
                error = f.getMessage();
            }
            throw f;
        } finally {
            runs.copyEnded(run, node.info().id(), outcome, error);
        }
    }

    void read(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        String path = path(ctx);
        long offset = number(ctx, "offset", 0);
        NodeView node = node(ctx, by);
        FileOpen.Builder spec = FileOpen.newBuilder().setOp(FileOp.FILE_OP_READ).setPath(path).setOffset(offset)
                .setRunAs(name(ctx, "user"));
        ctx.attribute(AuditRoutes.DETAIL, (spec.getRunAs().isEmpty() ? "" : "as " + spec.getRunAs() + ": ")
                + "read " + path + (offset > 0 ? " from " + offset : ""));
        try (FileRelay.Transfer t = relay.open(node.info().id(), by.userId(), spec)) {
            FileStatus f = t.opened();
            relayOut(ctx, t, () -> {
                ctx.status(200).contentType("application/octet-stream");
                ctx.header(SIZE, Long.toString(f.getSize()));
                ctx.header(MODE, octal(f.getMode()));
                ctx.header(OWNER, headerSafe(f.getOwner()));
                ctx.header(GROUP, headerSafe(f.getGroup()));
                ctx.header(MODIFIED, Long.toString(f.getModifiedUnixMillis()));
                ctx.header(TRANSFER, t.id());
                ctx.res().setContentLengthLong(f.getSize() - offset);
            });
        }
    }

    void tree(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        String path = path(ctx);
        NodeView node = node(ctx, by);
        ctx.attribute(AuditRoutes.DETAIL, "list " + path);
        FileOpen.Builder spec = FileOpen.newBuilder().setOp(FileOp.FILE_OP_LIST).setPath(path)
                .setRunAs(name(ctx, "user"));
        try (FileRelay.Transfer t = relay.open(node.info().id(), by.userId(), spec)) {
            relayOut(ctx, t, () -> {
                ctx.status(200).contentType("application/x-ndjson");
                ctx.header(TRANSFER, t.id());
            });
        }
    }

    /**
     * Copies a read's chunks to the client, acknowledging each once written. A failure after the
     * first byte cannot become a problem answer any more: the response is cut short (the client
     * sees fewer bytes than Content-Length, or no final line) and the transfer's outcome says why.
     * The headers are set once the first chunk (or the failure, answered as a problem) is here.
     */
    private static void relayOut(Context ctx, FileRelay.Transfer t, Runnable headers) {
        FileData d = t.next();
        headers.run();
        try {
            OutputStream out = ctx.res().getOutputStream();
            while (d != null) {
                if (d.getLast()) {
                    // The node's final word (its hash) is here before the client has every byte, so
                    // the client can read the outcome as soon as its body ends.
                    t.awaitDone();
                }
                d.getData().writeTo(out);
                t.passedOn(d.getOffset() + d.getData().size());
                d = t.next();
            }
            t.awaitDone();
            out.flush();
        } catch (IOException e) {
            t.close("the client went away");
            throw clientGone(e);
        }
    }

    /** The client stopped sending or reading: nobody reads an answer; the node keeps a partial write. */
    private static FileFailure clientGone(IOException e) {
        return new FileFailure("client-disconnected", 400, "the client went away: " + e.getMessage());
    }

    void mkdir(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        MkdirRequest req = ApiJson.body(ctx, mapper, MkdirRequest.class);
        if (req.path() == null || req.path().isBlank()) {
            throw HubException.invalid("path is required");
        }
        String path = checkPath(req.path());
        FileOpen.Builder spec = FileOpen.newBuilder().setOp(FileOp.FILE_OP_MKDIR).setPath(path)
                .setMode(mode(req.mode())).setOwner(checkName(req.owner(), "owner"))
                .setGroup(checkName(req.group(), "group")).setRunAs(checkName(req.user(), "user"));
        NodeView node = node(ctx, by);
        ctx.attribute(AuditRoutes.DETAIL, "mkdir " + path);
        try (FileRelay.Transfer t = relay.open(node.info().id(), by.userId(), spec)) {
            FileStatus done = t.awaitDone();
            ctx.status(201).json(java.util.Map.of("path", done.getPath(), "node", node.info().name()));
        }
    }

    void transfer(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        String id = ctx.pathParam("id");
        FileRelay.Finished f = relay.finished(id, by.userId()).orElseThrow(() -> HubException.notFound(
                "no finished transfer " + id + " of yours (outcomes are kept 15 minutes)"));
        String node = nodes.byId(by, f.nodeId()).info().name();
        ctx.json(new TransferJson(f.id(), node, f.op(), f.path(), f.state(),
                f.state().equals("done") ? f.size() : null, f.sha256(), f.problem(), f.message()));
    }

    // --- parameters ---------------------------------------------------------------------------

    private static String path(Context ctx) {
        String p = ctx.queryParam("path");
        if (p == null || p.isEmpty()) {
            throw HubException.invalid("path is required: an absolute path on the node");
        }
        return checkPath(p);
    }

    private static String checkPath(String p) {
        if (!p.startsWith("/") || p.length() > 4096 || p.indexOf('\0') >= 0) {
            throw HubException.invalid("path must be absolute (start with /) and at most 4096 characters");
        }
        return p;
    }

    private static long number(Context ctx, String name, long absent) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) {
            return absent;
        }
        try {
            long n = Long.parseLong(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw HubException.invalid(name + " must be a whole number of at least 0, not '"
                    + (v.length() > 40 ? v.substring(0, 40) + "…" : v) + "'");
        }
    }

    private static String sha256(Context ctx) {
        String v = ctx.queryParam("sha256");
        if (v == null || !v.matches("[0-9a-fA-F]{64}")) {
            throw HubException.invalid("sha256 is required: the file's SHA-256 as 64 hex digits");
        }
        return v.toLowerCase(Locale.ROOT);
    }

    /** Permission bits as octal digits ("0644", "755"); absent: 0 (the node's default). */
    static int mode(String v) {
        if (v == null || v.isEmpty()) {
            return 0;
        }
        if (!v.matches("[0-7]{1,4}")) {
            throw HubException.invalid("mode must be octal permission bits such as 0644, not '"
                    + (v.length() > 10 ? v.substring(0, 10) + "…" : v) + "'");
        }
        return Integer.parseInt(v, 8) & 0777;
    }

    /** A name the node reported, fit for a header (an agent is not trusted to send one). */
    private static String headerSafe(String name) {
        return name.matches("[A-Za-z0-9._][A-Za-z0-9._-]{0,63}\\$?") ? name : "?";
    }

    static String octal(int mode) {
        return String.format("%04o", mode & 07777);
    }

    private static String name(Context ctx, String param) {
        return checkName(ctx.queryParam(param), param);
    }

    private static String checkName(String v, String what) {
        if (v == null || v.isEmpty()) {
            return "";
        }
        if (!v.matches("[A-Za-z0-9._][A-Za-z0-9._-]{0,63}\\$?")) {
            throw HubException.invalid(what + " must be a user or group name (letters, digits, . _ -)");
        }
        return v;
    }

    private static String fileName(String v) {
        if (v == null || v.isEmpty()) {
            return "";
        }
        if (v.contains("/") || v.equals(".") || v.equals("..") || v.length() > 255 || v.indexOf('\0') >= 0) {
            throw HubException.invalid("name must be a file name (no /), at most 255 characters");
        }
        return v;
    }
}

package hub.agent;

import com.google.protobuf.ByteString;
import hub.proto.agent.v1.AgentMessage;
import hub.proto.agent.v1.FileAck;
import hub.proto.agent.v1.FileData;
import hub.proto.agent.v1.FileError;
import hub.proto.agent.v1.FileOp;
import hub.proto.agent.v1.FileOpen;
import hub.proto.agent.v1.FileState;
import hub.proto.agent.v1.FileStatus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's side of file transfers ({@code hubctl cp}): writes, reads, probes and lists paths for
 * the hub over the agent's stream, as the protocol's FileOpen describes. A write goes to a partial
 * file beside its target ({@code .NAME.hubpart-HASH16}), hashed as it is written, and is renamed
 * over the target only once its SHA-256 matches; a write cut short keeps the partial file so the
 * next one resumes it. A read or listing runs on its own thread and never has more than the
 * transfer's window unacknowledged. Files are read and written as the agent's own user, and only
 * when the node's policy lets tasks run as that user.
 *
 * <p>Threading: {@link #open}, {@link #data}, {@link #ack} and {@link #close} come from the stream's
 * callbacks, one at a time; readers run on their own threads. A transfer's state is guarded by
 * the transfer.
 */
final class FileTransfers implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FileTransfers.class);
    /** Largest chunk sent, and taken. */
    static final int CHUNK = 1024 * 1024;
    static final int MAX_CHUNK = 1024 * 1024;
    static final long DEFAULT_WINDOW = 4L * 1024 * 1024;
    static final long MAX_WINDOW = 16L * 1024 * 1024;
    /** Transfers open at once on this node; more are refused. */
    static final int MAX_OPEN = 32;

    private final Consumer<AgentMessage> send;
    private volatile Path root;
    private volatile RunAs runAs = RunAs.ownUser();
    private final Map<String, Transfer> open = new ConcurrentHashMap<>();

    /**
     * @param send where messages to the hub go
     * @param root where absolute paths are resolved: "/" for a real node; a directory per simulated
     *             node in the simulator
     */
    FileTransfers(Consumer<AgentMessage> send, Path root) {
        this.send = send;
        this.root = root;
    }

    void root(Path root) {
        this.root = root;
    }

    void runAs(RunAs policy) {
        this.runAs = policy;
    }

    /** Why a request cannot be done, with the protocol's error. */
    static final class Failure extends Exception {
        final FileError error;

        Failure(FileError error, String message) {
            super(message);
            this.error = error;
        }
    }

    private abstract static class Transfer {
        final String id;
        final long window;
        boolean closed;

        Transfer(String id, long window) {
            this.id = id;
            this.window = window;
        }
    }

    private static final class Write extends Transfer {
        final Path target;
        final Path part;
        final FileOpen spec;
        /** Where the bytes go: the partial file itself, or the stdin of a writer running as the user. */
        final FileChannel channel;
        final UserFiles as;
        final Process writer;
        final java.io.OutputStream pipe;
        final MessageDigest digest;
        long position;

        Write(FileOpen spec, Path target, Path part, FileChannel channel, UserFiles as, Process writer,
                MessageDigest digest, long position, long window) {
            super(spec.getTransferId(), window);
            this.spec = spec;
            this.target = target;
            this.part = part;
            this.channel = channel;
            this.as = as;
            this.writer = writer;
            this.pipe = writer == null ? null : writer.getOutputStream();
            this.digest = digest;
            this.position = position;
        }
    }

    private static final class Read extends Transfer {
        long acked;

        Read(String id, long window, long acked) {
            super(id, window);
            this.acked = acked;
        }
    }

    void open(FileOpen o) {
        String id = o.getTransferId();
        if (id.isEmpty() || id.length() > 64) {
            log.warn("ignoring a file transfer with a transfer_id of {} characters", id.length());
            return;
        }
        try {
            if (open.size() >= MAX_OPEN) {
                throw new Failure(FileError.FILE_ERROR_REFUSED, "this node has " + MAX_OPEN
                        + " file transfers open already; retry later");
            }
            if (open.containsKey(id)) {
                throw new Failure(FileError.FILE_ERROR_INVALID, "transfer " + id + " is open already");
            }
            UserFiles as = userFor(o.getRunAs());
            if (as != null && (!o.getOwner().isEmpty() || !o.getGroup().isEmpty())) {
                throw new Failure(FileError.FILE_ERROR_REFUSED, "owner and group are set only when copying as the "
                        + "agent's own user, not as " + as.user());
            }
            Path path = resolve(o.getPath());
            long window = o.getWindow() == 0 ? DEFAULT_WINDOW : Math.min(Math.max(o.getWindow(), CHUNK), MAX_WINDOW);
            switch (o.getOp()) {
                case FILE_OP_WRITE -> openWrite(o, path, window, as);
                case FILE_OP_PROBE -> probe(o, path);
                case FILE_OP_READ -> openRead(o, path, window, as);
                case FILE_OP_LIST -> openList(o, path, window, as);
                case FILE_OP_MKDIR -> mkdir(o, path, as);
                default -> throw new Failure(FileError.FILE_ERROR_INVALID, "unknown file op " + o.getOpValue());
            }
        } catch (Failure f) {
            failed(id, f.error, f.getMessage());
        } catch (IOException e) {
            Failure f = classify(e, o.getPath());
            failed(id, f.error, f.getMessage());
        } catch (RuntimeException e) {
            log.warn("file transfer {} failed", id, e);
            failed(id, FileError.FILE_ERROR_IO, "the agent failed: " + e);
        }
    }

    /**
     * Who the files are handled as: the user asked for (empty: the agent's default), under the
     * node's policy exactly as for a task; null for the agent's own user (done here), else the
     * programs that act as that user.
     */
    private UserFiles userFor(String requested) throws Failure {
        try {
            RunAs.Target t = runAs.target(requested);
            return t.agentUser() ? null : new UserFiles(t);
        } catch (RunAs.Refused e) {
            throw new Failure(FileError.FILE_ERROR_REFUSED, e.getMessage());
        }
    }

    /** An absolute path on the node, under {@link #root}; no "." or ".." parts. */
    Path resolve(String p) throws Failure {
        if (p.isEmpty() || p.charAt(0) != '/' || p.length() > 4096 || p.indexOf('\0') >= 0) {
            throw new Failure(FileError.FILE_ERROR_INVALID, "the path must be absolute (start with /): '"
                    + (p.length() > 200 ? p.substring(0, 200) + "…" : p) + "'");
        }
        for (String part : p.split("/")) {
            if (part.equals(".") || part.equals("..")) {
                throw new Failure(FileError.FILE_ERROR_INVALID, "the path may not have . or .. parts: " + p);
            }
        }
        String rel = p.replaceAll("/+", "/").substring(1);
        return rel.isEmpty() ? root : root.resolve(rel);
    }

    /** The path as the hub named it (the simulator's root taken off). */
    private String shown(Path p) {
        if (root.equals(p.getRoot())) {
            return p.toString();
        }
        String rel = root.relativize(p).toString();
        return "/" + rel;
    }

    private record Place(Path target, Path part) {
    }

    private Place place(FileOpen o, Path path) throws Failure {
        Path target = path;
        if (o.getPath().endsWith("/") && !Files.isDirectory(path)) {
            // "into this directory", as cp reads a trailing slash
            throw new Failure(FileError.FILE_ERROR_NOT_FOUND, "no directory " + o.getPath().replaceAll("/+$", "")
                    + " on the node");
        }
        if (Files.isDirectory(path)) {
            String name = o.getName();
            if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..") || name.length() > 255) {
                throw new Failure(FileError.FILE_ERROR_IS_A_DIRECTORY, o.getPath() + " is a directory");
            }
            target = path.resolve(name);
            if (Files.isDirectory(target)) {
                throw new Failure(FileError.FILE_ERROR_IS_A_DIRECTORY, shown(target) + " is a directory");
            }
        }
        Path dir = target.getParent();
        if (dir == null || !Files.exists(dir)) {
            throw new Failure(FileError.FILE_ERROR_NOT_FOUND, "no directory " + (dir == null ? "/" : shown(dir))
                    + " on the node");
        }
        if (!Files.isDirectory(dir)) {
            throw new Failure(FileError.FILE_ERROR_NOT_A_DIRECTORY, shown(dir) + " is not a directory");
        }
        String sha = o.getSha256();
        if (sha.isEmpty() && o.getOp() == FileOp.FILE_OP_PROBE) {
            return new Place(target, null); // a check before the client has hashed the file
        }
        if (!sha.matches("[0-9a-f]{64}")) {
            throw new Failure(FileError.FILE_ERROR_INVALID, "sha256 must be 64 lowercase hex digits");
        }
        return new Place(target, dir.resolve("." + target.getFileName() + ".hubpart-" + sha.substring(0, 16)));
    }

    private void probe(FileOpen o, Path path) throws Failure, IOException {
        long held = 0;
        Place p = place(o, path);
        if (p.part() != null && Files.isRegularFile(p.part(), LinkOption.NOFOLLOW_LINKS)) {
            held = Math.min(Files.size(p.part()), o.getSize());
        }
        long free = Files.getFileStore(p.target().getParent()).getUsableSpace();
        if (o.getSize() - held > free && free > 0) {
            // (a file system that reports 0 free, as /sys does, gets its say when the write opens)
            throw new Failure(FileError.FILE_ERROR_NO_SPACE, "not enough space on the node for "
                    + shown(p.target()) + ": " + Units.bytes(o.getSize() - held) + " to write, "
                    + Units.bytes(free) + " free");
        }
        send(FileStatus.newBuilder().setTransferId(o.getTransferId()).setState(FileState.FILE_STATE_OPENED)
                .setOffset(held));
    }

    private void openWrite(FileOpen o, Path path, long window, UserFiles as) throws Failure, IOException {
        Place p = place(o, path);
        long size = o.getSize();
        long offset = o.getOffset();
        if (size < 0 || offset < 0 || offset > size) {
            throw new Failure(FileError.FILE_ERROR_INVALID, "offset " + Long.toUnsignedString(offset)
                    + " is beyond the file's size " + Long.toUnsignedString(size));
        }
        long held = Files.isRegularFile(p.part(), LinkOption.NOFOLLOW_LINKS) ? Files.size(p.part()) : 0;
        if (offset > held) {
            throw new Failure(FileError.FILE_ERROR_INVALID, "the node holds " + held + " bytes of this file, not "
                    + offset + ": probe again and resume from there");
        }
        if (as != null) {
            openWriteAs(o, p, offset, held, window, as);
            return;
        }
        FileChannel ch = FileChannel.open(p.part(), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        try {
            // One writer per partial file: another copy of the same file to the same path (two
            // clients, or nodes sharing a file system) would interleave with this one.
            java.nio.channels.FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new Failure(FileError.FILE_ERROR_BUSY, "another copy of this file to " + shown(p.target())
                        + " is in progress on the node; retry when it has ended");
            }
            long free = Files.getFileStore(p.part()).getUsableSpace();
            if (size - offset > free) {
                ch.close();
                if (held == 0) {
                    Files.deleteIfExists(p.part());
                }
                throw new Failure(FileError.FILE_ERROR_NO_SPACE, "not enough space on the node for "
                        + shown(p.target()) + ": " + Units.bytes(size - offset) + " to write, "
                        + Units.bytes(free) + " free");
            }
            ch.truncate(offset);
            MessageDigest digest = sha256();
            hashPrefix(ch, offset, digest);
            ch.position(offset);
            Write w = new Write(o, p.target(), p.part(), ch, null, null, digest, offset, window);
            open.put(w.id, w);
        } catch (IOException | RuntimeException | Failure e) {
            ch.close();
            throw e;
        }
        send(FileStatus.newBuilder().setTransferId(o.getTransferId()).setState(FileState.FILE_STATE_OPENED)
                .setOffset(offset));
    }

    /** A write as another user: dd, running as that user, writes the partial file; the agent hashes. */
    private void openWriteAs(FileOpen o, Place p, long offset, long held, long window, UserFiles as)
            throws Failure, IOException {
        long free = Files.getFileStore(p.target().getParent()).getUsableSpace();
        if (o.getSize() - offset > free) {
            throw new Failure(FileError.FILE_ERROR_NO_SPACE, "not enough space on the node for "
                    + shown(p.target()) + ": " + Units.bytes(o.getSize() - offset) + " to write, "
                    + Units.bytes(free) + " free");
        }
        MessageDigest digest = sha256();
        if (offset > 0) {
            try (FileChannel ch = FileChannel.open(p.part(), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
                hashPrefix(ch, offset, digest);
            }
        }
        Process dd = as.openWrite(p.part(), offset);
        Write w = new Write(o, p.target(), p.part(), null, as, dd, digest, offset, window);
        open.put(w.id, w);
        send(FileStatus.newBuilder().setTransferId(o.getTransferId()).setState(FileState.FILE_STATE_OPENED)
                .setOffset(offset));
    }

    private static void hashPrefix(FileChannel ch, long length, MessageDigest digest) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(CHUNK);
        long pos = 0;
        while (pos < length) {
            buf.clear().limit((int) Math.min(CHUNK, length - pos));
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new IOException("the partial file ended early");
            }
            buf.flip();
            digest.update(buf);
            pos += n;
        }
    }

    /** A chunk of a write. */
    void data(FileData d) {
        Transfer t = open.get(d.getTransferId());
        if (!(t instanceof Write w)) {
            return; // closed or failed already: the hub is told once
        }
        synchronized (w) {
            if (w.closed) {
                return;
            }
            try {
                if (d.getOffset() != w.position) {
                    throw new Failure(FileError.FILE_ERROR_INVALID, "chunk at offset " + d.getOffset()
                            + ", expected " + w.position);
                }
                if (d.getData().size() > MAX_CHUNK || w.position + d.getData().size() > w.spec.getSize()) {
                    throw new Failure(FileError.FILE_ERROR_INVALID, "more bytes than the file's size "
                            + w.spec.getSize() + " or a chunk over 1 MiB");
                }
                ByteBuffer buf = d.getData().asReadOnlyByteBuffer();
                w.digest.update(buf.duplicate());
                if (w.pipe != null) {
                    try {
                        d.getData().writeTo(w.pipe);
                        w.pipe.flush();
                    } catch (IOException e) {
                        // the writer ended (its stdin broke): what it said, before its streams close
                        String said = UserFiles.stderr(w.writer);
                        w.writer.destroy();
                        throw w.as.failure(said, shown(w.target));
                    }
                } else {
                    while (buf.hasRemaining()) {
                        w.channel.write(buf);
                    }
                }
                w.position += d.getData().size();
                send.accept(AgentMessage.newBuilder().setFileAck(FileAck.newBuilder().setTransferId(w.id)
                        .setOffset(w.position)).build());
                if (d.getLast()) {
                    finishWrite(w);
                }
            } catch (Failure f) {
                abortWrite(w, f.error == FileError.FILE_ERROR_INVALID);
                failed(w.id, f.error, f.getMessage());
            } catch (IOException e) {
                abortWrite(w, false);
                Failure f = classify(e, shown(w.target));
                failed(w.id, f.error, f.getMessage());
            }
        }
    }

    private void finishWrite(Write w) throws Failure, IOException {
        if (w.position != w.spec.getSize()) {
            throw new Failure(FileError.FILE_ERROR_INVALID, "the last chunk ends at " + w.position
                    + ", the file's size is " + w.spec.getSize());
        }
        if (w.pipe != null) {
            w.pipe.close();
            w.as.awaitSuccess(w.writer, shown(w.target));
        } else {
            w.channel.force(false);
            w.channel.close();
        }
        w.closed = true;
        open.remove(w.id);
        String sha = HexFormat.of().formatHex(w.digest.digest());
        if (!sha.equals(w.spec.getSha256())) {
            Files.deleteIfExists(w.part);
            throw new Failure(FileError.FILE_ERROR_HASH_MISMATCH, "the bytes written hash to " + sha + ", not "
                    + w.spec.getSha256() + "; nothing was kept");
        }
        if (w.as != null) {
            try {
                w.as.commit(w.part, w.target, w.spec.getMode() == 0 ? 0644 : w.spec.getMode() & 0777,
                        w.spec.getModifiedUnixMillis(), shown(w.target));
            } catch (IOException | Failure e) {
                Files.deleteIfExists(w.part);
                throw e;
            }
            send(FileStatus.newBuilder().setTransferId(w.id).setState(FileState.FILE_STATE_DONE)
                    .setSize(w.position).setSha256(sha).setPath(shown(w.target)).setMode(w.spec.getMode()));
            log.info("wrote {} as {} ({} bytes, sha256 {})", shown(w.target), w.as.user(), w.position, sha);
            return;
        }
        try {
            setAttributes(w.part, w.spec.getMode(), 0644, w.spec.getOwner(), w.spec.getGroup());
            if (w.spec.getModifiedUnixMillis() > 0) {
                Files.setLastModifiedTime(w.part, FileTime.fromMillis(w.spec.getModifiedUnixMillis()));
            }
            Files.move(w.part, w.target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | Failure e) {
            Files.deleteIfExists(w.part);
            throw e;
        }
        send(FileStatus.newBuilder().setTransferId(w.id).setState(FileState.FILE_STATE_DONE)
                .setSize(w.position).setSha256(sha).setPath(shown(w.target)).setMode(w.spec.getMode()));
        log.info("wrote {} ({} bytes, sha256 {})", shown(w.target), w.position, sha);
    }

    private void abortWrite(Write w, boolean discard) {
        w.closed = true;
        open.remove(w.id);
        try {
            closeSink(w);
            if (discard) {
                Files.deleteIfExists(w.part);
            }
        } catch (IOException e) {
            log.debug("closing {}: {}", w.part, e.toString());
        }
    }

    /** Closes where a write's bytes go; a writer running as a user keeps what it wrote (a resume). */
    private static void closeSink(Write w) throws IOException {
        if (w.pipe != null) {
            try {
                w.pipe.close();
                w.writer.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                w.writer.destroy();
            }
        } else {
            w.channel.close();
        }
    }

    private static void setAttributes(Path p, int mode, int defaultMode, String owner, String group)
            throws IOException, Failure {
        Files.setPosixFilePermissions(p, permissions(mode == 0 ? defaultMode : mode));
        PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        var users = p.getFileSystem().getUserPrincipalLookupService();
        try {
            if (!owner.isEmpty()) {
                view.setOwner(users.lookupPrincipalByName(owner));
            }
            if (!group.isEmpty()) {
                view.setGroup(users.lookupPrincipalByGroupName(group));
            }
        } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
            throw new Failure(FileError.FILE_ERROR_INVALID, "no user or group '" + e.getName() + "' on the node");
        }
    }

    private static void daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
    }

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] all = PosixFilePermission.values(); // OWNER_READ … OTHERS_EXECUTE
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

    private void mkdir(FileOpen o, Path path, UserFiles as) throws Failure, IOException {
        if (Files.exists(path) && !Files.isDirectory(path)) {
            throw new Failure(FileError.FILE_ERROR_NOT_A_DIRECTORY, o.getPath() + " exists and is not a directory");
        }
        if (as != null) {
            as.mkdir(path, o.getMode() == 0 ? 0755 : o.getMode() & 0777, o.getPath());
            send(FileStatus.newBuilder().setTransferId(o.getTransferId()).setState(FileState.FILE_STATE_DONE)
                    .setPath(o.getPath()));
            return;
        }
        Files.createDirectories(path);
        if (o.getMode() != 0 || !o.getOwner().isEmpty() || !o.getGroup().isEmpty()) {
            setAttributes(path, o.getMode(), 0755, o.getOwner(), o.getGroup());
        }
        send(FileStatus.newBuilder().setTransferId(o.getTransferId()).setState(FileState.FILE_STATE_DONE)
                .setPath(o.getPath()));
    }

    private void openRead(FileOpen o, Path path, long window, UserFiles as) throws Failure, IOException {
        if (as != null) {
            openReadAs(o, path, window, as);
            return;
        }
        if (Files.isDirectory(path)) {
            throw new Failure(FileError.FILE_ERROR_IS_A_DIRECTORY, o.getPath() + " is a directory (copy it with -r)");
        }
        PosixFileAttributes a = Files.readAttributes(path, PosixFileAttributes.class);
        if (!a.isRegularFile()) {
            throw new Failure(FileError.FILE_ERROR_INVALID, o.getPath() + " is not a regular file");
        }
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        long size;
        try {
            size = ch.size();
            if (o.getOffset() > size) {
                throw new Failure(FileError.FILE_ERROR_INVALID, "offset " + o.getOffset() + " is beyond the end of "
                        + o.getPath() + " (" + size + " bytes)");
            }
        } catch (IOException | Failure e) {
            ch.close();
            throw e;
        }
        Read r = new Read(o.getTransferId(), window, o.getOffset());
        open.put(r.id, r);
        send(FileStatus.newBuilder().setTransferId(r.id).setState(FileState.FILE_STATE_OPENED)
                .setOffset(o.getOffset()).setSize(size).setMode(mode(a.permissions()))
                .setOwner(a.owner().getName()).setGroup(a.group().getName())
                .setModifiedUnixMillis(a.lastModifiedTime().toMillis()).setPath(o.getPath()));
        long offset = o.getOffset();
        daemon("file-read-" + r.id, () -> {
            try (ch) {
                MessageDigest digest = sha256();
                hashPrefix(ch, offset, digest);
                ByteBuffer buf = ByteBuffer.allocate(CHUNK);
                long pos = offset;
                do {
                    buf.clear().limit((int) Math.min(CHUNK, size - pos));
                    int n = 0;
                    while (buf.hasRemaining()) {
                        int k = ch.read(buf, pos + n);
                        if (k < 0) {
                            throw new Failure(FileError.FILE_ERROR_CHANGED, o.getPath()
                                    + " became shorter while it was read");
                        }
                        n += k;
                    }
                    buf.flip();
                    digest.update(buf.duplicate());
                    if (!sendChunk(r, pos, ByteString.copyFrom(buf), pos + n == size)) {
                        return;
                    }
                    pos += n;
                } while (pos < size);
                finishRead(r, size, HexFormat.of().formatHex(digest.digest()));
            } catch (Failure | IOException | InterruptedException e) {
                readFailed(r, e, o.getPath());
            }
        });
    }

    /** A read as another user: cat, running as that user, reads the file; the agent hashes and sends. */
    private void openReadAs(FileOpen o, Path path, long window, UserFiles as) throws Failure, IOException {
        UserFiles.Stat st = as.stat(path, o.getPath());
        if (st.directory()) {
            throw new Failure(FileError.FILE_ERROR_IS_A_DIRECTORY, o.getPath() + " is a directory (copy it with -r)");
        }
        if (!st.regular()) {
            throw new Failure(FileError.FILE_ERROR_INVALID, o.getPath() + " is not a regular file");
        }
        long size = st.size();
        if (o.getOffset() > size) {
            throw new Failure(FileError.FILE_ERROR_INVALID, "offset " + o.getOffset() + " is beyond the end of "
                    + o.getPath() + " (" + size + " bytes)");
        }
        Process cat = as.openRead(path);
        Read r = new Read(o.getTransferId(), window, o.getOffset());
        open.put(r.id, r);
        send(FileStatus.newBuilder().setTransferId(r.id).setState(FileState.FILE_STATE_OPENED)
                .setOffset(o.getOffset()).setSize(size).setMode(st.mode()).setOwner(st.owner()).setGroup(st.group())
                .setModifiedUnixMillis(st.modifiedMillis()).setPath(o.getPath()));
        long offset = o.getOffset();
        daemon("file-read-" + r.id, () -> {
            try (java.io.InputStream in = cat.getInputStream()) {
                MessageDigest digest = sha256();
                byte[] buf = new byte[CHUNK];
                long pos = 0; // from the start: the part before offset is hashed, not sent
                do {
                    int want = (int) Math.min(CHUNK, pos < offset ? offset - pos : size - pos);
                    int n = in.readNBytes(buf, 0, want);
                    if (n < want) {
                        throw n == 0 && pos < size && cat.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)
                                && cat.exitValue() != 0 ? as.failure(UserFiles.stderr(cat), o.getPath())
                                : new Failure(FileError.FILE_ERROR_CHANGED, o.getPath()
                                        + " became shorter while it was read");
                    }
                    digest.update(buf, 0, n);
                    if (pos >= offset && !sendChunk(r, pos, ByteString.copyFrom(buf, 0, n), pos + n == size)) {
                        return;
                    }
                    pos += n;
                } while (pos < size);
                finishRead(r, size, HexFormat.of().formatHex(digest.digest()));
            } catch (Failure | IOException | InterruptedException e) {
                readFailed(r, e, o.getPath());
            } finally {
                cat.destroy();
            }
        });
    }

    /** A reader thread's end by failure: the hub is told why, unless the transfer was closed (interrupted). */
    private void readFailed(Read r, Exception e, String path) {
        endRead(r);
        if (e instanceof Failure f) {
            failed(r.id, f.error, f.getMessage());
        } else if (e instanceof IOException io) {
            Failure f = classify(io, path);
            failed(r.id, f.error, f.getMessage());
        }
    }

    /** Sends a chunk once the window allows; false when the transfer was closed meanwhile. */
    private boolean sendChunk(Read r, long pos, ByteString data, boolean last) throws InterruptedException {
        synchronized (r) {
            while (!r.closed && pos + data.size() - r.acked > r.window) {
                r.wait();
            }
            if (r.closed) {
                return false;
            }
        }
        send.accept(AgentMessage.newBuilder().setFileData(FileData.newBuilder().setTransferId(r.id)
                .setOffset(pos).setData(data).setLast(last)).build());
        return true;
    }

    private void finishRead(Read r, long size, String sha) {
        if (endRead(r)) {
            send(FileStatus.newBuilder().setTransferId(r.id).setState(FileState.FILE_STATE_DONE).setSize(size)
                    .setSha256(sha));
        }
    }

    /** Ends a read; false when it was closed already. */
    private boolean endRead(Read r) {
        open.remove(r.id);
        synchronized (r) {
            boolean was = r.closed;
            r.closed = true;
            r.notifyAll();
            return !was;
        }
    }

    private void openList(FileOpen o, Path path, long window, UserFiles as) throws Failure, IOException {
        if (as != null) {
            openListAs(o, path, window, as);
            return;
        }
        if (!Files.isDirectory(path)) {
            throw Files.exists(path) ? new Failure(FileError.FILE_ERROR_NOT_A_DIRECTORY, o.getPath()
                    + " is not a directory") : new Failure(FileError.FILE_ERROR_NOT_FOUND, "no " + o.getPath()
                    + " on the node");
        }
        Read r = new Read(o.getTransferId(), window, 0);
        open.put(r.id, r);
        send(FileStatus.newBuilder().setTransferId(r.id).setState(FileState.FILE_STATE_OPENED).setPath(o.getPath()));
        daemon("file-list-" + r.id, () -> {
            var lister = new Lister(r, path);
            try {
                Files.walkFileTree(path, lister);
                lister.flush(true);
                finishRead(r, lister.sent, "");
            } catch (Lister.Stopped s) {
                endRead(r);
            } catch (IOException e) {
                endRead(r);
                Failure f = classify(e, o.getPath());
                failed(r.id, f.error, f.getMessage());
            }
        });
    }

    /** A listing as another user: find, running as that user, walks the tree. */
    private void openListAs(FileOpen o, Path path, long window, UserFiles as) throws Failure, IOException {
        if (!as.stat(path, o.getPath()).directory()) {
            throw new Failure(FileError.FILE_ERROR_NOT_A_DIRECTORY, o.getPath() + " is not a directory");
        }
        Process find = as.list(path);
        Read r = new Read(o.getTransferId(), window, 0);
        open.put(r.id, r);
        send(FileStatus.newBuilder().setTransferId(r.id).setState(FileState.FILE_STATE_OPENED).setPath(o.getPath()));
        daemon("file-list-" + r.id, () -> {
            var lister = new Lister(r, path);
            try (java.io.InputStream in = new java.io.BufferedInputStream(find.getInputStream())) {
                String[] f = new String[7];
                while (true) {
                    for (int i = 0; i < 7; i++) {
                        f[i] = field(in);
                        if (f[i] == null) {
                            lister.flush(true);
                            finishRead(r, lister.sent, "");
                            return;
                        }
                    }
                    String type = switch (f[0]) {
                        case "f" -> "file";
                        case "d" -> "directory";
                        case "l" -> "symlink";
                        default -> "other";
                    };
                    long mtime = (long) (Double.parseDouble(f[5]) * 1000);
                    lister.line(f[6], type, type.equals("file") ? Long.parseLong(f[1]) : 0,
                            Integer.parseInt(f[2], 8), f[3], f[4], mtime);
                }
            } catch (Lister.Stopped s) {
                endRead(r);
            } catch (IOException | RuntimeException e) {
                endRead(r);
                failed(r.id, FileError.FILE_ERROR_IO, o.getPath() + ": the listing failed: " + e.getMessage());
            } finally {
                find.destroy();
            }
        });
    }

    /** The next NUL-ended field of find's output, or null at its end. */
    private static String field(java.io.InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(64);
        int c;
        while ((c = in.read()) > 0) {
            b.write(c);
            if (b.size() > 8192) {
                throw new IOException("a field of over 8 KiB");
            }
        }
        if (c < 0 && b.size() == 0) {
            return null;
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    /** Walks a tree into JSON lines, sent in chunks under the window. */
    private final class Lister extends SimpleFileVisitor<Path> {
        static final class Stopped extends IOException {
        }

        final Read r;
        final Path top;
        final ByteArrayOutputStream buf = new ByteArrayOutputStream(CHUNK + 4096);
        long sent;

        Lister(Read r, Path top) {
            this.r = r;
            this.top = top;
        }

        @Override
        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
            if (!dir.equals(top)) {
                entry(dir, "directory");
            }
            return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
            entry(file, attrs.isRegularFile() ? "file" : attrs.isSymbolicLink() ? "symlink" : "other");
            return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
            if (file.equals(top)) {
                throw exc;
            }
            line(top.relativize(file).toString(), "unreadable", 0, 0, "", "", 0);
            return FileVisitResult.CONTINUE;
        }

        void entry(Path p, String type) throws IOException {
            PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            line(top.relativize(p).toString(), type, a.isRegularFile() ? a.size() : 0, mode(a.permissions()),
                    a.owner().getName(), a.group().getName(), a.lastModifiedTime().toMillis());
        }

        void line(String rel, String type, long size, int mode, String owner, String group, long mtime)
                throws IOException {
            String s = "{\"path\":" + Json.quote(rel) + ",\"type\":\"" + type + "\",\"size\":" + size
                    + ",\"mode\":" + mode + ",\"owner\":" + Json.quote(owner) + ",\"group\":" + Json.quote(group)
                    + ",\"mtime\":" + mtime + "}\n";
            buf.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            if (buf.size() >= CHUNK) {
                flush(false);
            }
        }

        void flush(boolean last) throws IOException {
            ByteString data = ByteString.copyFrom(buf.toByteArray());
            buf.reset();
            try {
                if (!sendChunk(r, sent, data, last)) {
                    throw new Stopped();
                }
            } catch (InterruptedException e) {
                throw new Stopped();
            }
            sent += data.size();
        }
    }

    /** The hub passed on a read's bytes up to an offset. */
    void ack(FileAck a) {
        if (open.get(a.getTransferId()) instanceof Read r) {
            synchronized (r) {
                if (a.getOffset() > r.acked) {
                    r.acked = a.getOffset();
                    r.notifyAll();
                }
            }
        }
    }

    /** The hub gave a transfer up: a read stops, a write keeps its partial file for a resume. */
    void close(String id, String reason) {
        Transfer t = open.remove(id);
        if (t != null) {
            log.info("file transfer {} closed by the hub: {}", id, reason);
            stop(t);
        }
    }

    private static void stop(Transfer t) {
        synchronized (t) {
            t.closed = true;
            t.notifyAll();
            if (t instanceof Write w) {
                try {
                    closeSink(w);
                } catch (IOException e) {
                    log.debug("closing {}: {}", w.part, e.toString());
                }
            }
        }
    }

    /** The stream ended: every transfer ends (a write keeps its partial file). */
    void streamEnded() {
        for (String id : open.keySet()) {
            Transfer t = open.remove(id);
            if (t != null) {
                stop(t);
            }
        }
    }

    @Override
    public void close() {
        streamEnded();
    }

    private void failed(String id, FileError error, String message) {
        send(FileStatus.newBuilder().setTransferId(id).setState(FileState.FILE_STATE_FAILED).setError(error)
                .setMessage(message.length() > 1000 ? message.substring(0, 1000) + "…" : message));
    }

    private void send(FileStatus.Builder s) {
        send.accept(AgentMessage.newBuilder().setFileStatus(s).build());
    }

    /** An I/O failure as the protocol's error, with a message naming the path. */
    Failure classify(IOException e, String path) {
        String reason = e instanceof FileSystemException fse && fse.getReason() != null ? fse.getReason()
                : String.valueOf(e.getMessage());
        if (e instanceof NoSuchFileException) {
            return new Failure(FileError.FILE_ERROR_NOT_FOUND, "no such file or directory: " + path);
        }
        if (e instanceof AccessDeniedException || reason.contains("Operation not permitted")
                || reason.contains("Read-only file system") || reason.contains("Permission denied")) {
            return new Failure(FileError.FILE_ERROR_PERMISSION_DENIED, "permission denied: " + path
                    + (reason.contains("Read-only") ? " (read-only file system)" : ""));
        }
        if (reason.contains("No space left") || reason.contains("Disk quota exceeded")) {
            return new Failure(FileError.FILE_ERROR_NO_SPACE, "no space left on the node's disk for " + path);
        }
        if (e instanceof NotDirectoryException || reason.contains("Not a directory")) {
            return new Failure(FileError.FILE_ERROR_NOT_A_DIRECTORY, "not a directory: " + path);
        }
        if (reason.contains("Is a directory")) {
            return new Failure(FileError.FILE_ERROR_IS_A_DIRECTORY, path + " is a directory");
        }
        return new Failure(FileError.FILE_ERROR_IO, path + ": " + reason);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Byte counts for messages. */
    static final class Units {
        static String bytes(long n) {
            if (n < 1024) {
                return n + " B";
            }
            String[] u = {"KiB", "MiB", "GiB", "TiB", "PiB"};
            double v = n;
            int i = -1;
            while (v >= 1024 && i < u.length - 1) {
                v /= 1024;
                i++;
            }
            return String.format(java.util.Locale.ROOT, "%.1f %s", v, u[i]);
        }

        private Units() {
        }
    }

    /** JSON string quoting for listings. */
    static final class Json {
        static String quote(String s) {
            StringBuilder b = new StringBuilder(s.length() + 2).append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    default -> {
                        if (c < 0x20) {
                            b.append(String.format("\\u%04x", (int) c));
                        } else {
                            b.append(c);
                        }
                    }
                }
            }
            return b.append('"').toString();
        }

        private Json() {
        }
    }
}

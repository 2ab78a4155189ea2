package hub.agent;

import hub.proto.agent.v1.FileError;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * File operations as another local user than the agent's ({@code hubctl cp --user}, or a node
 * whose policy runs tasks as someone else by default): each is a coreutils program started through
 * {@code runuser -u USER --}, so the kernel checks every open, write and rename against that user,
 * exactly as for a task. The agent (root) only moves the bytes through pipes and hashes them.
 */
final class UserFiles {
    private final String runuser;
    private final String user;

    UserFiles(RunAs.Target target) {
        this.runuser = target.runuser();
        this.user = target.user();
    }

    String user() {
        return user;
    }

    /** Starts {@code argv} as the user; stderr is kept for {@link #failure}. */
    Process start(String... argv) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(runuser, "-u", user, "--"));
        cmd.addAll(List.of(argv));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/local/bin:/usr/bin:/bin");
        pb.environment().put("LC_ALL", "C"); // error messages the agent can read
        return pb.start();
    }

    /** Runs {@code argv} as the user to its end; its stdout, or the failure its stderr describes. */
    String run(String path, String... argv) throws IOException, FileTransfers.Failure {
        Process p = start(argv);
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        awaitSuccess(p, path);
        return new String(out, StandardCharsets.UTF_8);
    }

    /** Waits for a program and turns a failure into the protocol's error. */
    void awaitSuccess(Process p, String path) throws IOException, FileTransfers.Failure {
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new FileTransfers.Failure(FileError.FILE_ERROR_IO, path + ": " + p.info().command()
                        .orElse("a helper") + " did not finish in 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted");
        }
        if (p.exitValue() != 0) {
            throw failure(stderr(p), path);
        }
    }

    static String stderr(Process p) {
        try (InputStream err = p.getErrorStream()) {
            return new String(err.readNBytes(4096), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "";
        }
    }

    /** What coreutils said, as the protocol's error, naming the path and the user. */
    FileTransfers.Failure failure(String stderr, String path) {
        String s = stderr.toLowerCase(java.util.Locale.ROOT);
        if (s.contains("permission denied") || s.contains("operation not permitted") || s.contains("read-only")) {
            return new FileTransfers.Failure(FileError.FILE_ERROR_PERMISSION_DENIED, "permission denied: " + path
                    + " (as " + user + ")");
        }
        if (s.contains("no such file")) {
            return new FileTransfers.Failure(FileError.FILE_ERROR_NOT_FOUND, "no such file or directory: " + path);
        }
        if (s.contains("no space left") || s.contains("quota")) {
            return new FileTransfers.Failure(FileError.FILE_ERROR_NO_SPACE, "no space left on the node's disk for "
                    + path);
        }
        if (s.contains("is a directory")) {
            return new FileTransfers.Failure(FileError.FILE_ERROR_IS_A_DIRECTORY, path + " is a directory");
        }
        if (s.contains("not a directory")) {
            return new FileTransfers.Failure(FileError.FILE_ERROR_NOT_A_DIRECTORY, "not a directory: " + path);
        }
        return new FileTransfers.Failure(FileError.FILE_ERROR_IO, path + ": "
                + (stderr.isEmpty() ? "failed as " + user : stderr.lines().findFirst().orElse(stderr)));
    }

    /** A file's facts as the user sees them (following links). */
    record Stat(long size, int mode, String owner, String group, long modifiedMillis, boolean regular,
            boolean directory) {
    }

    Stat stat(Path p, String shown) throws IOException, FileTransfers.Failure {
        String[] f = run(shown, "stat", "-L", "-c", "%s|%a|%U|%G|%Y|%F", "--", p.toString()).strip().split("\\|", 6);
        if (f.length != 6) {
            throw new FileTransfers.Failure(FileError.FILE_ERROR_IO, shown + ": stat gave no answer");
        }
        return new Stat(Long.parseLong(f[0]), Integer.parseInt(f[1], 8) & 0777, f[2], f[3],
                Long.parseLong(f[4]) * 1000, f[5].startsWith("regular"), f[5].equals("directory"));
    }

    /** A writer of {@code part} from {@code offset} on (what is after it is cut off): dd, fed on its stdin. */
    Process openWrite(Path part, long offset) throws IOException {
        return start("dd", "of=" + part, "bs=1M", "seek=" + offset, "oflag=seek_bytes", "status=none");
    }

    /** Gives the partial file its mode (and time), then renames it over the target, as the user. */
    void commit(Path part, Path target, int mode, long modifiedMillis, String shown)
            throws IOException, FileTransfers.Failure {
        run(shown, "sh", "-c", "chmod \"$1\" -- \"$2\" && { [ \"$3\" = 0 ] || touch -d \"@$3\" -- \"$2\"; } "
                + "&& mv -f -- \"$2\" \"$4\"", "sh", String.format("%o", mode), part.toString(),
                Long.toString(modifiedMillis / 1000), target.toString());
    }

    /** The whole file on stdout. */
    Process openRead(Path p) throws IOException {
        return start("cat", "--", p.toString());
    }

    void mkdir(Path p, int mode, String shown) throws IOException, FileTransfers.Failure {
        run(shown, "mkdir", "-p", "-m", String.format("%o", mode), "--", p.toString());
    }

    /** The tree under {@code p}: type, size, mode, owner, group, mtime, relative path, each NUL-ended. */
    Process list(Path p) throws IOException {
        return start("find", p.toString(), "-mindepth", "1", "-printf", "%y\\0%s\\0%m\\0%u\\0%g\\0%T@\\0%P\\0");
    }
}

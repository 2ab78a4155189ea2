package hub.hubctl;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Arrays;

/**
 * Streams bytes to a task's stdin through the hub ({@code POST /api/v1/tasks/{id}/stdin?seq=N}):
 * chunk by chunk, each answered once the remote process has taken it, so a process that does not
 * read holds its sender back (flow control end to end) and nothing is buffered past one chunk.
 * A chunk the hub could not hand on yet (503, the hub restarting, the node reconnecting) is sent
 * again with the same number, and the agent never writes it twice. EOF closes the remote stdin.
 * When the remote process closes its stdin or ends, sending stops quietly, as ssh does.
 */
final class StdinSender {
    static final int CHUNK = 256 * 1024;

    private final HubClient client;
    private final String taskId;
    private final PrintWriter err;
    private long seq;

    StdinSender(HubClient client, String taskId, PrintWriter err) {
        this.client = client;
        this.taskId = taskId;
        this.err = err;
    }

    /** Sends all of {@code in}, then EOF; returns early when the task takes no more. */
    void send(InputStream in) throws InterruptedException {
        byte[] buf = new byte[CHUNK];
        while (true) {
            int n;
            try {
                n = in.read(buf);
            } catch (IOException e) {
                err.println("hubctl: reading stdin failed: " + e.getMessage() + "; closing the remote stdin");
                err.flush();
                n = -1;
            }
            if (n < 0) {
                post(new byte[0], true);
                return;
            }
            if (n > 0 && !post(Arrays.copyOf(buf, n), false)) {
                return;
            }
        }
    }

    /** One chunk, sent until the hub takes it; false when the task takes no more input. */
    private boolean post(byte[] data, boolean eof) throws InterruptedException {
        seq++;
        String path = "api/v1/tasks/" + HubClient.enc(taskId) + "/stdin?seq=" + seq + (eof ? "&eof=true" : "");
        long backoffMs = 0;
        while (true) {
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedException();
            }
            long started = System.nanoTime();
            try {
                return client.postBytes(path, data);
            } catch (HubctlException e) {
                if (e.exitCode() == ExitCodes.INTERRUPTED) {
                    throw new InterruptedException();
                }
                if (!e.isTransient()) {
                    err.println("hubctl: the hub refused stdin for task " + taskId + ": " + e.getMessage());
                    err.flush();
                    return false;
                }
                // 503 after the hub's wait: the process has not taken it yet, send it again at once;
                // anything quicker (hub restarting, node offline): back off
                boolean waited = System.nanoTime() - started > 1_000_000_000L;
                if (!(waited && e.status() == 503)) {
                    backoffMs = Math.min(Streams.MAX_RETRY_MS, Math.max(250, backoffMs * 2));
                    Thread.sleep(backoffMs);
                }
            }
        }
    }
}

package hub.hubctl;

import java.io.PrintWriter;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Follow modes over the hub's WebSocket streams: keeps one open, and when it ends (hub restart,
 * lost connection, fell behind) opens it again from where it was, with backoff, telling the user
 * once on stderr. Stops on a real error (refused, listener killed, token revoked) with an
 * exception, or when {@code stop} completes.
 */
final class Streams {
    static final long MAX_RETRY_MS = 5000;

    private Streams() {
    }

    /**
     * @param open opens the stream from where the caller is now (it tracks its own position)
     */
    static void follow(PrintWriter err, Supplier<HubSocket> open, CompletableFuture<Void> stop)
            throws InterruptedException {
        long retryMs = 0;
        boolean down = false; // told the user the stream is down, not yet that it is back
        while (!stop.isDone()) {
            HubSocket s;
            try {
                s = open.get();
            } catch (HubctlException e) {
                if (!e.isTransient()) {
                    throw e;
                }
                if (!down) {
                    err.println("hubctl: " + e.getMessage() + "; retrying");
                    err.flush();
                    down = true;
                }
                retryMs = backoff(retryMs);
                Thread.sleep(retryMs);
                continue;
            }
            if (down) {
                err.println("hubctl: reconnected");
                err.flush();
                down = false;
            }
            long openedAt = System.nanoTime();
            HubSocket.End end;
            try {
                CompletableFuture.anyOf(s.ended(), stop).get();
                if (stop.isDone()) {
                    return;
                }
                end = s.await();
            } catch (java.util.concurrent.ExecutionException e) {
                end = s.await(); // the stream failed (surfaces the consumer's exception)
            } finally {
                s.close();
            }
            if (!end.resumable()) {
                throw HubctlException.hub("the hub closed the stream: " + end.reason());
            }
            if (end.code() == 4001) {
                err.println("hubctl: fell behind the hub (" + end.reason() + "); resuming");
                err.flush();
                retryMs = 0;
                continue;
            }
            boolean shortLived = System.nanoTime() - openedAt < 1_000_000_000L;
            if (!down) {
                err.println("hubctl: stream ended (" + describe(end) + "); reconnecting");
                err.flush();
                down = true;
            }
            retryMs = shortLived ? backoff(retryMs) : 250;
            Thread.sleep(retryMs);
        }
    }

    private static long backoff(long retryMs) {
        return Math.min(MAX_RETRY_MS, Math.max(250, retryMs * 2));
    }

    private static String describe(HubSocket.End end) {
        return end.reason() == null || end.reason().isBlank() ? "code " + end.code() : end.reason();
    }
}

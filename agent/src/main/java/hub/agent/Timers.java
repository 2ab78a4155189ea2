package hub.agent;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/** The agent's timer threads. */
final class Timers {
    private Timers() {
    }

    /**
     * Daemon timer threads named {@code name} whose cancelled timers leave the queue at once: a
     * task's timeout and a certificate's renewal are cancelled long before they are due, and kept
     * queued until then each would hold its finished task or ended connection.
     */
    static ScheduledExecutorService create(String name, int threads) {
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(threads, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        timers.setRemoveOnCancelPolicy(true);
        return timers;
    }
}

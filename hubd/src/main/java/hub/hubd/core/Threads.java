package hub.hubd.core;

import java.time.Duration;

/** Helpers for the hub's own long-lived worker threads. */
public final class Threads {
    private Threads() {
    }

    /**
     * Interrupts {@code worker} and waits up to {@code grace} for it to end; the caller's own
     * interrupt status is kept.
     */
    public static void stop(Thread worker, Duration grace) {
        worker.interrupt();
        try {
            worker.join(grace.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

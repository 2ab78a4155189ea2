package hub.hubd.core;

import java.time.Duration;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

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

    /** Daemon threads named {@code name} (one thread) or {@code name-1}, {@code name-2}… (numbered). */
    public static ThreadFactory daemons(String name, boolean numbered) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, numbered ? name + "-" + n.incrementAndGet() : name);
            t.setDaemon(true);
            return t;
        };
    }
}

package hub.hubd.core;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * At most one log line per key per interval: a hostile or broken node that repeats the same
 * mistake a thousand times a second gets one line a minute, which says how many were not logged.
 * Keys are bounded: past {@value #MAX_KEYS} the table is cleared (at worst a few extra lines).
 */
public final class WarnLimiter {
    static final int MAX_KEYS = 10_000;

    private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();
    private final long intervalNanos;
    private final LongSupplier nanoTime;

    private static final class Window {
        volatile long startedNanos;
        final AtomicLong suppressed = new AtomicLong();

        Window(long now) {
            this.startedNanos = now;
        }
    }

    public WarnLimiter(java.time.Duration interval, LongSupplier nanoTime) {
        this.intervalNanos = interval.toNanos();
        this.nanoTime = nanoTime;
    }

    /**
     * Whether to log now for {@code key}: {@code -1} for no, else how many were held back since the
     * last line (0 for the first).
     */
    public long allow(String key) {
        long now = nanoTime.getAsLong();
        if (windows.size() >= MAX_KEYS && !windows.containsKey(key)) {
            windows.clear();
        }
        Window fresh = new Window(now);
        Window w = windows.putIfAbsent(key, fresh);
        if (w == null) {
            return 0;
        }
        synchronized (w) {
            if (now - w.startedNanos >= intervalNanos) {
                w.startedNanos = now;
                return w.suppressed.getAndSet(0);
            }
        }
        w.suppressed.incrementAndGet();
        return -1;
    }

    /** Forgets a key (its node is gone). */
    public void forget(String keyPrefix) {
        windows.keySet().removeIf(k -> k.startsWith(keyPrefix));
    }
}

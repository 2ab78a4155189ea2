package hub.hubd.core;

import java.time.Duration;
import org.slf4j.Logger;

/**
 * One log line per stall of the store, not one per failed request or batch: while the database is
 * full or unreachable every write fails, and a line each (with a stack) buried the cause. The first
 * failure of a kind in a minute is logged with what failed and why (no stack: the cause is the
 * database's own message), later ones in that minute are counted into the next line.
 */
public final class StoreFaults {
    private static final WarnLimiter LIMITER = new WarnLimiter(Duration.ofMinutes(1), System::nanoTime);

    private StoreFaults() {
    }

    /**
     * Starts a fresh window for every kind, so the next failure is logged at once. For tests, which
     * run many hubs in one JVM; a hub process never needs it.
     */
    public static void resetWindow() {
        LIMITER.forget("");
    }

    /**
     * Logs {@code e} (while {@code what} was being done) unless a line for its kind was logged in the
     * last minute; {@code errorId}, when not null, is the id the client was given.
     */
    public static void report(Logger log, String what, StoreException e, String errorId) {
        long held = LIMITER.allow(e.kind().name());
        if (held < 0) {
            return;
        }
        String more = held > 0 ? " (" + held + " more store failures in the last minute not logged)" : "";
        String id = errorId == null ? "" : " (error id " + errorId + ")";
        String cause = LogText.safe(rootMessage(e));
        if (e.kind() == StoreException.Kind.FULL) {
            log.error("the hub's storage is full: {} failed, nothing was written; free space on the hub's disk{}: {}{}",
                    what, id, cause, more);
        } else {
            log.error("the hub's storage did not answer: {} failed{}: {}{}", what, id, cause, more);
        }
    }

    /**
     * Logs a failure of {@code what}: a {@link StoreException} through {@link #report} (rate-limited,
     * no stack), anything else (a bug) as an error with its stack.
     */
    public static void failed(Logger log, String what, RuntimeException e) {
        if (e instanceof StoreException se) {
            report(log, what, se, null);
        } else {
            log.error("{} failed", what, e);
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }
}

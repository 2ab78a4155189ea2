package hub.agent;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Jittered exponential backoff: the n-th delay is drawn uniformly from [d/2, d] where
 * d = min(cap, base * 2^n). The jitter spreads a fleet that lost its hub at the same moment, so
 * the hub is not hit by every agent at once when it comes back. Not thread-safe; one per agent.
 */
public final class Backoff {
    private final long baseMs;
    private final long capMs;
    private int attempt;

    public Backoff(Duration base, Duration cap) {
        this.baseMs = Math.max(1, base.toMillis());
        this.capMs = Math.max(baseMs, cap.toMillis());
    }

    /** The standard agent backoff: 500ms doubling to a 60s cap. */
    public static Backoff standard() {
        return new Backoff(Duration.ofMillis(500), Duration.ofSeconds(60));
    }

    /** The next delay; each call doubles the ceiling until the cap. */
    public Duration next() {
        return next(capMs);
    }

    /** The next delay, with a ceiling of at most {@code cap} (a hub that said it is coming back). */
    public Duration next(Duration cap) {
        return next(Math.max(baseMs, Math.min(capMs, cap.toMillis())));
    }

    private Duration next(long capMs) {
        long ceiling = attempt >= 30 ? capMs : Math.min(capMs, baseMs << attempt);
        attempt++;
        long half = ceiling / 2;
        return Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(ceiling - half + 1));
    }

    /** Back to the shortest delay, after a successful connection. */
    public void reset() {
        attempt = 0;
    }
}

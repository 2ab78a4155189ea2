package hub.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
    @Test
    void doublesWithJitterAndCapsAtSixtySeconds() {
        Backoff b = Backoff.standard();
        long ceiling = 500;
        for (int i = 0; i < 40; i++) {
            long d = b.next().toMillis();
            long expectedCeiling = Math.min(ceiling, 60_000);
            assertThat(d).isBetween(expectedCeiling / 2, expectedCeiling);
            ceiling *= 2;
        }
    }

    @Test
    void aCeilingGivenPerCallHoldsTheDelayBelowIt() {
        Backoff b = Backoff.standard();
        for (int i = 0; i < 20; i++) {
            b.next(); // far into the backoff: the next plain delay would be 30-60 s
        }
        for (int i = 0; i < 50; i++) {
            assertThat(b.next(Duration.ofSeconds(10)).toMillis()).isBetween(5_000L, 10_000L);
        }
        assertThat(b.next().toMillis()).isBetween(30_000L, 60_000L);
        assertThat(b.next(Duration.ofMillis(1)).toMillis()).as("never below the base").isBetween(250L, 500L);
    }

    @Test
    void resetStartsOver() {
        Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(60));
        for (int i = 0; i < 10; i++) {
            b.next();
        }
        b.reset();
        assertThat(b.next().toMillis()).isBetween(50L, 100L);
    }

    @Test
    void jitterSpreadsAFleet() {
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (int i = 0; i < 50; i++) {
            Backoff fresh = Backoff.standard();
            for (int k = 0; k < 8; k++) {
                fresh.next();
            }
            seen.add(fresh.next().toMillis());
        }
        assertThat(seen.size()).as("distinct delays among 50 agents").isGreaterThan(25);
    }
}

package hub.hubd.grpc;

import hub.hubd.core.WarnLimiter;
import hub.hubd.registry.NodeSession.Violation;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Protocol violations by agents: counted by kind ({@code hub_agent_violations_total{kind}}) and
 * logged at most once a minute per node and kind, without a stack trace (the fault is the
 * agent's, not the hub's).
 */
final class Violations {
    private static final Logger log = LoggerFactory.getLogger(Violations.class);

    private final Map<Violation, Counter> counters = new EnumMap<>(Violation.class);
    private final WarnLimiter limiter = new WarnLimiter(Duration.ofMinutes(1), System::nanoTime);

    Violations(MeterRegistry metrics) {
        for (Violation v : Violation.values()) {
            counters.put(v, Counter.builder("hub_agent_violations").tag("kind", v.name().toLowerCase())
                    .description("Agent streams ended because the agent broke the protocol").register(metrics));
        }
    }

    /** Records one violation by {@code who} (a node id, or the peer address before Welcome). */
    void seen(Violation v, String who, String reason) {
        counters.get(v).increment();
        long held = limiter.allow(who + "/" + v);
        if (held >= 0) {
            log.warn("ended the stream of {}: {}{}", who, hub.hubd.core.LogText.safe(reason),
                    held > 0 ? " (and " + held + " more like it in the last minute)" : "");
        }
    }
}

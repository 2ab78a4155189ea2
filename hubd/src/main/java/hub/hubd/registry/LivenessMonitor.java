package hub.hubd.registry;

import hub.hubd.core.Threads;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One scheduler thread that marks nodes offline after 3 missed heartbeats. It checks every half
 * interval (at most once a second), so a silent node is found between 3 and 3.5 intervals after
 * its last heartbeat.
 */
public final class LivenessMonitor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LivenessMonitor.class);

    private final NodeRegistry registry;
    private final ScheduledExecutorService scheduler;
    private final Counter expired;

    public LivenessMonitor(NodeRegistry registry, MeterRegistry metrics) {
        this.registry = registry;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(Threads.daemons("liveness", false));
        this.expired = Counter.builder("hub_nodes_expired")
                .description("Nodes marked offline for missed heartbeats").register(metrics);
    }

    /** Starts the periodic check. */
    public void start() {
        Duration interval = registry.heartbeatInterval();
        long period = Math.max(25, Math.min(1000, interval.toMillis() / 2));
        scheduler.scheduleWithFixedDelay(this::check, period, period, TimeUnit.MILLISECONDS);
    }

    private void check() {
        try {
            int n = registry.expireSilentNodes();
            if (n > 0) {
                expired.increment(n);
                log.info("{} nodes offline: missed heartbeats", n);
            }
        } catch (RuntimeException e) {
            // A scheduled task that throws is never run again: log and keep checking.
            log.error("liveness check failed", e);
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}

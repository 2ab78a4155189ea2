package hub.hubd.registry;

import hub.hubd.core.StoreFaults;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that writes node state to the database. It drains the registry's dirty set in
 * batches, one transaction per batch; while the database is slow or locked only this thread
 * waits, and the set keeps coalescing (at most one pending write per node). A failed batch is put
 * back and retried after a pause that grows to {@link #MAX_BACKOFF}.
 */
public final class WriteBehindWriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WriteBehindWriter.class);
    static final int BATCH = 500;
    static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private final NodeRegistry registry;
    private final NodeRepository repo;
    private final Semaphore wakeup = new Semaphore(0);
    private final Thread thread;
    private final Timer flushTimer;
    private final Counter written;
    private final Counter failures;
    private volatile boolean running = true;

    public WriteBehindWriter(NodeRegistry registry, NodeRepository repo, MeterRegistry metrics) {
        this.registry = registry;
        this.repo = repo;
        Gauge.builder("hub_writebehind_depth", registry, NodeRegistry::dirtyCount)
                .description("Nodes with a pending database write").register(metrics);
        this.flushTimer = Timer.builder("hub_writebehind_flush")
                .description("Time to write one batch of node state").publishPercentiles(0.5, 0.99)
                .register(metrics);
        this.written = Counter.builder("hub_writebehind_written").description("Node rows written")
                .register(metrics);
        this.failures = Counter.builder("hub_writebehind_failures")
                .description("Batches that failed and were requeued").register(metrics);
        this.thread = new Thread(this::run, "write-behind");
        this.thread.setDaemon(true);
        registry.onDirty(wakeup::release);
    }

    /** Starts the writer thread. */
    public void start() {
        thread.start();
    }

    private void run() {
        long backoffMs = 0;
        while (running) {
            try {
                if (backoffMs > 0) {
                    Thread.sleep(backoffMs);
                }
                wakeup.tryAcquire(200, TimeUnit.MILLISECONDS);
                wakeup.drainPermits();
                backoffMs = flushOnce() ? 0 : nextBackoff(backoffMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static long nextBackoff(long current) {
        return Math.min(Math.max(100, current * 2), MAX_BACKOFF.toMillis());
    }

    /**
     * Writes everything pending now, batch by batch.
     *
     * @return false when a batch failed (it has been requeued)
     */
    boolean flushOnce() {
        while (registry.dirtyCount() > 0) {
            List<NodeView> batch = registry.takeDirty(BATCH);
            if (batch.isEmpty()) {
                return true;
            }
            long start = System.nanoTime();
            try {
                repo.updateLive(batch);
                flushTimer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                written.increment(batch.size());
            } catch (RuntimeException e) {
                registry.requeue(batch);
                failures.increment();
                StoreFaults.failed(log, "writing " + batch.size() + " node states (requeued, will retry)", e);
                return false;
            }
        }
        return true;
    }

    /**
     * Flushes what is pending, trying until {@code timeout} passes (shutdown).
     *
     * @return whether everything was written
     */
    public boolean flush(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (System.nanoTime() < deadline) {
                if (flushOnce() && registry.dirtyCount() == 0) {
                    return true;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return registry.dirtyCount() == 0;
    }

    @Override
    public void close() {
        running = false;
        hub.hubd.core.Threads.stop(thread, java.time.Duration.ofSeconds(5));
    }
}

package hub.hubd.tasks;

import hub.hubd.core.StoreFaults;
import hub.hubd.core.Threads;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raw task output kept for its reader: the exact bytes {@code hubctl exec} prints, whatever the
 * history's caps have trimmed since. Ingest stores each chunk here with its history append (and
 * acknowledges after both); a reader pages through it by sequence and releases what it has; what
 * nobody releases goes {@link #retention} after its task ended, or with its node.
 *
 * <p>Bounded per node: one node's unread raw output is at most {@link #maxBytesPerNode}. Past it a
 * task's further chunks are kept as history text only — never silently: the task records from which
 * chunk on, the page a reader gets says so, and {@code hubctl exec} fails with exit 255. The byte
 * counts are kept in memory (loaded once at start), so ingest checks the bound without a query.
 */
public final class RawOutput implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RawOutput.class);
    /** Largest page a reader may ask for. */
    public static final long MAX_PAGE_BYTES = 8L * 1024 * 1024;

    private final TaskOutputStore store;
    private final Clock clock;
    private final Duration retention;
    private final long maxBytesPerNode;
    private final Map<String, AtomicLong> bytesByNode = new ConcurrentHashMap<>();
    private final AtomicLong total = new AtomicLong();
    private final Counter droppedChunks;
    private final ScheduledExecutorService sweeper;

    public RawOutput(TaskOutputStore store, Clock clock, Duration retention, long maxBytesPerNode,
            MeterRegistry metrics) {
        this.store = store;
        this.clock = clock;
        this.retention = retention;
        this.maxBytesPerNode = maxBytesPerNode;
        store.bytesByNode().forEach((node, bytes) -> add(node, bytes));
        Gauge.builder("hub_task_output_bytes", total, AtomicLong::get)
                .description("Raw task output held for its readers, all nodes").register(metrics);
        this.droppedChunks = Counter.builder("hub_task_output_dropped_chunks")
                .description("Output chunks kept as history text only: their node's unread raw output was over "
                        + "--task-output-max-bytes").register(metrics);
        this.sweeper = Executors.newSingleThreadScheduledExecutor(Threads.daemons("task-output-retention", true));
    }

    /** Starts the retention sweep (once the hub has started: a hub that failed to start has none running). */
    public void start() {
        long every = Math.max(1000, Math.min(60_000, retention.toMillis() / 4));
        sweeper.scheduleWithFixedDelay(this::expire, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * A cluster: the hub that ingests a node's output counts it, while its readers may release it
     * through another hub; every {@code every} the counts are read again from the shared store.
     */
    public void resyncEvery(Duration every) {
        sweeper.scheduleWithFixedDelay(this::resync, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Makes the per-node counts the store's (one grouped query). */
    void resync() {
        try {
            Map<String, Long> now = store.bytesByNode();
            long sum = 0;
            for (var e : now.entrySet()) {
                bytesByNode.computeIfAbsent(e.getKey(), k -> new AtomicLong()).set(e.getValue());
                sum += e.getValue();
            }
            bytesByNode.keySet().retainAll(now.keySet());
            total.set(sum);
        } catch (RuntimeException e) {
            StoreFaults.failed(log, "reading the task output counts again (retried)", e);
        }
    }

    private void add(String nodeId, long bytes) {
        bytesByNode.computeIfAbsent(nodeId, k -> new AtomicLong()).addAndGet(bytes);
        total.addAndGet(bytes);
    }

    private void freed(Map<String, Long> freed) {
        freed.forEach((node, bytes) -> add(node, -bytes));
    }

    /** Whether the node may hold {@code bytes} more (ingest lane; {@code bytes} includes its batch so far). */
    boolean admits(String nodeId, long bytes) {
        AtomicLong held = bytesByNode.get(nodeId);
        return (held == null ? 0 : held.get()) + bytes <= maxBytesPerNode;
    }

    /** Stores chunks (ingest lane, before the history append: a failure here means nothing is acknowledged). */
    void store(List<TaskOutputStore.RawChunk> chunks) {
        store.appendAll(chunks).forEach(this::add);
    }

    /** A task's chunks from {@code sequence} on are history text only (ingest lane). */
    void dropped(String nodeId, String taskId, long sequence) {
        droppedChunks.increment();
        store.dropped(taskId, sequence);
        log.warn("task {} of node {}: output from chunk {} on is kept as history text only: the node's unread raw "
                + "output is over --task-output-max-bytes ({} bytes); its reader will be told", taskId, nodeId,
                sequence, maxBytesPerNode);
    }

    /** Counts one more dropped chunk of a task already past the bound. */
    void droppedAgain() {
        droppedChunks.increment();
    }

    /** Whether the task's raw output stopped being kept before (ingest, when it reloads a task). */
    boolean wasDropped(String taskId) {
        return store.end(taskId).droppedFrom() != null;
    }

    /** The task's last chunk, recorded with its result (ingest lane, before the final state). */
    void ended(String taskId, long lastSequence) {
        store.ended(taskId, lastSequence);
    }

    /**
     * A page of a task's raw output.
     *
     * @param chunks   in order
     * @param next     the sequence to ask after next time
     * @param complete the task has ended and this page reaches its end
     * @param missing  chunks after the asked position that are not here any more (released, expired,
     *                 or never kept: see {@code droppedFrom}), skipped by {@code next}; or null
     * @param droppedFrom the first chunk kept as history text only, or null
     */
    public record Page(List<TaskOutputStore.RawChunk> chunks, long next, boolean complete, Range missing,
            Long droppedFrom) {
    }

    /** Sequences {@code from} to {@code to}, both included; {@code to} null while the task runs. */
    public record Range(long from, Long to) {
    }

    /**
     * The chunks of {@code task} after {@code after}: call with the task as read <em>before</em> (so a
     * final task's chunks are all stored). {@code release} first forgets what the reader confirms it
     * has (up to {@code after}).
     */
    public Page read(Task task, long after, long maxBytes, boolean release) {
        if (release && after > 0) {
            freed(store.release(task.id(), after));
        }
        TaskOutputStore.End end = store.end(task.id());
        List<TaskOutputStore.RawChunk> chunks = store.after(task.id(), after, Math.min(maxBytes, MAX_PAGE_BYTES));
        boolean ended = task.state().isFinal();
        long last = end.lastSequence() == null ? 0 : end.lastSequence();
        Range missing = null;
        long next = after;
        if (!chunks.isEmpty()) {
            long first = chunks.get(0).sequence();
            if (first > after + 1) {
                missing = new Range(after + 1, first - 1);
            }
            next = chunks.get(chunks.size() - 1).sequence();
        } else if (ended && last > after) {
            missing = new Range(after + 1, last);
            next = last;
        } else if (!ended && end.droppedFrom() != null && after + 1 >= end.droppedFrom()) {
            missing = new Range(end.droppedFrom(), null); // the rest comes as history text only
        }
        // a task that failed without a result (agent lost, node removed) has no last chunk: complete once drained
        boolean complete = ended && (end.lastSequence() != null ? next >= last : chunks.isEmpty());
        return new Page(chunks, next, complete, missing, end.droppedFrom());
    }

    /** The node was removed: its raw output goes. */
    public void nodeRemoved(String nodeId) {
        store.deleteNode(nodeId);
        AtomicLong held = bytesByNode.remove(nodeId);
        if (held != null) {
            total.addAndGet(-held.get());
        }
    }

    /** Forgets the raw output of tasks that ended longer than the retention ago. */
    void expire() {
        try {
            Map<String, Long> freed = store.expire(clock.millis() - retention.toMillis());
            freed(freed);
            if (!freed.isEmpty()) {
                log.debug("task output retention: freed {} bytes of {} nodes",
                        freed.values().stream().mapToLong(Long::longValue).sum(), freed.size());
            }
        } catch (RuntimeException e) {
            StoreFaults.failed(log, "task output retention (retried next round)", e);
        }
    }

    /** Runs the retention sweep now (tests). */
    public void expireNow() {
        expire();
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        try {
            sweeper.awaitTermination(5, TimeUnit.SECONDS); // a sweep under way ends before the database closes
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

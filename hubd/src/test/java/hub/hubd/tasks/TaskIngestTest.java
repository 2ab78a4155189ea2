package hub.hubd.tasks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.hubd.events.Event;
import hub.hubd.events.EventPublisher;
import hub.hubd.history.HistoryLine;
import hub.hubd.history.HistoryStore;
import hub.hubd.registry.NodeSession;
import hub.hubd.store.Database;
import hub.hubd.store.JdbcHistoryStore;
import hub.hubd.store.JdbcTaskRepository;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ingest against a real SQLite history whose store fails once in the middle: the failed batch is
 * not acknowledged, the agent's stream is closed, and after the agent resends every line is stored
 * exactly once, in order, including lines split across chunks.
 */
class TaskIngestTest {
    @TempDir
    Path dir;
    Database db;
    TaskIngest ingest;

    /** The agent's side: acks and closes. */
    static final class Agent implements NodeSession {
        final AtomicLong acked = new AtomicLong();
        final AtomicInteger closes = new AtomicInteger();

        @Override
        public void drain(String reason) {
        }

        @Override
        public void close(String reason) {
            closes.incrementAndGet();
        }

        @Override
        public void violated(Violation violation, String reason) {
            close(violation + ": " + reason);
        }

        @Override
        public String remoteAddress() {
            return "test";
        }

        @Override
        public boolean runCommand(String taskId, String shellCommand, List<String> argv, long timeoutMillis,
                String runAs, boolean stdin) {
            return true;
        }

        @Override
        public void cancelTask(String taskId, String reason) {
        }

        @Override
        public void ackOutput(String taskId, long sequence) {
            acked.accumulateAndGet(sequence, Math::max);
        }

        @Override
        public void ackResult(String taskId) {
        }
    }

    /** Fails its {@code failOn}-th batch, like a database that hiccups once. */
    static class FailsOnce implements HistoryStore {
        final HistoryStore real;
        final int failOn;
        final AtomicInteger calls = new AtomicInteger();

        FailsOnce(HistoryStore real, int failOn) {
            this.real = real;
            this.failOn = failOn;
        }

        @Override
        public List<Outcome> appendAll(List<Append> appends) {
            if (calls.incrementAndGet() == failOn) {
                throw new hub.hubd.core.StoreException("database error: disk I/O error", null);
            }
            return real.appendAll(appends);
        }

        @Override
        public Outcome appendBlocks(String nodeId, String taskId, long sequence, List<NewBlock> blocks,
                String pendingStdout, String pendingStderr) {
            return appendAll(List.of(new Append(nodeId, taskId, sequence, blocks, pendingStdout, pendingStderr)))
                    .get(0);
        }

        @Override
        public TaskProgress progress(String nodeId, String taskId) {
            return real.progress(nodeId, taskId);
        }

        @Override
        public hub.hubd.history.HistoryPage tail(String nodeId, int n) {
            return real.tail(nodeId, n);
        }

        @Override
        public hub.hubd.history.HistoryPage after(String nodeId, long after, int limit) {
            return real.after(nodeId, after, limit);
        }

        @Override
        public void delete(String nodeId) {
            real.delete(nodeId);
        }
    }

    /**
     * Counts the task events of tasks whose id starts with {@code prefix}: the lane publishes a
     * marker task's start after everything submitted before it.
     */
    static EventPublisher markers(String prefix, AtomicInteger reached) {
        return new EventPublisher() {
            @Override
            public void publish(Event event) {
                if (event instanceof Event.TaskStateChanged t && t.taskId().startsWith(prefix)) {
                    reached.incrementAndGet();
                }
            }

            @Override
            public boolean wants(String type) {
                return true;
            }
        };
    }

    @BeforeEach
    void open() {
        db = Database.open("jdbc:sqlite:" + dir.resolve("h.db"));
    }

    @AfterEach
    void close() {
        if (ingest != null) {
            ingest.close();
        }
        db.close();
    }

    @Test
    void aFailedBatchIsNotAcknowledgedAndTheResendStoresEveryLineOnce() {
        JdbcHistoryStore real = new JdbcHistoryStore(db, 1_000_000, 1L << 30);
        FailsOnce store = new FailsOnce(real, 2);
        // The lane announces each marker task's start after everything submitted before it.
        AtomicInteger markersReached = new AtomicInteger();
        EventPublisher markers = markers("marker-", markersReached);
        JdbcTaskRepository repo = new JdbcTaskRepository(db);
        // Ingest takes messages only about open tasks of the sending node: these are n1's.
        for (int i = 0; i <= 5; i++) {
            repo.insert(new Task(i == 0 ? "t1" : "marker-" + i, "n1", "admin", "true", null, 0, TaskState.SENT, null,
                    null, java.time.Instant.now(), null, null, null, null, null));
        }
        var rawStore = new hub.hubd.store.JdbcTaskOutputStore(db);
        ingest = new TaskIngest(store, repo, null, Clock.systemUTC(), new SimpleMeterRegistry(), markers,
                new RawOutput(rawStore, Clock.systemUTC(), Duration.ofHours(1), 1L << 30, new SimpleMeterRegistry()));
        List<String> expected = IntStream.rangeClosed(1, 3000).mapToObj(i -> "line " + i).toList();
        byte[] all = (String.join("\n", expected) + "\n").getBytes(StandardCharsets.UTF_8);
        List<byte[]> chunks = new ArrayList<>();
        for (int off = 0; off < all.length; off += 97) { // chunk borders fall inside lines
            chunks.add(java.util.Arrays.copyOfRange(all, off, Math.min(all.length, off + 97)));
        }
        Agent agent = new Agent();

        int rounds = 0;
        while (agent.acked.get() < chunks.size()) {
            rounds++;
            assertThat(rounds).as("resend rounds").isLessThan(5);
            for (long seq = agent.acked.get() + 1; seq <= chunks.size(); seq++) {
                ingest.output("n1", agent, "t1", false, seq, chunks.get((int) seq - 1));
            }
            // until the lane has handled all of this round: stored and acked, or failed and closed
            ingest.started("n1", agent, "marker-" + rounds, 0);
            int round = rounds;
            await().atMost(Duration.ofSeconds(20)).until(() -> markersReached.get() == round);
        }

        assertThat(store.calls.get()).isGreaterThan(2);
        assertThat(agent.closes.get()).isEqualTo(1);
        List<String> stored = real.after("n1", 0, 10_000).lines().stream().map(HistoryLine::text).toList();
        assertThat(stored).containsExactlyElementsOf(expected);
        // the raw bytes too, each chunk once (a resend after the failed history append left the raw chunk as it was)
        var rawOut = new java.io.ByteArrayOutputStream();
        var rawChunks = rawStore.after("t1", 0, Long.MAX_VALUE);
        rawChunks.forEach(c -> rawOut.writeBytes(c.data()));
        assertThat(rawChunks).hasSize(chunks.size());
        assertThat(rawOut.toByteArray()).isEqualTo(all);
    }

    /** Blocks every append until released, like a database stuck on a lock or a slow disk. */
    static final class Stalls extends FailsOnce {
        final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);

        Stalls(HistoryStore real) {
            super(real, -1);
        }

        @Override
        public List<Outcome> appendAll(List<Append> appends) {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return super.appendAll(appends);
        }
    }

    @Test
    void aNodeCannotMakeTheHubHoldMoreThanItsByteBoundOfOutput() {
        JdbcHistoryStore real = new JdbcHistoryStore(db, 1_000_000, 1L << 30);
        Stalls store = new Stalls(real);
        JdbcTaskRepository repo = new JdbcTaskRepository(db);
        for (String id : List.of("big", "marker")) {
            repo.insert(new Task(id, "n1", "admin", "true", null, 0, TaskState.SENT, null, null,
                    java.time.Instant.now(), null, null, null, null, null));
        }
        AtomicInteger markerReached = new AtomicInteger();
        EventPublisher marker = markers("marker", markerReached);
        var rawStore = new hub.hubd.store.JdbcTaskOutputStore(db);
        ingest = new TaskIngest(store, repo, null, Clock.systemUTC(), new SimpleMeterRegistry(), marker,
                new RawOutput(rawStore, Clock.systemUTC(), Duration.ofHours(1), 1L << 32, new SimpleMeterRegistry()));
        Agent agent = new Agent();
        byte[] mib = ("y".repeat(1023) + "\n").repeat(1024).getBytes(StandardCharsets.UTF_8);
        int sent = 80; // 80 MiB, the protocol's largest chunks, while the store is stuck
        for (long seq = 1; seq <= sent; seq++) {
            ingest.output("n1", agent, "big", false, seq, mib);
        }
        assertThat(agent.closes.get()).as("the stream is closed once the node's bound is reached").isPositive();
        ingest.started("n1", agent, "marker", 0); // the lane reaches it after everything it took
        store.release.countDown();
        await().atMost(Duration.ofSeconds(60)).until(() -> markerReached.get() == 1);
        long bound = (TaskIngest.NODE_QUEUE_BYTES + TaskIngest.MAX_BATCH_BYTES) / mib.length;
        assertThat(real.progress("n1", "big").lastSequence()).isEqualTo(agent.acked.get());
        assertThat(agent.acked.get()).as("what the hub took: at most its bound, in order").isBetween(
                TaskIngest.NODE_QUEUE_BYTES / mib.length, bound);
    }
}

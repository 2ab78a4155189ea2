package hub.hubd.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The write-behind path: coalescing per node, and nothing lost when the store throws. */
class WriteBehindWriterTest {

    /** A store that records writes and throws while told to. */
    static final class RecordingRepo implements NodeRepository {
        final List<List<NodeView>> batches = new CopyOnWriteArrayList<>();
        final AtomicInteger failuresLeft = new AtomicInteger();

        @Override
        public void updateLive(Collection<NodeView> nodes) {
            if (failuresLeft.getAndDecrement() > 0) {
                throw new hub.hubd.core.StoreException("injected", new java.sql.SQLException("locked"));
            }
            batches.add(new ArrayList<>(nodes));
        }

        @Override
        public List<NodeRecord> loadAll() {
            return List.of();
        }

        @Override
        public List<JoinResult> insertJoined(List<JoinRequest> requests, long nowMillis) {
            throw new UnsupportedOperationException("not used by this test");
        }

        @Override
        public List<NodeView> list(String ownerOrNull) {
            return List.of();
        }

        @Override
        public Optional<NodeView> find(String id) {
            return Optional.empty();
        }

        @Override
        public List<NodeView> findByName(String name) {
            return List.of();
        }

        @Override
        public boolean delete(String id) {
            return false;
        }
    }

    private static NodeRecord record(String id) {
        NodeInfo info = new NodeInfo(id, "n-" + id, "h", "Linux", "amd64", "t", Map.of(), "admin", Instant.EPOCH);
        return new NodeRecord(new NodeView(info, NodeStatus.OFFLINE, null, null, null), "hash-" + id);
    }

    @Test
    void manyChangesOfOneNodeCoalesceIntoOneWriteOfTheLatest() {
        NodeRegistry registry = new NodeRegistry(Clock.systemUTC(), System::nanoTime, Duration.ofSeconds(10));
        RecordingRepo repo = new RecordingRepo();
        WriteBehindWriter writer = new WriteBehindWriter(registry, repo, new SimpleMeterRegistry());
        registry.load(List.of(record("a")));
        RecordingSession s1 = new RecordingSession();
        RecordingSession s2 = new RecordingSession();
        AgentHello hello = new AgentHello("h", "Linux", "amd64", "t", "", Map.of());
        for (int i = 0; i < 100; i++) {
            registry.reconnect("hash-a", hello, s1);
            registry.detach("a", s1, OfflineReason.STREAM_CLOSED);
        }
        registry.reconnect("hash-a", hello, s2);
        assertThat(registry.dirtyCount()).isEqualTo(1);

        assertThat(writer.flush(Duration.ofSeconds(5))).isTrue();
        assertThat(repo.batches).hasSize(1);
        assertThat(repo.batches.get(0)).hasSize(1);
        assertThat(repo.batches.get(0).get(0).status()).isEqualTo(NodeStatus.ONLINE);
    }

    @Test
    void failedWritesAreRequeuedNotLost() {
        NodeRegistry registry = new NodeRegistry(Clock.systemUTC(), System::nanoTime, Duration.ofSeconds(10));
        RecordingRepo repo = new RecordingRepo();
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        WriteBehindWriter writer = new WriteBehindWriter(registry, repo, metrics);
        registry.load(List.of(record("a"), record("b")));
        AgentHello hello = new AgentHello("h", "Linux", "amd64", "t", "", Map.of());
        registry.reconnect("hash-a", hello, new RecordingSession());
        registry.reconnect("hash-b", hello, new RecordingSession());
        repo.failuresLeft.set(2);

        assertThat(writer.flushOnce()).isFalse();
        assertThat(registry.dirtyCount()).as("requeued after a failure").isEqualTo(2);
        assertThat(writer.flush(Duration.ofSeconds(5))).isTrue();
        assertThat(repo.batches.stream().flatMap(List::stream).map(v -> v.info().id()))
                .containsExactlyInAnyOrder("a", "b");
        assertThat(metrics.get("hub_writebehind_failures").counter().count()).isEqualTo(2);
    }
}

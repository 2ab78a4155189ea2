package hub.hubd.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;

/**
 * Presence on the machine's Redis, under a key prefix of its own: two hubs take, lose and move
 * nodes; a hub whose lease runs out loses its nodes to exactly one sweeper, and writes them again
 * when it comes back. Leases are 1 s of Redis's time.
 */
class PresenceTest {
    static final String URL = System.getenv().getOrDefault("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379");
    final String prefix = "hubtest-" + Long.toHexString(System.nanoTime()) + ":";
    final java.time.Clock clock = java.time.Clock.systemUTC();
    final Set<String> heldByA = ConcurrentHashMap.newKeySet();
    RedissonClient redis;
    Presence a;
    Presence b;

    @BeforeEach
    void open() {
        Config c = new Config();
        c.setCodec(StringCodec.INSTANCE);
        c.useSingleServer().setAddress(URL).setConnectionMinimumIdleSize(1).setConnectionPoolSize(4)
                .setRetryAttempts(1);
        try {
            redis = Redisson.create(c);
        } catch (RuntimeException e) {
            if ("true".equals(System.getenv("CI")) || "required".equals(System.getenv("HUB_TEST_SERVICES"))) {
                throw e;
            }
            Assumptions.abort("Redis not reachable and not required: " + e.getMessage());
        }
        a = new Presence(redis, prefix, new Presence.HubInfo("hub-a", "10.0.0.1:9090", "https://10.0.0.1:8080"),
                clock, Duration.ofSeconds(1), () -> heldByA, new SimpleMeterRegistry());
        b = new Presence(redis, prefix, new Presence.HubInfo("hub-b", "10.0.0.2:9090", "https://10.0.0.2:8080"),
                clock, Duration.ofSeconds(1), List::of, new SimpleMeterRegistry());
    }

    @AfterEach
    void close() {
        if (redis != null) {
            redis.getKeys().deleteByPattern(prefix + "*");
            redis.shutdown();
        }
    }

    private void holdOnA(String... ids) {
        for (String id : ids) {
            heldByA.add(id);
            a.held(id);
        }
    }

    @Test
    void nodesAreOnlineOnTheHubThatHoldsThemAndMoveWithoutAStaleRelease() {
        holdOnA("n1", "n2");
        assertThat(a.flush()).isTrue();
        assertThat(b.flush()).isTrue();
        assertThat(b.holders(List.of("n1", "n2", "n3"))).containsExactlyInAnyOrderEntriesOf(
                Map.of("n1", "hub-a", "n2", "hub-a"));
        assertThat(b.liveHubs()).extracting(Presence.HubInfo::grpcAddress)
                .containsExactlyInAnyOrder("10.0.0.1:9090", "10.0.0.2:9090");

        // n1 reconnects to b before a notices its old stream is gone: a's late release must not undo b's.
        b.held("n1");
        b.flush();
        a.released("n1");
        a.flush();
        assertThat(b.holders(List.of("n1"))).containsEntry("n1", "hub-b");

        a.released("n2");
        a.flush();
        assertThat(b.holders(List.of("n2"))).isEmpty();
    }

    @Test
    void aHubPastItsLeaseLosesItsNodesToOneSweeperAndWritesThemAgainWhenItReturns() throws InterruptedException {
        holdOnA("n1", "n2");
        a.flush();
        b.flush();
        assertThat(b.sweep().isEmpty()).as("nobody is late yet").isTrue();

        Thread.sleep(1300); // a is silent past its 1 s lease; b renews
        b.flush();
        assertThat(b.holders(List.of("n1", "n2"))).as("a's lease ran out").isEmpty();
        Presence.Lost lost = b.sweep();
        assertThat(lost.hubs()).containsExactly("hub-a");
        assertThat(lost.nodeToHub()).containsOnlyKeys("n1", "n2");
        assertThat(b.sweep().isEmpty()).as("each lost node is reported once").isTrue();
        assertThat(b.liveHubs()).extracting(Presence.HubInfo::id).containsExactly("hub-b");

        // a was only paused: its next round finds its lease gone and writes its nodes again.
        a.flush();
        a.flush();
        assertThat(b.holders(List.of("n1", "n2"))).containsOnlyKeys("n1", "n2");
    }

    @Test
    void leavingDropsTheLeaseAtOnce() {
        holdOnA("n1");
        a.flush();
        heldByA.remove("n1");
        a.released("n1");
        a.leave();
        assertThat(b.liveHubs()).isEmpty();
        assertThat(b.holders(List.of("n1"))).isEmpty();
    }

    @Test
    void aReconnectStormIsWrittenInRoundsNotOneCallPerNode() {
        for (int i = 0; i < 5000; i++) {
            holdOnA("n" + i);
        }
        assertThat(a.flush()).isTrue();
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            ids.add("n" + i);
        }
        assertThat(b.holders(ids)).hasSize(5000);
    }
}

package hub.hubd.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import hub.hubd.core.HubException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Registry rules with a controlled clock: liveness, replacement, stale sessions, shutdown. */
class NodeRegistryTest {
    private final AtomicLong nanos = new AtomicLong();
    private final NodeRegistry registry = new NodeRegistry(Clock.systemUTC(), nanos::get, Duration.ofSeconds(10));
    private final AgentHello hello = new AgentHello("h", "Linux", "amd64", "t", "", Map.of());

    private void load(String id) {
        NodeInfo info = new NodeInfo(id, id, "h", "Linux", "amd64", "t", Map.of(), "admin", Instant.EPOCH);
        registry.load(List.of(new NodeRecord(new NodeView(info, NodeStatus.OFFLINE, null, null, null), "c-" + id)));
    }

    @Test
    void silentNodeExpiresAfterThreeIntervalsNotBefore() {
        load("a");
        RecordingSession s = new RecordingSession();
        registry.reconnect("c-a", hello, s);
        nanos.addAndGet(Duration.ofSeconds(29).toNanos());
        assertThat(registry.expireSilentNodes()).isZero();
        registry.heartbeat("a", s);
        nanos.addAndGet(Duration.ofSeconds(29).toNanos());
        assertThat(registry.expireSilentNodes()).isZero();
        nanos.addAndGet(Duration.ofSeconds(2).toNanos());
        assertThat(registry.expireSilentNodes()).isEqualTo(1);
        assertThat(registry.get("a").orElseThrow().offlineReason()).isEqualTo(OfflineReason.MISSED_HEARTBEATS);
        assertThat(s.events).containsExactly("close:missed heartbeats");
    }

    @Test
    void newStreamReplacesTheOldOneAndTheOldOneCannotTakeItOffline() {
        load("a");
        RecordingSession old = new RecordingSession();
        RecordingSession fresh = new RecordingSession();
        registry.reconnect("c-a", hello, old);
        registry.reconnect("c-a", hello, fresh);
        assertThat(old.events).containsExactly("close:" + OfflineReason.REPLACED);
        assertThat(registry.detach("a", old, OfflineReason.STREAM_CLOSED)).isFalse();
        assertThat(registry.get("a").orElseThrow().status()).isEqualTo(NodeStatus.ONLINE);
    }

    @Test
    void unknownCredentialIsUnauthenticated() {
        assertThatThrownBy(() -> registry.reconnect("nope", hello, new RecordingSession()))
                .isInstanceOf(HubException.class)
                .extracting(e -> ((HubException) e).kind()).isEqualTo(HubException.Kind.UNAUTHENTICATED);
    }

    @Test
    void aDrainAsksTheFleetToComeBackAtAboutAThousandASecond() {
        assertThat(NodeRegistry.reconnectWindow(1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(NodeRegistry.reconnectWindow(10_000)).isEqualTo(Duration.ofSeconds(10));
        assertThat(NodeRegistry.reconnectWindow(1_000_000)).isEqualTo(Duration.ofMinutes(1));
    }

    @Test
    void drainAllMarksOfflineWithReasonThenDrains() {
        load("a");
        RecordingSession s = new RecordingSession();
        registry.reconnect("c-a", hello, s);
        assertThat(registry.drainAll(OfflineReason.HUB_RESTART)).isEqualTo(1);
        assertThat(s.events).containsExactly("drain:hub restart");
        assertThat(registry.get("a").orElseThrow().offlineReason()).isEqualTo("hub restart");
        // The stream's own close after the drain does not overwrite the reason.
        assertThat(registry.detach("a", s, OfflineReason.STREAM_CLOSED)).isFalse();
        assertThat(registry.get("a").orElseThrow().offlineReason()).isEqualTo("hub restart");
    }

    @Test
    void removedNodeIsForgottenAndDisconnected() {
        load("a");
        RecordingSession s = new RecordingSession();
        registry.reconnect("c-a", hello, s);
        registry.remove("a");
        assertThat(registry.get("a")).isEmpty();
        assertThat(s.events).containsExactly("close:node removed");
        assertThatThrownBy(() -> registry.reconnect("c-a", hello, new RecordingSession())).isInstanceOf(HubException.class);
    }

    @Test
    void aRenameToATakenNameIsNotMadeAndAFreeOneIs() {
        load("a");
        load("b");
        registry.reconnect("c-a", hello.withName("b"), new RecordingSession());
        assertThat(registry.get("a").orElseThrow().info().name()).as("b is taken").isEqualTo("a");
        registry.reconnect("c-a", hello.withName("web"), new RecordingSession());
        assertThat(registry.get("a").orElseThrow().info().name()).isEqualTo("web");
        assertThat(registry.nameTaken("web", null)).isTrue();
        assertThat(registry.nameTaken("a", null)).as("its old name is free again").isFalse();
        registry.remove("a");
        assertThat(registry.nameTaken("web", null)).isFalse();
        assertThat(NodeNames.unique("b", "0123456789abcdef", n -> registry.nameTaken(n, null))).isEqualTo("b-0123");
    }
}

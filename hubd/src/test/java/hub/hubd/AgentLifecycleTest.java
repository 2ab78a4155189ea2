package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import hub.agent.AgentConnection;
import hub.agent.CredentialStore;
import hub.agent.IdentityStore;
import hub.proto.agent.v1.AgentMessage;
import hub.proto.agent.v1.HubMessage;
import hub.proto.agent.v1.OutputStream;
import hub.proto.agent.v1.TaskOutput;
import hub.proto.agent.v1.TaskStarted;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Join, reconnect, liveness and restart, with real agents over loopback gRPC and SQLite. */
class AgentLifecycleTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    TestHub hub;

    @BeforeEach
    void start() {
        hub = new TestHub(dir.resolve("data"), Duration.ofMillis(200));
    }

    @AfterEach
    void stop() throws Exception {
        hub.close();
    }

    @Test
    void agentJoinsAndIsOnlineWithTokenLabelsAndOwner() {
        String token = hub.joinToken(1, "15m", Map.of("role", "web"));
        AgentConnection a = hub.agent("web-1", token);
        await().atMost(WAIT).until(() -> a.nodeId() != null);

        JsonNode n = hub.node(a.nodeId());
        assertThat(n.get("status").asText()).isEqualTo("online");
        assertThat(n.get("name").asText()).isEqualTo("web-1");
        assertThat(n.get("hostname").asText()).isEqualTo("host-web-1");
        assertThat(n.get("owner").asText()).isEqualTo("admin");
        assertThat(n.get("labels").get("role").asText()).isEqualTo("web");
        assertThat(n.get("labels").get("agent").asText()).isEqualTo("yes");
        assertThat(n.get("lastSeen").isNull()).isFalse();
        assertThat(hub.node("web-1").get("id").asText()).isEqualTo(a.nodeId());
        assertThat(hub.get("/api/v1/nodes?status=online").get("items")).hasSize(1);
        assertThat(hub.get("/api/v1/nodes?label=role=web").get("items")).hasSize(1);
        assertThat(hub.get("/api/v1/nodes?label=role=db").get("items")).isEmpty();
        assertThat(hub.get("/api/v1/join-tokens").get("items").get(0).get("usesLeft").asInt()).isZero();
    }

    @Test
    void reconnectWithCredentialKeepsTheIdAndTakesNoTokenUse() {
        String token = hub.joinToken(1, "15m", Map.of());
        IdentityStore creds = IdentityStore.memory();
        AgentConnection first = hub.agent("db-1", creds, token);
        await().atMost(WAIT).until(() -> first.nodeId() != null);
        String id = first.nodeId();
        assertThat(creds.load()).isPresent();
        first.close();
        await().atMost(WAIT).until(() -> hub.node(id).get("status").asText().equals("offline"));

        // The token is used up: only the credential can get this agent back in.
        AgentConnection again = hub.agent("db-1", creds, null);
        await().atMost(WAIT).until(() -> again.connected());
        assertThat(again.nodeId()).isEqualTo(id);
        assertThat(hub.node(id).get("status").asText()).isEqualTo("online");
        assertThat(hub.get("/api/v1/nodes").get("items")).hasSize(1);
    }

    /**
     * A stream's timers (its hello deadline, its certificate's expiry) go with it: cancelled ones
     * stayed queued until they would have run — weeks for a certificate — each holding its ended
     * stream, so an agent that reconnected often grew the hub's heap.
     */
    @Test
    void endedStreamsLeaveNoTimersBehind() {
        IdentityStore creds = IdentityStore.memory();
        AgentConnection[] a = {hub.agent("flappy", creds, hub.joinToken(1, "15m", Map.of()))};
        await().atMost(WAIT).until(() -> a[0].nodeId() != null);
        String id = a[0].nodeId();
        for (int i = 0; i < 5; i++) {
            a[0].close();
            await().atMost(WAIT).until(() -> hub.node(id).get("status").asText().equals("offline"));
            a[0] = hub.agent("flappy", creds, null);
            await().atMost(WAIT).until(() -> a[0].connected());
        }
        // one stream now, with one timer: its certificate's expiry
        await().atMost(WAIT).untilAsserted(() -> assertThat(streamTimers()).isEqualTo(1.0));
        a[0].close();
        await().atMost(WAIT).untilAsserted(() -> assertThat(streamTimers()).isZero());
    }

    private double streamTimers() {
        for (String line : hub.call("GET", "/metrics", null, hub.adminToken()).body().split("\n")) {
            if (line.startsWith("hub_agent_stream_timers ")) {
                return Double.parseDouble(line.substring(line.indexOf(' ') + 1));
            }
        }
        throw new AssertionError("no hub_agent_stream_timers in /metrics");
    }

    @Test
    void closedStreamIsOfflineAtOnceWithReason() {
        AgentConnection a = hub.agent("app-1", hub.joinToken(1, "15m", Map.of()));
        await().atMost(WAIT).until(() -> a.nodeId() != null);
        a.close();
        await().atMost(Duration.ofSeconds(2)).untilAsserted(() -> {
            JsonNode n = hub.node(a.nodeId());
            assertThat(n.get("status").asText()).isEqualTo("offline");
            assertThat(n.get("offlineReason").asText()).isEqualTo("stream closed");
        });
    }

    @Test
    void anAgentBusySendingOutputIsNotOfflineForHoldingItsHeartbeatsBack() throws Exception {
        String token = hub.joinToken(1, "15m", Map.of());
        RawAgent raw = new RawAgent(hub.channel()).send(RawAgent.hello("busy").setJoinToken(token));
        String id = raw.next(WAIT).getWelcome().getNodeId();
        TestHub.Answer t = hub.call("POST", "/api/v1/nodes/" + id + "/tasks", "{\"command\": \"yes\"}", hub.adminToken());
        assertThat(t.status()).as(t.body()).isEqualTo(201);
        String task = raw.next(WAIT).getRunCommand().getTaskId();
        raw.send(AgentMessage.newBuilder().setTaskStarted(TaskStarted
                .newBuilder().setTaskId(task).setStartedAtUnixMillis(System.currentTimeMillis())).build());
        // Output every 100 ms and no heartbeat: online for 2 s (10 intervals of 200 ms) and more.
        java.util.concurrent.ScheduledExecutorService pace = java.util.concurrent.Executors
                .newSingleThreadScheduledExecutor();
        java.util.concurrent.atomic.AtomicLong seq = new java.util.concurrent.atomic.AtomicLong();
        try {
            pace.scheduleAtFixedRate(() -> raw.send(AgentMessage.newBuilder().setTaskOutput(TaskOutput
                    .newBuilder().setTaskId(task).setSequence(seq.incrementAndGet())
                    .setStream(OutputStream.OUTPUT_STREAM_STDOUT)
                    .setData(com.google.protobuf.ByteString.copyFromUtf8("y\n"))).build()),
                    0, 100, java.util.concurrent.TimeUnit.MILLISECONDS);
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4))
                    .until(() -> hub.node(id).get("status").asText().equals("online"));
        } finally {
            pace.shutdownNow();
        }
        assertThat(seq.get()).isGreaterThanOrEqualTo(20);
        assertThat(raw.ended.isDone()).isFalse();
        // Silent from here on: offline after 3 intervals, as any agent.
        await().atMost(WAIT).until(() -> hub.node(id).get("status").asText().equals("offline"));
    }

    @Test
    void silentAgentIsOfflineAfterMissedHeartbeats() throws Exception {
        String token = hub.joinToken(1, "15m", Map.of());
        RawAgent raw = new RawAgent(hub.channel()).send(RawAgent.hello("silent").setJoinToken(token));
        HubMessage welcome = raw.next(WAIT);
        String id = welcome.getWelcome().getNodeId();
        assertThat(welcome.getWelcome().getHeartbeatIntervalMillis()).isEqualTo(200);
        assertThat(welcome.getWelcome().getNodeCredential()).isEmpty(); // over TLS: a certificate instead
        assertThat(welcome.getWelcome().getNodeCertificate().isEmpty()).isFalse();
        raw.heartbeat();
        assertThat(hub.node(id).get("status").asText()).isEqualTo("online");

        // No more heartbeats: offline after 3 intervals (600 ms), and the hub ends the stream.
        await().atMost(WAIT).untilAsserted(() -> {
            JsonNode n = hub.node(id);
            assertThat(n.get("status").asText()).isEqualTo("offline");
            assertThat(n.get("offlineReason").asText()).isEqualTo("missed heartbeats");
        });
        assertThat(raw.ended.get(5, java.util.concurrent.TimeUnit.SECONDS).getCode())
                .isEqualTo(Status.Code.UNAVAILABLE);
    }

    @Test
    void agentThatKeepsHeartbeatingStaysOnline() {
        AgentConnection a = hub.agent("steady", hub.joinToken(1, "15m", Map.of()));
        await().atMost(WAIT).until(() -> a.nodeId() != null);
        // Ten intervals: long past the 3-interval limit, so only heartbeats keep it online.
        long until = System.nanoTime() + Duration.ofMillis(2000).toNanos();
        await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> {
            assertThat(hub.node(a.nodeId()).get("status").asText()).isEqualTo("online");
            return System.nanoTime() > until;
        });
    }

    @Test
    void restartKeepsNodesAndTokensAndTheAgentRejoinsWithItsId() {
        String token = hub.joinToken(2, "15m", Map.of());
        IdentityStore creds = IdentityStore.memory();
        AgentConnection a = hub.agent("keep-1", creds, token);
        await().atMost(WAIT).until(() -> a.nodeId() != null);
        String id = a.nodeId();

        hub.restart();

        // Listed straight after the restart, offline because of it, until the agent is back.
        JsonNode n = hub.node(id);
        assertThat(n.get("name").asText()).isEqualTo("keep-1");
        await().atMost(WAIT).until(() -> a.connected() && hub.node(id).get("status").asText().equals("online"));
        assertThat(a.nodeId()).isEqualTo(id);

        // The admin token and the join token's remaining use survived too.
        AgentConnection b = hub.agent("keep-2", token);
        await().atMost(WAIT).until(() -> b.nodeId() != null);
        assertThat(hub.get("/api/v1/nodes").get("items")).hasSize(2);
    }

    @Test
    void nodeStoredOnlineIsOfflineWithHubRestartReasonAfterRestart() throws Exception {
        String token = hub.joinToken(1, "15m", Map.of());
        RawAgent raw = new RawAgent(hub.channel()).send(RawAgent.hello("gone").setJoinToken(token));
        String id = raw.next(WAIT).getWelcome().getNodeId();
        raw.heartbeat();

        hub.restart();

        JsonNode n = hub.node(id);
        assertThat(n.get("status").asText()).isEqualTo("offline");
        assertThat(n.get("offlineReason").asText()).isEqualTo("hub restart");
    }

    @Test
    void shutdownSendsDrainToAgents() throws Exception {
        String token = hub.joinToken(1, "15m", Map.of());
        RawAgent raw = new RawAgent(hub.channel()).send(RawAgent.hello("drained").setJoinToken(token));
        raw.next(WAIT);
        Thread closer = new Thread(hub.daemon::close);
        closer.start();
        HubMessage m = raw.next(WAIT);
        assertThat(m.hasDrain()).isTrue();
        assertThat(m.getDrain().getReason()).isEqualTo("hub restart");
        assertThat(m.getDrain().getReconnectWindowMillis()).as("one agent: the shortest window").isEqualTo(1000);
        raw.close();
        closer.join(WAIT.toMillis());
        assertThat(closer.isAlive()).isFalse();
    }

    @Test
    void aDrainedAgentRetriesWithinTheWindowTheHubGaveNotItsBackoff() {
        java.util.List<Duration> retries = new java.util.concurrent.CopyOnWriteArrayList<>();
        AgentConnection a = new AgentConnection(new hub.agent.AgentIdentity("h", "Linux", "amd64", "t", "windowed",
                Map.of()), TestTls.link(hub.daemon), IdentityStore.memory(), CredentialStore.memory(),
                hub.joinToken(1, "15m", Map.of()), hub.scheduler,
                new hub.agent.Backoff(Duration.ofSeconds(5), Duration.ofSeconds(60)), // 2.5 s and up, alone
                new AgentConnection.Listener() {
                    @Override
                    public void disconnected(Status status, Duration retryIn) {
                        retries.add(retryIn);
                    }
                });
        try {
            a.start();
            await().atMost(WAIT).until(a::connected);
            hub.daemon.close(); // drains: one agent, a window of 1 s
            await().atMost(Duration.ofSeconds(20)).until(() -> retries.size() >= 5);
            assertThat(retries).allSatisfy(d -> assertThat(d).isLessThanOrEqualTo(Duration.ofSeconds(1)));
        } finally {
            a.close();
        }
    }
}

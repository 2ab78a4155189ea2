package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import hub.agent.AgentConnection;
import hub.agent.IdentityStore;
import hub.hubd.config.HubConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs over the real API and real agents: targets resolved by selector or by name, offline nodes
 * reported, at most {@code parallel} unfinished at once, launching stopped past {@code maxErrors},
 * cancel, who may see and start them, and a run that a hub restart leaves running going on.
 */
class RunsTest {
    static final Duration WAIT = Duration.ofSeconds(20);
    @TempDir
    Path dir;
    TestHub hub;
    final List<AgentConnection> agents = new ArrayList<>();

    @BeforeEach
    void start() {
        hub = new TestHub(HubConfig.defaults(dir.resolve("data")).withHeartbeatInterval(Duration.ofMillis(500)));
        for (int i = 1; i <= 4; i++) {
            agents.add(hub.agent("web-" + i, hub.joinToken(1, "1h", Map.of("role", "web", "n", "n" + i))));
        }
        await().atMost(WAIT).until(() -> agents.stream().allMatch(AgentConnection::connected));
    }

    @AfterEach
    void stop() throws Exception {
        hub.close();
    }

    JsonNode create(String body) {
        TestHub.Answer a = hub.call("POST", "/api/v1/runs", body, hub.adminToken());
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        return a.json();
    }

    JsonNode awaitEnd(String id) {
        await().atMost(WAIT).until(() -> !hub.get("/api/v1/runs/" + id).get("state").asText().equals("running"));
        return hub.get("/api/v1/runs/" + id);
    }

    @Test
    void aRunBySelectorRunsOnEveryMatchingNodeAndReportsOfflineOnes() {
        agents.get(3).close();
        await().atMost(WAIT).until(() -> hub.node("web-4").get("status").asText().equals("offline"));
        JsonNode run = create("{\"command\":\"echo hi\",\"selector\":\"role=web\",\"parallel\":\"100%\"}");
        assertThat(run.get("nodes")).hasSize(4);
        assertThat(run.get("parallel").asInt()).isEqualTo(4);
        JsonNode done = awaitEnd(run.get("id").asText());
        assertThat(done.get("state").asText()).isEqualTo("done");
        assertThat(done.get("counts").get("ok").asInt()).isEqualTo(3);
        assertThat(done.get("counts").get("offline").asInt()).isEqualTo(1);
        JsonNode offline = done.get("nodes").get(3);
        assertThat(offline.get("name").asText()).isEqualTo("web-4");
        assertThat(offline.get("outcome").asText()).isEqualTo("offline");
        for (int i = 0; i < 3; i++) {
            JsonNode n = done.get("nodes").get(i);
            assertThat(n.get("outcome").asText()).isEqualTo("ok");
            assertThat(n.get("exitCode").asInt()).isZero();
            assertThat(hub.get("/api/v1/tasks/" + n.get("taskId").asText() + "/output").get("lines").get(0)
                    .get("text").asText()).isEqualTo("hi");
        }
        assertThat(done.get("finishedAt").isNull()).isFalse();
    }

    @Test
    void atMostParallelTasksAreUnfinishedAndLaunchingStopsPastMaxErrors() throws Exception {
        JsonNode run = create("{\"command\":\"sleep 0.4\",\"nodes\":[\"web-1\",\"web-2\",\"web-3\",\"web-4\"],"
                + "\"parallel\":\"2\"}");
        String id = run.get("id").asText();
        int most = 0;
        while (hub.get("/api/v1/runs/" + id).get("state").asText().equals("running")) {
            most = Math.max(most, hub.get("/api/v1/runs/" + id).get("counts").get("running").asInt());
            Thread.sleep(50);
        }
        assertThat(most).isBetween(1, 2);
        assertThat(hub.get("/api/v1/runs/" + id).get("counts").get("ok").asInt()).isEqualTo(4);

        // one at a time, failing: the first failure is within maxErrors 1, the second stops it
        JsonNode failing = create("{\"command\":\"exit 3\",\"selector\":\"role=web\",\"parallel\":\"1\","
                + "\"maxErrors\":\"1\"}");
        JsonNode stopped = awaitEnd(failing.get("id").asText());
        assertThat(stopped.get("state").asText()).isEqualTo("stopped");
        assertThat(stopped.get("nodes")).extracting(n -> n.get("outcome").asText())
                .containsExactly("failed", "failed", "skipped", "skipped");
        assertThat(stopped.get("nodes").get(0).get("exitCode").asInt()).isEqualTo(3);
        assertThat(stopped.get("nodes").get(2).get("error").asText()).contains("more than 1 nodes failed");
        assertThat(stopped.get("counts").get("skipped").asInt()).isEqualTo(2);
    }

    @Test
    void withABatchWaitBatchesOfParallelNodesStartThatLongAfterTheLastEnded() {
        JsonNode run = create("{\"command\":\"true\",\"selector\":\"role=web\",\"parallel\":\"2\","
                + "\"batchWait\":\"1500ms\"}");
        assertThat(run.get("batchWait").asText()).isEqualTo("1500ms");
        JsonNode done = awaitEnd(run.get("id").asText());
        assertThat(done.get("counts").get("ok").asInt()).isEqualTo(4);
        List<JsonNode> tasks = new ArrayList<>();
        done.get("nodes").forEach(n -> tasks.add(hub.get("/api/v1/tasks/" + n.get("taskId").asText())));
        java.util.function.Function<JsonNode, java.time.Instant> at = t -> java.time.Instant.parse(t.get("createdAt").asText());
        java.util.function.Function<JsonNode, java.time.Instant> end = t -> java.time.Instant.parse(t.get("finishedAt").asText());
        // nodes 3 and 4 were sent together, 1.5 s after the later of 1 and 2 had ended
        java.time.Instant firstEnded = end.apply(tasks.get(0)).isAfter(end.apply(tasks.get(1)))
                ? end.apply(tasks.get(0)) : end.apply(tasks.get(1));
        assertThat(Duration.between(firstEnded, at.apply(tasks.get(2)))).isGreaterThanOrEqualTo(Duration.ofMillis(1400));
        assertThat(Duration.between(at.apply(tasks.get(2)), at.apply(tasks.get(3))).abs())
                .isLessThan(Duration.ofMillis(500));
        assertThat(Duration.between(at.apply(tasks.get(0)), at.apply(tasks.get(1))).abs())
                .isLessThan(Duration.ofMillis(500));
    }

    @Test
    void aCancelledRunCancelsItsTasksAndSkipsTheRest() {
        JsonNode run = create("{\"command\":\"sleep 60\",\"selector\":\"role=web\",\"parallel\":\"50%\"}");
        String id = run.get("id").asText();
        assertThat(run.get("counts").get("running").asInt()).isEqualTo(2);
        TestHub.Answer c = hub.call("POST", "/api/v1/runs/" + id + "/cancel", null, hub.adminToken());
        assertThat(c.status()).isEqualTo(202);
        JsonNode end = awaitEnd(id);
        assertThat(end.get("state").asText()).isEqualTo("cancelled");
        await().atMost(WAIT).until(() -> hub.get("/api/v1/runs/" + id).get("counts").get("cancelled").asInt() == 2);
        assertThat(hub.get("/api/v1/runs/" + id).get("counts").get("skipped").asInt()).isEqualTo(2);
    }

    @Test
    void runsAreTheirCreatorsAndBadRequestsAre400() {
        String viewer = hub.call("POST", "/api/v1/users", "{\"name\":\"vera\",\"role\":\"viewer\"}", hub.adminToken())
                .json().get("token").asText();
        hub.call("POST", "/api/v1/users/vera/grants", "{\"selector\":\"role=web\",\"role\":\"viewer\"}",
                hub.adminToken());
        TestHub.Answer refused = hub.call("POST", "/api/v1/runs", "{\"command\":\"true\",\"selector\":\"role=web\"}",
                viewer);
        assertThat(refused.status()).isEqualTo(403);
        String id = create("{\"command\":\"true\",\"nodes\":[\"web-1\"]}").get("id").asText();
        assertThat(hub.call("GET", "/api/v1/runs/" + id, null, viewer).status()).isEqualTo(404);
        assertThat(hub.call("GET", "/api/v1/runs", null, viewer).json().get("items")).isEmpty();
        assertThat(hub.get("/api/v1/runs").get("items")).hasSize(1);
        for (String bad : List.of("{\"selector\":\"role=web\"}", "{\"command\":\"true\"}",
                "{\"command\":\"true\",\"selector\":\"role=db\"}", "{\"command\":\"true\",\"selector\":\"role=web\","
                + "\"parallel\":\"0x\"}", "{\"command\":\"true\",\"selector\":\"role=web\",\"maxErrors\":\"150%\"}",
                "{\"command\":\"true\",\"selector\":\"role=web\",\"nodes\":[\"web-1\"]}",
                "{\"command\":\"true\",\"all\":true,\"nodes\":[\"web-1\"]}")) {
            TestHub.Answer a = hub.call("POST", "/api/v1/runs", bad, hub.adminToken());
            assertThat(a.status()).as(bad + " -> " + a.body()).isEqualTo(400);
        }
        assertThat(hub.get("/api/v1/audit?limit=1000").get("items")).anyMatch(e ->
                e.get("action").asText().equals("run.create") && e.get("detail").asText().contains("role=web"));
    }

    /**
     * A followed task that ends soon after a restart pumps the run before the resume delay: a node
     * whose agent is still on its way back is left pending, not counted offline (it was, by chance,
     * in one run of five of the test below).
     */
    @Test
    void aNodeStillReconnectingAfterARestartIsNotCountedOfflineBeforeItsGraceIsOver() {
        IdentityStore ids = IdentityStore.memory();
        AgentConnection late = hub.agent("web-5", ids, hub.joinToken(1, "1h", Map.of("role", "web", "n", "n5")));
        await().atMost(WAIT).until(late::connected);
        JsonNode run = create("{\"command\":\"sleep 1\",\"selector\":\"role=web\",\"parallel\":\"3\"}");
        String id = run.get("id").asText();
        assertThat(run.get("nodes").get(4).get("name").asText()).isEqualTo("web-5");
        late.close();
        await().atMost(WAIT).until(() -> hub.node("web-5").get("status").asText().equals("offline"));
        hub.restart(); // grace: the 1 s window of a 5-node hub and two 500 ms heartbeats
        // web-1..3 end within it and web-4 starts in their place; web-5's agent is not back yet
        await().atMost(WAIT).until(() -> hub.get("/api/v1/runs/" + id).get("counts").get("ok").asInt() >= 3);
        JsonNode during = hub.get("/api/v1/runs/" + id).get("nodes").get(4);
        assertThat(during.get("outcome").asText()).as(during.toString()).isEqualTo("pending");
        AgentConnection back = hub.agent("web-5", ids, null);
        await().atMost(WAIT).until(back::connected);
        JsonNode end = awaitEnd(id);
        assertThat(end.get("counts").get("ok").asInt()).as(end.toString()).isEqualTo(5);
    }

    @Test
    void aRunInFlightWhenTheHubRestartsGoesOnAndFinishes() {
        JsonNode run = create("{\"command\":\"sleep 1\",\"selector\":\"role=web\",\"parallel\":\"2\"}");
        String id = run.get("id").asText();
        hub.restart();
        JsonNode end = awaitEnd(id);
        assertThat(end.get("state").asText()).isEqualTo("done");
        assertThat(end.get("counts").get("ok").asInt()).as(end.toString()).isEqualTo(4);
    }
}

package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import hub.agent.AgentConnection;
import hub.hubd.config.HubConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Access by id and by label grant, over the real API: a viewer granted {@code team=web} sees exactly
 * the web nodes (lists, status, events), an operator grant lets it run commands there, a revoke
 * takes it all back at once; a user who owns nodes is removed only with {@code reassignTo}, and a
 * new user of the same name gets nothing of the old one's.
 */
class GrantsTest {
    static final Duration WAIT = Duration.ofSeconds(10);
    @TempDir
    Path dir;
    TestHub hub;
    AgentConnection web1;
    AgentConnection web2;
    AgentConnection db1;

    @BeforeEach
    void start() {
        hub = new TestHub(HubConfig.defaults(dir.resolve("data")));
        web1 = hub.agent("web-1", hub.joinToken(1, "1h", Map.of("team", "web", "env", "prod")));
        web2 = hub.agent("web-2", hub.joinToken(1, "1h", Map.of("team", "web", "env", "staging")));
        db1 = hub.agent("db-1", hub.joinToken(1, "1h", Map.of("team", "db", "env", "prod")));
        await().atMost(WAIT).until(() -> web1.connected() && web2.connected() && db1.connected());
    }

    @AfterEach
    void stop() throws Exception {
        hub.close();
    }

    String createUser(String name, String role) {
        TestHub.Answer a = hub.call("POST", "/api/v1/users", "{\"name\":\"" + name + "\",\"role\":\"" + role + "\"}",
                hub.adminToken());
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        return a.json().get("token").asText();
    }

    TestHub.Answer grant(String user, String selector, String role) {
        return hub.call("POST", "/api/v1/users/" + user + "/grants",
                "{\"selector\":\"" + selector + "\",\"role\":\"" + role + "\"}", hub.adminToken());
    }

    java.util.List<String> nodeNames(String token, String query) {
        TestHub.Answer a = hub.call("GET", "/api/v1/nodes" + query, null, token);
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        java.util.List<String> names = new java.util.ArrayList<>();
        a.json().get("items").forEach(n -> names.add(n.get("name").asText()));
        return names;
    }

    @Test
    void aViewerGrantedALabelSeesExactlyThoseNodesAndMayNotRunCommands() throws Exception {
        String vera = createUser("vera", "viewer");
        assertThat(nodeNames(vera, "")).isEmpty();

        TestHub.Answer g = grant("vera", "team=web", "viewer");
        assertThat(g.status()).as(g.body()).isEqualTo(201);
        assertThat(g.json().get("selector").asText()).isEqualTo("team=web");
        assertThat(hub.get("/api/v1/users/vera").get("grants")).hasSize(1);

        assertThat(nodeNames(vera, "")).containsExactly("web-1", "web-2");
        assertThat(nodeNames(vera, "?label=env%3Dprod")).containsExactly("web-1");
        JsonNode status = hub.call("GET", "/api/v1/status", null, vera).json();
        assertThat(status.get("nodesTotal").asInt()).isEqualTo(2);
        assertThat(hub.call("GET", "/api/v1/nodes/web-1", null, vera).status()).isEqualTo(200);
        assertThat(hub.call("GET", "/api/v1/nodes/web-1/history", null, vera).status()).isEqualTo(200);
        assertThat(hub.call("GET", "/api/v1/nodes/db-1", null, vera).status()).isEqualTo(404);
        assertThat(hub.call("GET", "/api/v1/nodes/" + db1.nodeId() + "/history", null, vera).status()).isEqualTo(404);

        TestHub.Answer exec = hub.call("POST", "/api/v1/nodes/web-1/tasks", "{\"command\":\"true\"}", vera);
        assertThat(exec.status()).as(exec.body()).isEqualTo(403);
        assertThat(exec.json().get("detail").asText()).contains("operator role on node web-1");
        assertThat(hub.call("DELETE", "/api/v1/nodes/web-1", null, vera).status()).isEqualTo(403);
        assertThat(hub.call("POST", "/api/v1/nodes/db-1/tasks", "{\"command\":\"true\"}", vera).status())
                .as("a node it cannot see does not exist for it").isEqualTo(404);

        // Events: a web node's task is seen, the db node's is not.
        try (WsClient events = WsClient.open(hub, "/api/v1/events", vera)) {
            for (String n : java.util.List.of("db-1", "web-2")) {
                assertThat(hub.call("POST", "/api/v1/nodes/" + n + "/tasks", "{\"command\":\"echo hi\"}",
                        hub.adminToken()).status()).isEqualTo(201);
            }
            await().atMost(WAIT).until(() -> events.ofType("task.state").stream()
                    .anyMatch(e -> e.get("state").asText().equals("exited")));
            Thread.sleep(300); // db-1's would have come by now
            assertThat(events.all()).filteredOn(e -> e.has("node"))
                    .isNotEmpty().allMatch(e -> e.get("node").asText().equals(web2.nodeId()));

            // A revoke takes effect at once: the stream is closed to be reopened with the new access.
            TestHub.Answer revoked = hub.call("DELETE", "/api/v1/users/vera/grants?selector=team%3Dweb", null,
                    hub.adminToken());
            assertThat(revoked.status()).as(revoked.body()).isEqualTo(204);
            assertThat(events.closed.get(5, TimeUnit.SECONDS)).startsWith("4005");
        }
        assertThat(nodeNames(vera, "")).isEmpty();
        assertThat(hub.call("GET", "/api/v1/nodes/web-1", null, vera).status()).isEqualTo(404);
        assertThat(hub.call("DELETE", "/api/v1/users/vera/grants?selector=team%3Dweb", null, hub.adminToken())
                .status()).isEqualTo(404);
    }

    @Test
    void anOperatorGrantRunsCommandsOnMatchingNodesOnly() {
        String olga = createUser("olga", "viewer");
        assertThat(grant("olga", "team in (web,cache),env!=staging", "operator").status()).isEqualTo(201);
        assertThat(nodeNames(olga, "")).containsExactly("web-1");
        TestHub.Answer t = hub.call("POST", "/api/v1/nodes/web-1/tasks", "{\"command\":\"echo granted\"}", olga);
        assertThat(t.status()).as(t.body()).isEqualTo(201);
        String id = t.json().get("id").asText();
        await().atMost(WAIT).until(() -> hub.call("GET", "/api/v1/tasks/" + id, null, olga).json()
                .get("state").asText().equals("exited"));
        assertThat(hub.call("POST", "/api/v1/nodes/web-2/tasks", "{\"command\":\"true\"}", olga).status())
                .isEqualTo(404);

        // a second grant for the same selector changes its role; bad grants are 400
        assertThat(grant("olga", "team in (web,cache),env!=staging", "viewer").status()).isEqualTo(201);
        assertThat(hub.get("/api/v1/users/olga").get("grants")).hasSize(1);
        assertThat(hub.call("POST", "/api/v1/nodes/web-1/tasks", "{\"command\":\"true\"}", olga).status())
                .isEqualTo(403);
        assertThat(grant("olga", "team=web", "admin").status()).isEqualTo(400);
        assertThat(grant("olga", "team in (web", "viewer").status()).isEqualTo(400);
        assertThat(grant("nobody", "team=web", "viewer").status()).isEqualTo(404);
        assertThat(hub.call("POST", "/api/v1/users/olga/grants", "{\"selector\":\"team=web\",\"role\":\"viewer\"}",
                olga).status()).as("only admins grant").isEqualTo(403);
    }

    @Test
    void aUserWhoOwnsNodesIsRemovedOnlyWithReassignToAndItsNameGivesNothingBack() {
        String bob = createUser("bob", "operator");
        createUser("carol", "operator");
        String bobsJoin = hub.call("POST", "/api/v1/join-tokens", "{}", bob).json().get("token").asText();
        AgentConnection bobs = hub.agent("bobs-1", bobsJoin);
        await().atMost(WAIT).until(bobs::connected);
        assertThat(hub.node("bobs-1").get("owner").asText()).isEqualTo("bob");

        TestHub.Answer refused = hub.call("DELETE", "/api/v1/users/bob", null, hub.adminToken());
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.json().get("detail").asText()).contains("owns 1 node").contains("--reassign-to");
        assertThat(hub.call("GET", "/api/v1/status", null, bob).status()).as("nothing changed").isEqualTo(200);
        assertThat(hub.call("DELETE", "/api/v1/users/bob?reassignTo=bob", null, hub.adminToken()).status())
                .isEqualTo(400);
        assertThat(hub.call("DELETE", "/api/v1/users/bob?reassignTo=nobody", null, hub.adminToken()).status())
                .isEqualTo(404);

        assertThat(hub.call("DELETE", "/api/v1/users/bob?reassignTo=carol", null, hub.adminToken()).status())
                .isEqualTo(204);
        assertThat(hub.node("bobs-1").get("owner").asText()).isEqualTo("carol");
        String carol = hub.call("POST", "/api/v1/users/carol/token", null, hub.adminToken()).json().get("token").asText();
        assertThat(nodeNames(carol, "")).containsExactly("bobs-1");

        String newBob = createUser("bob", "operator");
        assertThat(nodeNames(newBob, "")).isEmpty();
        assertThat(hub.call("GET", "/api/v1/join-tokens", null, newBob).json().get("items")).isEmpty();
    }

    @Test
    void adminsAssignANodeToAnotherOwner() {
        String carol = createUser("carol", "operator");
        assertThat(nodeNames(carol, "")).isEmpty();
        TestHub.Answer a = hub.call("POST", "/api/v1/nodes/db-1/owner", "{\"owner\":\"carol\"}", hub.adminToken());
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(a.json().get("owner").asText()).isEqualTo("carol");
        assertThat(nodeNames(carol, "")).containsExactly("db-1");
        assertThat(hub.call("POST", "/api/v1/nodes/db-1/tasks", "{\"command\":\"true\"}", carol).status())
                .isEqualTo(201);
        assertThat(hub.call("POST", "/api/v1/nodes/db-1/owner", "{\"owner\":\"admin\"}", carol).status())
                .as("only admins assign").isEqualTo(403);
        assertThat(hub.call("POST", "/api/v1/nodes/db-1/owner", "{\"owner\":\"nobody\"}", hub.adminToken()).status())
                .isEqualTo(404);
        hub.restart();
        assertThat(hub.node("db-1").get("owner").asText()).as("stored, not just in memory").isEqualTo("carol");
    }
}

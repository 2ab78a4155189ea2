package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import hub.agent.AgentConnection;
import hub.hubd.config.HubConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Users through the API, what each sees on the event stream (only the nodes it owns), and that a
 * rotated token or a removed user ends its open streams at once.
 */
class UsersAndIsolationTest {
    @TempDir
    Path dir;
    TestHub hub;

    @BeforeEach
    void start() {
        hub = new TestHub(HubConfig.defaults(dir.resolve("data")));
    }

    @AfterEach
    void stop() throws Exception {
        hub.close();
    }

    String createUser(String name, String role) {
        TestHub.Answer a = hub.call("POST", "/api/v1/users", "{\"name\": \"" + name + "\", \"role\": \"" + role + "\"}",
                hub.adminToken());
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        assertThat(a.json().get("role").asText()).isEqualTo(role);
        return a.json().get("token").asText();
    }

    /** A user's immutable id, which is what owns its nodes and tokens. */
    String userId(String name) {
        return hub.get("/api/v1/users/" + name).get("id").asText();
    }

    String joinTokenAs(String apiToken) {
        TestHub.Answer a = hub.call("POST", "/api/v1/join-tokens", "{}", apiToken);
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        return a.json().get("token").asText();
    }

    @Test
    void usersAreManagedByAdminsWithClearErrors() {
        String bob = createUser("bob", "operator");
        assertThat(hub.call("GET", "/api/v1/users", null, bob).status()).isEqualTo(403);
        assertThat(hub.call("POST", "/api/v1/users", "{\"name\": \"bob\", \"role\": \"viewer\"}", hub.adminToken())
                .status()).isEqualTo(409);
        assertThat(hub.call("POST", "/api/v1/users", "{\"name\": \"Bad Name\", \"role\": \"viewer\"}",
                hub.adminToken()).status()).isEqualTo(400);
        assertThat(hub.call("POST", "/api/v1/users", "{\"name\": \"eve\", \"role\": \"root\"}", hub.adminToken())
                .status()).isEqualTo(400);
        assertThat(hub.call("DELETE", "/api/v1/users/admin", null, hub.adminToken()).status()).isEqualTo(409);
        assertThat(hub.call("DELETE", "/api/v1/users/nobody", null, hub.adminToken()).status()).isEqualTo(404);
        JsonNode users = hub.get("/api/v1/users").get("items");
        assertThat(users).extracting(u -> u.get("name").asText()).containsExactly("admin", "bob");
        assertThat(users.get(1).get("activeTokens").asInt()).isEqualTo(1);
        assertThat(users.get(1).has("token")).isFalse();
    }

    @Test
    void aUserSeesOnlyTheEventsOfItsOwnNodes() throws Exception {
        String bob = createUser("bob", "operator");
        try (WsClient bobs = WsClient.open(hub, "/api/v1/events", bob);
                WsClient admins = WsClient.open(hub, "/api/v1/events", hub.adminToken())) {
            AgentConnection bobNode = hub.agent("bob-node", joinTokenAs(bob));
            AgentConnection adminNode = hub.agent("admin-node", joinTokenAs(hub.adminToken()));
            await().atMost(Duration.ofSeconds(10)).until(() -> bobNode.connected() && adminNode.connected());
            for (String node : List.of("bob-node", "admin-node")) {
                TestHub.Answer t = hub.call("POST", "/api/v1/nodes/" + node + "/tasks", "{\"command\": \"echo hi\"}",
                        hub.adminToken());
                assertThat(t.status()).isEqualTo(201);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> admins.ofType("task.state").stream()
                    .filter(e -> e.get("state").asText().equals("exited")).count() == 2);
            await().atMost(Duration.ofSeconds(10)).until(() -> bobs.ofType("task.state").stream()
                    .anyMatch(e -> e.get("state").asText().equals("exited")));

            assertThat(bobs.all()).filteredOn(e -> e.has("node"))
                    .allMatch(e -> e.get("node").asText().equals(bobNode.nodeId()));
            assertThat(bobs.ofType("token.created")).hasSize(1).allMatch(e -> e.get("owner").asText().equals(userId("bob")));
            assertThat(bobs.ofType("node.online")).hasSize(1);
            assertThat(bobs.ofType("task.output")).hasSize(1);
            assertThat(admins.ofType("node.online")).hasSize(2);
            assertThat(admins.ofType("token.created")).hasSize(2);

            assertThat(WsClient.refusal(hub, "/api/v1/events?node=admin-node", bob))
                    .as("another user's node does not exist for bob").isEqualTo(404);
            assertThat(WsClient.refusal(hub, "/api/v1/nodes/admin-node/history/follow", bob)).isEqualTo(404);
            JsonNode listeners = TestHub.JSON.readTree(hub.call("GET", "/api/v1/listeners", null, bob).body());
            assertThat(listeners.get("items")).hasSize(1); // bob sees his own listener only
            assertThat(hub.get("/api/v1/listeners").get("items")).hasSize(2);
        }
    }

    @Test
    void rotatingAUsersTokenOrRemovingTheUserEndsItsStreamsAtOnce() throws Exception {
        String bob = createUser("bob", "viewer");
        WsClient first = WsClient.open(hub, "/api/v1/events", bob);
        await().atMost(Duration.ofSeconds(5)).until(() -> hub.get("/api/v1/listeners").get("items").size() == 1);

        TestHub.Answer rotated = hub.call("POST", "/api/v1/users/bob/token", null, hub.adminToken());
        assertThat(rotated.status()).isEqualTo(200);
        String bob2 = rotated.json().get("token").asText();
        assertThat(first.closed.get(5, TimeUnit.SECONDS)).startsWith("4003").contains("revoked");
        assertThat(hub.call("GET", "/api/v1/status", null, bob).status()).isEqualTo(401);
        assertThat(hub.call("GET", "/api/v1/status", null, bob2).status()).isEqualTo(200);

        WsClient second = WsClient.open(hub, "/api/v1/events", bob2);
        await().atMost(Duration.ofSeconds(5)).until(() -> hub.get("/api/v1/listeners").get("items").size() == 1);
        assertThat(hub.call("DELETE", "/api/v1/users/bob", null, hub.adminToken()).status()).isEqualTo(204);
        assertThat(second.closed.get(5, TimeUnit.SECONDS)).startsWith("4003").contains("removed");
        assertThat(hub.call("GET", "/api/v1/status", null, bob2).status()).isEqualTo(401);
        await().atMost(Duration.ofSeconds(5)).until(() -> hub.get("/api/v1/listeners").get("items").isEmpty());
        first.close();
        second.close();
    }

    @Test
    void aNodeNamedLikeAnotherNodesIdGetsNothingOfIt() throws Exception {
        String bob = createUser("bob", "operator");
        AgentConnection alice = hub.agent("alice-node", joinTokenAs(hub.adminToken()));
        await().atMost(Duration.ofSeconds(10)).until(alice::connected);
        String aliceId = alice.nodeId();
        TestHub.Answer t = hub.call("POST", "/api/v1/nodes/" + aliceId + "/tasks", "{\"command\": \"sleep 600\"}",
                hub.adminToken());
        String task = t.json().get("id").asText();

        // Bob's agent asks for alice's node id as its name: refused at the door.
        RawAgent raw = new RawAgent(hub.channel()).send(RawAgent.hello("bob-host").setName(aliceId)
                .setJoinToken(joinTokenAs(bob)));
        io.grpc.Status s = raw.ended.get(10, TimeUnit.SECONDS);
        assertThat(s.getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
        assertThat(s.getDescription()).contains("is another node's id");

        // Whatever its name, an id names one node only: bob cannot reach alice's node or task by it.
        assertThat(hub.call("GET", "/api/v1/nodes/" + aliceId, null, bob).status()).isEqualTo(404);
        assertThat(hub.call("GET", "/api/v1/tasks/" + task, null, bob).status()).isEqualTo(404);
        assertThat(hub.call("GET", "/api/v1/tasks/" + task + "/output", null, bob).status()).isEqualTo(404);
        assertThat(hub.call("POST", "/api/v1/tasks/" + task + "/cancel", null, bob).status()).isEqualTo(404);
        assertThat(hub.get("/api/v1/tasks/" + task).get("cancelRequestedAt")).isNull();

        // Even a node stored under that name (as by an older hub) is not reached through alice's id.
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + hub.dataDir.resolve("hub.db"))) {
            c.createStatement().executeUpdate("INSERT INTO nodes (id, name, hostname, os, arch, agent_version, labels, "
                    + "owner, created_at, status) VALUES ('bobsnode00000000', '" + aliceId + "', 'h', 'Linux', 'amd64', "
                    + "'t', '{}', '" + userId("bob") + "', 0, 'offline')");
        }
        assertThat(hub.call("GET", "/api/v1/nodes/" + aliceId, null, bob).status()).isEqualTo(404);
        assertThat(hub.call("GET", "/api/v1/nodes/bobsnode00000000", null, bob).status()).isEqualTo(200);
        assertThat(hub.call("GET", "/api/v1/tasks/" + task, null, bob).status()).isEqualTo(404);
    }

    @Test
    void aJoinWithATakenNameGetsASuffixOfItsIdAndARenameToATakenNameIsNotMade() throws Exception {
        AgentConnection first = hub.agent("web", joinTokenAs(hub.adminToken()));
        await().atMost(Duration.ofSeconds(10)).until(first::connected);
        AgentConnection second = hub.agent("web", joinTokenAs(hub.adminToken()));
        await().atMost(Duration.ofSeconds(10)).until(second::connected);
        assertThat(hub.node("web").get("id").asText()).isEqualTo(first.nodeId());
        String suffixed = "web-" + second.nodeId().substring(0, 4);
        assertThat(hub.node(second.nodeId()).get("name").asText()).isEqualTo(suffixed);
        assertThat(hub.node(suffixed).get("id").asText()).isEqualTo(second.nodeId());

        // a raw agent, as a third party would write it, is told the name it got
        hub.agent("other", joinTokenAs(hub.adminToken()));
        await().atMost(Duration.ofSeconds(10)).until(() -> hub.get("/api/v1/nodes").get("items").size() == 3);
        RawAgent raw = new RawAgent(hub.channel()).send(RawAgent.hello("h").setName("other")
                .setJoinToken(joinTokenAs(hub.adminToken())));
        await().atMost(Duration.ofSeconds(10)).until(() -> raw.received.stream().anyMatch(m -> m.hasWelcome()));
        String rawName = raw.received.stream().filter(m -> m.hasWelcome()).findFirst().orElseThrow().getWelcome()
                .getNodeName();
        assertThat(rawName).as("the Welcome says the name it got").startsWith("other-");
        assertThat(hub.get("/api/v1/nodes").get("items")).extracting(n -> n.get("name").asText())
                .doesNotHaveDuplicates();
    }

    @Test
    void aRemovedUsersJoinTokensStopWorkingAndAViewerCountsOnlyItsOwnNodes() throws Exception {
        String bob = createUser("bob", "operator");
        String bobsToken = joinTokenAs(bob);
        AgentConnection admins = hub.agent("admin-node", joinTokenAs(hub.adminToken()));
        await().atMost(Duration.ofSeconds(10)).until(admins::connected);
        String viewer = createUser("vera", "viewer");
        JsonNode status = hub.call("GET", "/api/v1/status", null, viewer).json();
        assertThat(status.get("nodesTotal").asInt()).isZero();
        assertThat(status.get("nodesOnline").asInt()).isZero();
        assertThat(hub.get("/api/v1/status").get("nodesTotal").asInt()).isEqualTo(1);

        String bobId = userId("bob");
        assertThat(hub.call("DELETE", "/api/v1/users/bob", null, hub.adminToken()).status()).isEqualTo(204);
        assertThat(hub.get("/api/v1/join-tokens").get("items")).filteredOn(j -> j.get("ownerId").asText().equals(bobId))
                .hasSize(1).allMatch(j -> j.get("state").asText().equals("revoked"));
        RawAgent raw = new RawAgent(hub.channel()).send(RawAgent.hello("orphan").setJoinToken(bobsToken));
        io.grpc.Status s = raw.ended.get(10, TimeUnit.SECONDS);
        assertThat(s.getCode()).isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED);
        assertThat(s.getDescription()).contains("revoked");
        // A new user of the same name does not get them back.
        createUser("bob", "operator");
        RawAgent again = new RawAgent(hub.channel()).send(RawAgent.hello("orphan").setJoinToken(bobsToken));
        assertThat(again.ended.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED);
    }
}

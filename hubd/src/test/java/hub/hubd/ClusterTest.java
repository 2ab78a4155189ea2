package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import hub.agent.AgentConnection;
import hub.agent.AgentIdentity;
import hub.agent.Backoff;
import hub.agent.CredentialStore;
import hub.agent.HubLink;
import hub.agent.IdentityStore;
import hub.tls.HubTrust;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.Redisson;
import org.redisson.config.Config;

/**
 * Three hubd processes of one cluster on the machine's PostgreSQL (a fresh database) and Redis (a
 * cluster name, so a key prefix, of the test's own), with real agents: every hub lists every
 * node with the hub holding it; {@code kill -9} of a hub sends its agents to the others with their
 * history intact, and a node that knew only the dead hub goes offline as {@code hub lost}; a hub
 * stopped with SIGTERM sends its agents to the others (Drain names them).
 */
class ClusterTest {
    static final String PG = System.getenv().getOrDefault("HUB_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/");
    static final String REDIS = System.getenv().getOrDefault("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379");

    @TempDir
    Path dir;
    final String name = "t" + Long.toHexString(System.nanoTime());
    final List<HubProcess> hubs = new ArrayList<>();
    final List<AgentConnection> agents = new ArrayList<>();
    final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);

    @BeforeEach
    void createDatabase() throws SQLException {
        try (Connection c = DriverManager.getConnection(PG + "postgres?user=postgres");
                Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            if (PostgresStoreTest.required()) {
                throw e;
            }
            Assumptions.abort("PostgreSQL not reachable and not required: " + e.getMessage());
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AgentConnection a : agents) {
            a.close();
        }
        for (HubProcess h : hubs) {
            h.close();
        }
        scheduler.shutdownNow();
        try (Connection c = DriverManager.getConnection(PG + "postgres?user=postgres");
                Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
        Config rc = new Config();
        rc.useSingleServer().setAddress(REDIS);
        var redis = Redisson.create(rc);
        try {
            redis.getKeys().deleteByPattern("hub:" + name + ":*");
        } finally {
            redis.shutdown();
        }
    }

    /** A hub of the cluster; every hub after the first gets the first one's CA before its first start. */
    private HubProcess hub(String id) throws Exception {
        return hub(id, "200ms");
    }

    private HubProcess hub(String id, String heartbeat) throws Exception {
        Path artifact = dir.resolve("hub-agent.tar.gz");
        if (!Files.exists(artifact)) {
            Files.write(artifact, new byte[] {0x1f, (byte) 0x8b}); // what provisioning serves; not unpacked here
        }
        List<String> redis = List.of("--redis-url", REDIS);
        if (id.equals("c")) { // one hub reads Redisson's own YAML, as Sentinel or Redis Cluster setups do
            Path yaml = dir.resolve("redis-c.yaml");
            Files.writeString(yaml, "singleServerConfig:\n  address: \"" + REDIS + "\"\n  timeout: 2000\n");
            redis = List.of("--redis-config", yaml.toString());
        }
        List<String> args = new ArrayList<>(List.of("--agent-artifact", artifact.toString(),
                "--db-url", PG + name + "?user=postgres", "--cluster-name", name, "--history-store", "redis",
                "--heartbeat-interval", heartbeat, "--shutdown-grace", "3s"));
        args.addAll(redis);
        HubProcess h = new HubProcess(dir.resolve(id), args);
        if (!hubs.isEmpty()) {
            Path tls = h.dataDir.resolve("tls");
            Files.createDirectories(h.dataDir, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            Files.createDirectories(tls, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            for (String f : List.of("ca.crt", "ca.key")) {
                Files.copy(hubs.get(0).dataDir.resolve("tls").resolve(f), tls.resolve(f),
                        StandardCopyOption.COPY_ATTRIBUTES);
            }
            h.token = hubs.get(0).token;
        }
        hubs.add(h);
        return h.start();
    }

    private AgentConnection agent(String nodeName, String token, String pin, HubProcess... to) {
        List<String> addresses = java.util.Arrays.stream(to).map(HubProcess::agentAddress).toList();
        AgentConnection a = new AgentConnection(new AgentIdentity("host-" + nodeName, "Linux", "amd64", "test",
                nodeName, Map.of()), HubLink.tls(addresses, HubTrust.pinned(pin), null, null),
                IdentityStore.memory(), CredentialStore.memory(), token, scheduler,
                new Backoff(Duration.ofMillis(100), Duration.ofMillis(1000)), new AgentConnection.Listener() { });
        agents.add(a);
        a.start();
        return a;
    }

    private static String hubId(HubProcess h) throws Exception {
        return h.json("GET", "/api/v1/status", null).get("hubId").asText();
    }

    /** The node list as {@code h} shows it: name to node JSON. */
    private static Map<String, JsonNode> nodes(HubProcess h) throws Exception {
        Map<String, JsonNode> out = new HashMap<>();
        for (JsonNode n : h.json("GET", "/api/v1/nodes", null).get("items")) {
            out.put(n.get("name").asText(), n);
        }
        return out;
    }

    private static boolean onlineOn(HubProcess h, String node, String hubId) throws Exception {
        JsonNode n = nodes(h).get(node);
        return n != null && n.get("status").asText().equals("online") && hubId.equals(n.path("hub").asText());
    }

    private static String historyText(HubProcess h, String node) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (JsonNode l : h.json("GET", "/api/v1/nodes/" + node + "/history?tail=1000", null).get("lines")) {
            sb.append(l.get("text").asText()).append('\n');
        }
        return sb.toString();
    }

    /** An event listener on one hub, to the README's contract: JSON frames collected as they come. */
    private static final class Listener implements AutoCloseable {
        final List<JsonNode> got = java.util.Collections.synchronizedList(new ArrayList<>());
        private final java.net.http.WebSocket ws;

        Listener(HubProcess h, String query) {
            StringBuilder partial = new StringBuilder();
            ws = java.net.http.HttpClient.newBuilder().sslContext(h.ssl()).build().newWebSocketBuilder()
                    .header("Authorization", "Bearer " + h.token)
                    .buildAsync(java.net.URI.create(h.wsUrl("/api/v1/events?" + query)),
                            new java.net.http.WebSocket.Listener() {
                                @Override
                                public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket w,
                                        CharSequence data, boolean last) {
                                    partial.append(data);
                                    if (last) {
                                        for (String line : partial.toString().split("\n")) {
                                            try {
                                                got.add(HubProcess.JSON.readTree(line));
                                            } catch (java.io.IOException e) {
                                                throw new java.io.UncheckedIOException(e);
                                            }
                                        }
                                        partial.setLength(0);
                                    }
                                    w.request(1);
                                    return null;
                                }
                            }).join();
        }

        /** The events about {@code nodeId}, as "type/reason" in order. */
        List<JsonNode> about(String nodeId) {
            synchronized (got) {
                return got.stream().filter(e -> nodeId.equals(e.path("node").asText())).toList();
            }
        }

        @Override
        public void close() {
            ws.abort();
        }
    }

    /** The status a WebSocket upgrade is refused with. */
    private static int wsRefusal(String url, javax.net.ssl.SSLContext ssl, String token) throws Exception {
        try {
            java.net.http.HttpClient.newBuilder().sslContext(ssl).build().newWebSocketBuilder()
                    .header("Authorization", "Bearer " + token)
                    .buildAsync(java.net.URI.create(url), new java.net.http.WebSocket.Listener() { }).join()
                    .abort();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof java.net.http.WebSocketHandshakeException h) {
                return h.getResponse().statusCode();
            }
            throw e;
        }
        throw new AssertionError("upgraded " + url);
    }

    @Test
    void everyHubListsEveryNodeAndAgentsFailOverWithTheirHistory() throws Exception {
        HubProcess a = hub("a", "1s"); // a lease of 3 s: time to ask c for a node a holds while a hangs
        HubProcess b = hub("b");
        HubProcess c = hub("c");
        String idA = hubId(a);
        String idB = hubId(b);
        String idC = hubId(c);
        assertThat(List.of(idA, idB, idC)).doesNotHaveDuplicates();
        assertThat(b.caPin()).isEqualTo(a.caPin());

        String token = b.json("POST", "/api/v1/join-tokens", "{\"uses\": 3}").get("token").asText();
        String pin = a.caPin();
        AgentConnection mover = agent("mover", token, pin, a, b, c);
        agent("stranded", token, pin, a);
        agent("drained", token, pin, b);

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (HubProcess h : List.of(a, b, c)) {
                assertThat(onlineOn(h, "mover", idA)).as("mover on a, seen from :" + h.httpPort).isTrue();
                assertThat(onlineOn(h, "stranded", idA)).isTrue();
                assertThat(onlineOn(h, "drained", idB)).isTrue();
            }
        });
        // Heartbeats are published only while someone wants them: a subscriber on c gets those of b's node.
        String drainedId = nodes(c).get("drained").get("id").asText();
        try (Listener beats = new Listener(c, "types=node.heartbeat")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> !beats.about(drainedId).isEmpty());
        }
        // A provisioning script from any hub lists every hub, the one asked first.
        String scriptToken = c.json("POST", "/api/v1/join-tokens", "{\"uses\": 1}").get("token").asText();
        var script = java.net.http.HttpClient.newBuilder().sslContext(c.ssl()).build().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("https://127.0.0.1:" + c.httpPort
                        + "/api/v1/provisioning/script")).header("Authorization", "Bearer " + scriptToken).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.body()).containsPattern(java.util.regex.Pattern.quote(c.agentAddress()) + ",127\\.0\\.0\\.1:")
                .contains(a.agentAddress()).contains(b.agentAddress());
        JsonNode status = c.json("GET", "/api/v1/status", null);
        assertThat(status.get("nodesOnline").asInt()).as("counts from every hub").isEqualTo(3);

        // A command sent to c for a node a holds: c stores it, a sends it, the result comes back to c.
        String task = c.json("POST", "/api/v1/nodes/mover/tasks", "{\"command\": \"echo before-the-kill\"}")
                .get("id").asText();
        await().atMost(Duration.ofSeconds(20)).until(() ->
                c.json("GET", "/api/v1/tasks/" + task, null).get("state").asText().equals("exited"));
        assertThat(historyText(c, "mover")).contains("before-the-kill");
        assertThat(c.json("GET", "/api/v1/tasks/" + task + "/raw", null).get("chunks").get(0).get("data").asText())
                .isEqualTo(java.util.Base64.getEncoder().encodeToString("before-the-kill\n".getBytes()));

        // A terminal session opened through c on a node a holds is piped to a, which runs it.
        try (TerminalWs t = new TerminalWs(c.wsUrl("/api/v1/nodes/mover/terminal"), c.ssl(), c.token)) {
            t.text("{\"type\":\"start\",\"command\":\"read x; echo got-$x-$((6*7)); exit 5\"}");
            t.awaitControl("started");
            JsonNode listed = b.json("GET", "/api/v1/sessions?node=mover", null).get("items").get(0);
            assertThat(listed.get("live").asBoolean()).as("live on a, listed by b: " + listed).isTrue();
            t.type("typed\r");
            assertThat(t.awaitControl("exit").path("exitCode").asInt()).isEqualTo(5);
            assertThat(t.output()).contains("got-typed-42");
        }
        assertThat(wsRefusal(c.wsUrl("/api/v1/nodes/mover/terminal"), c.ssl(), "hub_not-a-token"))
                .as("refused before the pipe").isEqualTo(401);
        // The same through b: a command, its history, and a session on the node a holds.
        String viaB = b.json("POST", "/api/v1/nodes/mover/tasks", "{\"command\": \"echo via-b-$((6*7))\"}")
                .get("id").asText();
        await().atMost(Duration.ofSeconds(20)).until(() ->
                b.json("GET", "/api/v1/tasks/" + viaB, null).get("state").asText().equals("exited"));
        assertThat(historyText(b, "mover")).contains("via-b-42").contains("before-the-kill");
        try (TerminalWs t = new TerminalWs(b.wsUrl("/api/v1/nodes/mover/terminal"), b.ssl(), b.token)) {
            t.text("{\"type\":\"start\",\"command\":\"echo session-via-b; exit 3\"}");
            assertThat(t.awaitControl("exit").path("exitCode").asInt()).isEqualTo(3);
            assertThat(t.output()).contains("session-via-b");
        }

        // A file written through b and read back through c, both relayed by a.
        byte[] content = "through the cluster\n".repeat(1000).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Path target = dir.resolve("copied.txt");
        String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(content));
        var put = b.bytes("PUT", "/api/v1/nodes/mover/files?path=" + target + "&size=" + content.length
                + "&sha256=" + sha, content);
        assertThat(put.statusCode()).as(new String(put.body())).isBetween(200, 299);
        assertThat(Files.readAllBytes(target)).isEqualTo(content);
        var got = c.bytes("GET", "/api/v1/nodes/mover/files?path=" + target, null);
        assertThat(got.statusCode()).isEqualTo(200);
        assertThat(got.body()).isEqualTo(content);
        assertThat(got.headers().firstValue("Hub-File-Size")).hasValue(Integer.toString(content.length));
        // Its outcome, kept by a, read on b (as hubctl cp checks the hash end to end, on whichever hub).
        JsonNode outcome = b.json("GET", "/api/v1/transfers/" + got.headers().firstValue("Hub-Transfer").orElseThrow(),
                null);
        assertThat(outcome.get("state").asText()).as(outcome.toString()).isEqualTo("done");
        assertThat(outcome.get("sha256").asText()).isEqualTo(sha);

        // A copy run made on c to nodes of a and b: each node's copy goes through the hub holding it,
        // and c, which follows the run, records each outcome.
        Path runDir = Files.createDirectories(dir.resolve("by-run"));
        String copyRun = c.json("POST", "/api/v1/runs", "{\"copy\": {\"path\": \"" + runDir + "/\", \"name\": "
                + "\"copied.txt\", \"size\": " + content.length + ", \"sha256\": \"" + sha + "\"}, "
                + "\"nodes\": [\"mover\", \"drained\"], \"parallel\": \"1\"}").get("id").asText();
        for (String node : List.of("mover", "drained")) {
            var sent = c.bytes("PUT", "/api/v1/nodes/" + node + "/files?path=" + runDir + "/&name=copied.txt&size="
                    + content.length + "&sha256=" + sha + "&run=" + copyRun, content);
            assertThat(sent.statusCode()).as(new String(sent.body())).isEqualTo(201);
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonNode r = b.json("GET", "/api/v1/runs/" + copyRun, null);
            assertThat(r.get("state").asText()).as(r.toString()).isEqualTo("done");
            assertThat(r.get("nodes")).allSatisfy(n -> assertThat(n.get("outcome").asText()).isEqualTo("ok"));
        });
        assertThat(Files.readAllBytes(runDir.resolve("copied.txt"))).isEqualTo(content);

        // A cancel sent to b reaches the agent through a.
        String sleeper = b.json("POST", "/api/v1/nodes/mover/tasks", "{\"command\": \"sleep 60\"}").get("id").asText();
        await().atMost(Duration.ofSeconds(10)).until(() ->
                b.json("GET", "/api/v1/tasks/" + sleeper, null).get("state").asText().equals("running"));
        b.json("POST", "/api/v1/tasks/" + sleeper + "/cancel", "{}");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                b.json("GET", "/api/v1/tasks/" + sleeper, null).get("state").asText().equals("cancelled"));

        // A run made on c over nodes of a and b, still running when a is killed: it ends with every result.
        String run = c.json("POST", "/api/v1/runs", "{\"command\": \"sleep 2; echo run-done\", "
                + "\"nodes\": [\"mover\", \"drained\"], \"parallel\": \"2\"}").get("id").asText();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonNode r = c.json("GET", "/api/v1/runs/" + run, null);
            assertThat(r.get("nodes")).as(r.toString()).hasSize(2)
                    .allSatisfy(n -> assertThat(n.path("outcome").asText()).isEqualTo("running"));
        });

        // A run made on c, cancelled through b: c, which follows it, cancels it.
        String cancelled = c.json("POST", "/api/v1/runs", "{\"command\": \"sleep 30\", \"nodes\": [\"drained\"]}")
                .get("id").asText();
        await().atMost(Duration.ofSeconds(10)).until(() -> c.json("GET", "/api/v1/runs/" + cancelled, null)
                .get("nodes").get(0).path("outcome").asText().equals("running"));
        assertThat(b.json("POST", "/api/v1/runs/" + cancelled + "/cancel", "{}").get("state").asText())
                .isEqualTo("cancelled");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(b.json("GET", "/api/v1/runs/"
                + cancelled, null).get("nodes").get(0).path("outcome").asText()).isEqualTo("cancelled"));

        // A run made on a, one node at a time: when a is lost, another hub takes it over and starts the rest.
        String takenOver = a.json("POST", "/api/v1/runs", "{\"command\": \"sleep 2; echo taken-over-$HUB_NODE_NAME\", "
                + "\"nodes\": [\"mover\", \"drained\"], \"parallel\": \"1\"}").get("id").asText();
        await().atMost(Duration.ofSeconds(10)).until(() -> c.json("GET", "/api/v1/runs/" + takenOver, null)
                .get("nodes").get(0).path("outcome").asText().equals("running"));

        String moverId = nodes(b).get("mover").get("id").asText();
        Listener onB = new Listener(b, "types=node.online,node.offline");
        await().atMost(Duration.ofSeconds(10)).until(() -> onB.got.stream()
                .anyMatch(e -> e.path("type").asText().equals("sync")));

        // a hangs: a task made on c for mover (which a still holds) waits for the node's next hub.
        a.pause();
        Path once = dir.resolve("once.txt");
        JsonNode queued = c.json("POST", "/api/v1/nodes/mover/tasks", "{\"command\": \"echo delivered-$((6*7)) >> "
                + once + "; echo delivered-$((6*7))\"}");
        assertThat(queued.get("state").asText()).as(queued.toString()).isEqualTo("queued");
        a.kill9();
        await().atMost(Duration.ofSeconds(30)).until(() -> c.json("GET", "/api/v1/tasks/" + queued.get("id").asText(),
                null).get("state").asText().equals("exited"));
        assertThat(Files.readString(once)).as("run once").isEqualTo("delivered-42\n");
        assertThat(historyText(c, "mover").split("delivered-42", -1)).as("printed once").hasSize(2);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            JsonNode m = nodes(b).get("mover");
            assertThat(m.get("status").asText()).isEqualTo("online");
            assertThat(m.get("hub").asText()).isIn(idB, idC);
            JsonNode s = nodes(c).get("stranded");
            assertThat(s.get("status").asText()).isEqualTo("offline");
            assertThat(s.get("offlineReason").asText()).isEqualTo("hub lost");
        });
        assertThat(mover.connected()).isTrue();
        // A subscriber on b saw mover go offline (its hub lost) and come back, whichever hub took it.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(onB.about(moverId))
                .extracting(e -> e.path("type").asText()).containsExactly("node.offline", "node.online"));
        JsonNode offline = onB.about(moverId).get(0);
        // 'hub lost' once a's lease has run out; 'replaced…' when the agent was back on another hub sooner.
        assertThat(offline.get("reason").asText()).isIn("hub lost", "replaced by a new connection");
        // The same events, with the same sequences, resumed on another hub.
        try (Listener onC = new Listener(c, "types=node.online,node.offline&after=" + (offline.get("seq").asLong() - 1))) {
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(onC.about(moverId))
                    .extracting(e -> e.get("seq").asLong())
                    .containsExactlyElementsOf(onB.about(moverId).stream().map(e -> e.get("seq").asLong()).toList()));
        }
        onB.close();
        assertThat(historyText(b, "mover")).as("history survives its hub").contains("before-the-kill");
        assertThat(historyText(c, "mover")).contains("before-the-kill");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode r = c.json("GET", "/api/v1/runs/" + run, null);
            assertThat(r.get("state").asText()).as(r.toString()).isEqualTo("done");
            for (JsonNode n : r.get("nodes")) {
                assertThat(n.get("outcome").asText()).as(n.toString()).isEqualTo("ok");
            }
        });
        assertThat(historyText(b, "mover")).as("the run's output, through the hub the node moved to")
                .contains("run-done");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode r = b.json("GET", "/api/v1/runs/" + takenOver, null);
            assertThat(r.get("state").asText()).as(r.toString()).isEqualTo("done");
            for (JsonNode n : r.get("nodes")) {
                assertThat(n.get("outcome").asText()).as(n.toString()).isEqualTo("ok");
            }
        });
        assertThat(historyText(c, "mover")).as("started by the hub that took the run over")
                .contains("taken-over-mover");
        assertThat(historyText(c, "drained")).contains("taken-over-drained");

        // SIGTERM: b drains its agents to the hub that is left, even the one that only knew b.
        b.stop();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(onlineOn(c, "drained", idC)).as("drained to c by b's hint").isTrue();
            assertThat(onlineOn(c, "mover", idC)).isTrue();
        });
        assertThat(c.json("GET", "/api/v1/nodes/drained", null).get("hub").asText()).isEqualTo(idC);

        // One audit log for the cluster: what each hub did, none lost to a clash of sequences.
        List<String> actions = new ArrayList<>();
        for (JsonNode e : c.json("GET", "/api/v1/audit?limit=500", null).get("items")) {
            actions.add(e.get("action").asText());
        }
        assertThat(actions).contains("task.create", "task.cancel", "file.write", "run.create", "session.open");
        for (HubProcess h : hubs) {
            assertThat(Files.readString(h.dir.resolve("hubd.log"))).doesNotContain("duplicate key");
        }
    }
}

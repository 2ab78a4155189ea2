package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import hub.agent.AgentConnection;
import hub.hubd.config.HubConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Terminal sessions through the API, with a real agent running a real pseudo-terminal (pty4j):
 * the WebSocket contract of the README, the history and recording they leave, who may open and
 * join them, and how they end (exit code, idle timeout, client gone, hub restart).
 */
class SessionsTest {
    @TempDir
    Path dir;
    private TestHub hub;
    private AgentConnection agent;

    /**
     * An interactive shell without this machine's rc files: the tests are about the terminal, and a
     * login shell here would run whatever root's .bashrc does (pyenv init takes a lock, for one).
     * The login shell itself is what runs without a command (tried by hand; PROTOCOL.md).
     */
    private static final String SHELL = "\"command\":\"exec bash --norc --noprofile -i\"";

    private void start(HubConfig.Sessions sessions) {
        hub = new TestHub(HubConfig.defaults(dir.resolve("data")).withHeartbeatInterval(Duration.ofMillis(500))
                .withSessions(sessions));
        agent = hub.agent("term-1", hub.joinToken(1, "15m", Map.of()));
        await().atMost(Duration.ofSeconds(10)).until(agent::connected);
    }

    private void start() {
        start(HubConfig.Sessions.defaults());
    }

    @AfterEach
    void stop() throws Exception {
        if (hub != null) {
            hub.close();
        }
    }

    private String createUser(String name, String role) {
        TestHub.Answer a = hub.call("POST", "/api/v1/users", "{\"name\": \"" + name + "\", \"role\": \"" + role + "\"}",
                hub.adminToken());
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        return a.json().get("token").asText();
    }

    @Test
    void aLoginShellOnARealTerminalFollowsResizesAndEndsWithItsExitCode() {
        start();
        try (TerminalWs t = TerminalWs.open(hub, "term-1", hub.adminToken(), SHELL
                + ",\"term\":\"xterm-256color\",\"columns\":80,\"rows\":24,\"env\":{\"LANG\":\"C.UTF-8\"}")) {
            String id = t.id();
            assertThat(t.awaitControl("started").path("nodeName").asText()).isEqualTo("term-1");
            t.type("tty; echo \"T=$TERM L=$LANG H=$HOME\"; stty size\r");
            t.awaitOutput("24 80");
            assertThat(t.output()).contains("/dev/pts/").contains("T=xterm-256color L=C.UTF-8 H=" + System.getProperty(
                    "user.home"));
            t.resize(120, 40);
            t.type("stty size\r");
            t.awaitOutput("40 120");
            t.type("exit 3\r");
            JsonNode exit = t.awaitControl("exit");
            assertThat(exit.path("state").asText()).isEqualTo("exited");
            assertThat(exit.path("exitCode").asInt()).isEqualTo(3);
            await().atMost(Duration.ofSeconds(5)).until(() -> t.closed.isDone());
            assertThat(t.closed.join()).startsWith("1000");

            // The node's history has the session as text; the session list and its recording have it too.
            await().atMost(Duration.ofSeconds(5)).until(() -> historyText().contains("40 120"));
            assertThat(historyText()).contains("stty size").doesNotContain("\u001b");
            JsonNode s = hub.get("/api/v1/sessions/" + id);
            assertThat(s.path("state").asText()).isEqualTo("exited");
            assertThat(s.path("exitCode").asInt()).isEqualTo(3);
            assertThat(s.path("term").asText()).isEqualTo("xterm-256color");
            assertThat(s.path("live").asBoolean()).isFalse();
            assertThat(hub.get("/api/v1/sessions?node=term-1").path("items").get(0).path("id").asText()).isEqualTo(id);
            List<JsonNode> items = recording(id, false);
            StringBuilder played = new StringBuilder();
            for (JsonNode i : items) {
                if (i.path("kind").asText().equals("output")) {
                    played.append(new String(Base64.getDecoder().decode(i.path("data").asText()), StandardCharsets.UTF_8));
                }
            }
            assertThat(played.toString()).isEqualTo(t.output());
            assertThat(items).anySatisfy(i -> {
                assertThat(i.path("kind").asText()).isEqualTo("resize");
                assertThat(new String(Base64.getDecoder().decode(i.path("data").asText()))).isEqualTo("120x40");
            });
            // Typed input is not recorded without --record-input.
            assertThat(recording(id, true)).noneMatch(i -> i.path("kind").asText().equals("input"));
            JsonNode audit = hub.get("/api/v1/audit?node=term-1");
            assertThat(audit.toString()).contains("session.open").contains("session.end");
        }
    }

    private String historyText() {
        StringBuilder b = new StringBuilder();
        for (JsonNode l : hub.get("/api/v1/nodes/term-1/history?tail=200").path("lines")) {
            b.append(l.path("text").asText()).append('\n');
        }
        return b.toString();
    }

    private List<JsonNode> recording(String id, boolean input) {
        List<JsonNode> all = new ArrayList<>();
        String after = "0";
        for (int i = 0; i < 100; i++) {
            JsonNode page = hub.get("/api/v1/sessions/" + id + "/recording?after=" + after + (input ? "&input=true" : ""));
            page.path("items").forEach(all::add);
            after = page.path("next").asText();
            if (page.path("end").asBoolean()) {
                return all;
            }
        }
        throw new AssertionError("the recording did not end");
    }

    @Test
    void ctrlCReachesTheRemoteProcessAndACommandRunsOnTheTerminal() {
        start();
        try (TerminalWs t = TerminalWs.open(hub, "term-1", hub.adminToken(), SHELL)) {
            t.id();
            t.type("sleep 100\r");
            await().atMost(Duration.ofSeconds(10)).until(() -> t.output().contains("sleep 100"));
            t.type("\u0003");
            t.type("echo after-$((40+2))\r");
            t.awaitOutput("after-42");
            t.type("exit\r");
            assertThat(t.awaitControl("exit").path("exitCode").asInt()).isZero();
        }
        try (TerminalWs t = TerminalWs.open(hub, "term-1", hub.adminToken(), "\"command\":\"tty; exit 7\"")) {
            assertThat(t.awaitControl("exit").path("exitCode").asInt()).isEqualTo(7);
            assertThat(t.output()).contains("/dev/pts/");
        }
    }

    @Test
    void joinersSeeLiveOutputOnlyAdminsMayTypeAndOnlyOperatorsOpen() {
        start();
        String viewer = createUser("vera", "viewer");
        String operator = createUser("otto", "operator");
        String other = createUser("olga", "operator");
        // Each may work on the node by a grant (the node is admin's): vera views, otto and olga operate.
        grant("vera", "viewer");
        grant("otto", "operator");
        grant("olga", "operator");
        assertThat(WsClient.refusal(hub, "/api/v1/nodes/term-1/terminal", viewer)).isEqualTo(403);
        assertThat(WsClient.refusal(hub, "/api/v1/nodes/no-such-node/terminal", hub.adminToken())).isEqualTo(404);
        try (TerminalWs t = TerminalWs.open(hub, "term-1", operator, SHELL)) {
            String id = t.id();
            // Another operator may not watch otto's session; nor join it read-write; an unknown one is 404.
            assertThat(WsClient.refusal(hub, "/api/v1/sessions/" + id + "/join", other)).isEqualTo(403);
            assertThat(WsClient.refusal(hub, "/api/v1/sessions/" + id + "/join?rw=true", operator)).isEqualTo(403);
            assertThat(WsClient.refusal(hub, "/api/v1/sessions/nosuchsession0/join", hub.adminToken())).isEqualTo(404);
            try (TerminalWs watcher = TerminalWs.join(hub, id, hub.adminToken(), false);
                    TerminalWs own = TerminalWs.join(hub, id, operator, false)) {
                assertThat(watcher.awaitControl("joined").path("readWrite").asBoolean()).isFalse();
                own.awaitControl("joined");
                t.awaitControl("notice");
                t.type("echo live-$((6*7))\r");
                watcher.awaitOutput("live-42");
                own.awaitOutput("live-42");
                watcher.type("echo typed-by-watcher\r"); // read-only: told, not typed
                assertThat(watcher.awaitControl("notice").path("message").asText()).contains("read-only");
                assertThat(hub.get("/api/v1/sessions/" + id).path("watchers").asInt()).isEqualTo(2);
                try (TerminalWs rw = TerminalWs.join(hub, id, hub.adminToken(), true)) {
                    rw.awaitControl("joined");
                    rw.type("echo from-admin-$((1+1))\r");
                    t.awaitOutput("from-admin-2");
                }
                t.type("exit 0\r");
                assertThat(watcher.awaitControl("exit").path("exitCode").asInt()).isZero();
            }
            assertThat(t.output()).doesNotContain("typed-by-watcher");
            assertThat(WsClient.refusal(hub, "/api/v1/sessions/" + id + "/join", hub.adminToken())).isEqualTo(409);
        }
    }

    private void grant(String user, String role) {
        TestHub.Answer a = hub.call("POST", "/api/v1/users/" + user + "/grants",
                "{\"selector\":\"agent=yes\",\"role\":\"" + role + "\"}", hub.adminToken());
        assertThat(a.status()).as(a.body()).isIn(200, 201);
    }

    @Test
    void badStartFramesAreRefusedWithAProblemAndNothingRuns() {
        start();
        for (String bad : List.of("\"shell\":\"x\"", "\"env\":{\"PATH\":\"/tmp\"}", "\"columns\":0",
                "\"columns\":\"wide\"", "\"term\":\"x y\"", "\"user\":\"Not A User\"")) {
            try (TerminalWs t = TerminalWs.open(hub, "term-1", hub.adminToken(), bad)) {
                JsonNode e = t.awaitControl("error");
                assertThat(e.path("status").asInt()).as(bad).isEqualTo(400);
                assertThat(e.path("detail").asText()).isNotBlank();
                await().atMost(Duration.ofSeconds(5)).until(() -> t.closed.isDone());
            }
        }
        assertThat(hub.get("/api/v1/sessions").path("items")).isEmpty();
        // A plain GET of the endpoint is told to upgrade.
        assertThat(hub.call("GET", "/api/v1/nodes/term-1/terminal", null, hub.adminToken()).status()).isEqualTo(400);
    }

    @Test
    void aNodeThatGoesOfflineBeforeTheStartFrameIsAConflictNotAnError() {
        start();
        try (TerminalWs t = TerminalWs.connect(hub, "term-1", hub.adminToken())) {
            agent.close();
            await().atMost(Duration.ofSeconds(10)).until(() -> hub.node("term-1").path("status").asText()
                    .equals("offline"));
            t.text("{\"type\":\"start\"}");
            JsonNode e = t.awaitControl("error");
            assertThat(e.path("status").asInt()).isEqualTo(409);
            assertThat(e.path("detail").asText()).contains("offline");
        }
        assertThat(hub.get("/api/v1/sessions").path("items")).isEmpty();
    }

    @Test
    void anIdleSessionEndsAndANodeHasAtMostItsSessions() {
        start(new HubConfig.Sessions(Duration.ofSeconds(2), 1, true, 1 << 20, Duration.ofDays(1)));
        try (TerminalWs t = TerminalWs.open(hub, "term-1", hub.adminToken(), SHELL)) {
            String id = t.id();
            try (TerminalWs second = TerminalWs.open(hub, "term-1", hub.adminToken(), SHELL)) {
                JsonNode e = second.awaitControl("error");
                assertThat(e.path("status").asInt()).isEqualTo(503);
                assertThat(e.path("detail").asText()).contains("--session-max-per-node");
            }
            t.type("echo typed\r");
            t.awaitOutput("typed");
            assertThat(t.awaitControl("notice").path("message").asText()).contains("idle");
            JsonNode exit = t.awaitControl("exit");
            assertThat(exit.path("state").asText()).isEqualTo("cancelled");
            assertThat(exit.path("error").asText()).contains("idle");
            // With --record-input, what was typed is in the recording (for admins).
            assertThat(recording(id, true)).anySatisfy(i -> assertThat(i.path("kind").asText()).isEqualTo("input"));
        }
    }

    @Test
    void aClientThatGoesEndsItsSessionAndAHubRestartEndsSessionsCleanly() {
        start();
        TerminalWs t = TerminalWs.open(hub, "term-1", hub.adminToken(), SHELL);
        String first = t.id();
        t.type("echo up\r");
        t.awaitOutput("up");
        t.close(); // as sshd hangs up on a dropped connection
        await().atMost(Duration.ofSeconds(15)).until(() -> hub.get("/api/v1/tasks/" + first).path("state").asText()
                .equals("cancelled"));

        TerminalWs s = TerminalWs.open(hub, "term-1", hub.adminToken(), SHELL);
        String second = s.id();
        s.type("echo up2\r");
        s.awaitOutput("up2");
        hub.restart();
        JsonNode exit = s.awaitControl("exit");
        assertThat(exit.path("state").asText()).isEqualTo("hub-stopped");
        assertThat(exit.path("error").asText()).contains("hub is stopping");
        s.close();
        // After the restart, the agent reconnects still holding the shell: the hub ends it.
        await().atMost(Duration.ofSeconds(20)).until(() -> hub.get("/api/v1/tasks/" + second).path("state").asText()
                .equals("cancelled"));
    }
}

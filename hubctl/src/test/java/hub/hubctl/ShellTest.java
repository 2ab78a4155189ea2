package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.agent.AgentConnection;
import java.io.ByteArrayOutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.jline.reader.Candidate;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.DumbTerminal;
import hub.hubd.TestTls;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@code hubctl shell} through a JLine dumb terminal over piped streams, against a real hub. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShellTest {
    TestHub hub;
    AgentConnection web;
    AgentConnection db;

    @BeforeAll
    void start(@TempDir Path dir) {
        hub = new TestHub(dir);
        web = hub.agent("web-1");
        db = hub.agent("db-1");
    }

    @AfterAll
    void stop() {
        hub.close();
    }

    /** The shell's own settings: this hub, its admin token, its CA. */
    HubctlCommand.Session settings() {
        return new HubctlCommand.Session(hub.url, hub.token, null, false, TestTls.caFile(hub.hub).toString());
    }

    @Test
    void completesSubcommandsOptionsAndLiveNodeNames(@TempDir Path home) throws Exception {
        try (ShellSession s = new ShellSession(home, settings())) {
            assertThat(s.complete("")).contains("nodes", "history", "exec", "tokens", "listeners", "context")
                    .doesNotContain("shell");
            assertThat(s.complete("nodes ")).contains("ls", "show", "rm");
            assertThat(s.complete("nodes ls --")).contains("--status", "--label", "--watch", "--output");
            assertThat(s.complete("nodes show ")).contains("web-1", "db-1", web.nodeId())
                    .noneMatch(c -> c.startsWith("-")); // options once a '-' is typed
            assertThat(s.complete("nodes show -")).contains("--help", "--output");
            // Node ids are random, so one may start with 'w' too; names and ids are both offered.
            List<String> startingWithW = Stream.of("web-1", "db-1", web.nodeId(), db.nodeId())
                    .filter(c -> c.startsWith("w"))
                    .toList();
            assertThat(s.complete("nodes show w")).containsExactlyInAnyOrderElementsOf(startingWithW);
            assertThat(s.complete("history ")).contains("web-1", "db-1");
            assertThat(s.complete("exec ")).contains("web-1");
            assertThat(s.complete("events --node ")).contains("db-1");
        }
    }

    @Test
    void completesContextNamesFromTheConfigFile(@TempDir Path home) throws Exception {
        Map<String, String> env = Map.of("HOME", home.toString(), "XDG_CONFIG_HOME", home.resolve("config").toString());
        assertThat(Cli.runWith(env, "--hub", hub.url, "--token", hub.token, "login", "--name", "lab",
                "--ca-pin", hub.hub.tls().caPin()).code()).isZero();
        try (ShellSession s = new ShellSession(home, settings())) {
            assertThat(s.complete("context use ")).containsExactly("lab");
            assertThat(s.shell.prompt()).isEqualTo("hubctl [127.0.0.1:" + hub.hub.httpPort() + "]> ");
        }
    }

    @Test
    void completesTokenAndListenerIdsFromTheHub(@TempDir Path home) throws Exception {
        Cli.Run created = Cli.run(hub.url, hub.token, "tokens", "create", "-o", "json");
        String tokenId = created.json().get("id").asText();
        try (ShellSession s = new ShellSession(home, settings())) {
            assertThat(s.complete("tokens revoke ")).contains(tokenId);
            Cli.Background follow = new Cli.Background(hub.url, hub.token, "events", "-f");
            try {
                await().atMost(Duration.ofSeconds(10)).until(() ->
                        Cli.run(hub.url, hub.token, "listeners", "ls", "-o", "json").json().get("items").size() > 0);
                String listener = Cli.run(hub.url, hub.token, "listeners", "ls", "-o", "json").json()
                        .get("items").get(0).get("id").asText();
                // The list is cached for a few seconds; a command run in the shell refreshes it.
                s.shell.execute(List.of("status"));
                assertThat(s.complete("listeners kill ")).contains(listener);
            } finally {
                follow.stop();
            }
        }
    }

    @Test
    void runsCommandsKeepsGoingAfterErrorsAndKeepsHistory(@TempDir Path home) throws Exception {
        try (ShellSession s = new ShellSession(home, settings()).start()) {
            s.type("nodes ls\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.screen().contains("web-1"));
            s.type("nodes show no-such-node\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.screen().contains("hubctl: "));
            s.type("nodes ls --status bogus\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.screen().contains("--status must be"));
            s.type("status\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.screen().contains("Nodes:"));
            assertThat(s.screen()).contains("hubctl [127.0.0.1:" + hub.hub.httpPort() + "]> ");
            s.type("exit\n");
            s.thread.join(5000);
            assertThat(s.thread.isAlive()).isFalse();
            assertThat(s.exit.get()).isZero();
        }
        Path history = home.resolve("state/hubctl/history");
        assertThat(Files.readString(history)).contains("nodes ls", "nodes show no-such-node", "status", "exit");

        // A new shell starts with the old history.
        try (ShellSession again = new ShellSession(home, settings())) {
            List<String> lines = new ArrayList<>();
            again.shell.reader().getHistory().forEach(e -> lines.add(e.line()));
            assertThat(lines).contains("nodes ls", "status");
        }
    }

    @Test
    void ctrlCStopsAFollowAndTheShellGoesOn(@TempDir Path home) throws Exception {
        try (ShellSession s = new ShellSession(home, settings()).start()) {
            s.type("events -f --last 0\n");
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    Cli.run(hub.url, hub.token, "listeners", "ls", "-o", "json").json().get("items").size() > 0);
            s.terminal.raise(Terminal.Signal.INT);
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    Cli.run(hub.url, hub.token, "listeners", "ls", "-o", "json").json().get("items").isEmpty());
            s.type("status\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.screen().contains("Nodes:"));
            assertThat(s.thread.isAlive()).isTrue();
        }
    }

    @Test
    void ctrlCOnAnExecCancelsTheRemoteTask(@TempDir Path home) throws Exception {
        try (ShellSession s = new ShellSession(home, settings()).start()) {
            s.type("exec web-1 -- sleep 30\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> taskState("running") != null);
            String task = taskState("running");
            s.terminal.raise(Terminal.Signal.INT);
            await().atMost(Duration.ofSeconds(10)).until(() -> s.screen().contains("cancelled task " + task));
            await().atMost(Duration.ofSeconds(10)).until(() -> task.equals(taskState("cancelled")));
            s.type("status\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.screen().contains("Nodes:"));
        }
    }

    /** The task of the latest task.state event with this state, from the hub's recent events, or null. */
    private String taskState(String state) throws Exception {
        Cli.Run r = Cli.run(hub.url, hub.token, "events", "--types", "task.state", "--last", "100", "-o", "json");
        String found = null;
        for (String line : r.out().lines().toList()) {
            var e = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line);
            if (state.equals(e.path("state").asText())) {
                found = e.path("task").asText();
            }
        }
        return found;
    }

    @Test
    void ctrlDLeaves(@TempDir Path home) throws Exception {
        try (ShellSession s = new ShellSession(home, settings()).start()) {
            s.keys.close(); // end of input: what Ctrl-D at an empty prompt gives
            s.thread.join(5000);
            assertThat(s.thread.isAlive()).isFalse();
            assertThat(s.exit.get()).isZero();
        }
    }
}

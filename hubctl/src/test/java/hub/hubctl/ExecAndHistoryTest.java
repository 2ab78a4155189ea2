package hub.hubctl;

import hub.hubd.TestTls;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.agent.AgentConnection;
import hub.agent.AgentIdentity;
import hub.agent.Backoff;
import hub.agent.CredentialStore;
import hub.hubd.HubDaemon;
import hub.hubd.config.HubConfig;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** hubctl exec and history against a real hubd and agent. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExecAndHistoryTest {
    HubDaemon hub;
    AgentConnection agent;
    final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    Cli.Run hubctl(String... args) {
        return Cli.run(Cli.url(hub), hub.adminToken(), args);
    }

    @BeforeAll
    void start(@TempDir Path dir) {
        hub = HubDaemon.start(HubConfig.defaults(dir.resolve("data")));
        String token = hubctl("tokens", "create").out().strip();
        agent = Agents.start(hub, "box-1", token, scheduler);
    }

    @AfterAll
    void stop() {
        agent.close();
        scheduler.shutdownNow();
        hub.close();
    }

    @Test
    void execStreamsOutputAndExitsWithTheRemoteCode() {
        Cli.Run r = hubctl("exec", "box-1", "--", "echo", "hello;", "printf", "'\\033[1mbold\\033[0m\\n';",
                "echo", "oops", ">&2;", "exit", "7");
        assertThat(r.code()).as(r.err()).isEqualTo(7);
        assertThat(r.out()).isEqualTo("hello\nbold\n");
        assertThat(r.err()).isEqualTo("oops\n");
    }

    @Test
    void execRunsAsTheUserAskedForOrSaysWhyNot() {
        Cli.Run r = hubctl("exec", "--user", "nobody", "box-1", "--", "id", "-un");
        if (System.getProperty("user.name").equals("root")) { // the test agent runs as this JVM's user
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).isEqualTo("nobody\n");
        } else {
            assertThat(r.code()).isEqualTo(255);
            assertThat(r.err()).contains("cannot run tasks as nobody");
        }
        Cli.Run bad = hubctl("exec", "--user", "no body", "box-1", "--", "true");
        assertThat(bad.code()).isEqualTo(255);
        assertThat(bad.err()).contains("user must be a local user name");
    }

    @Test
    void execTimeoutIs124() {
        Cli.Run r = hubctl("exec", "--timeout", "300ms", "box-1", "--", "sleep", "30");
        assertThat(r.code()).isEqualTo(ExecCommand.EXIT_TIMED_OUT);
        assertThat(r.err()).contains("timed out");
    }

    @Test
    void execOnAnUnknownNodeIsExit255NotAnyRemoteCode() {
        Cli.Run r = hubctl("exec", "nope", "--", "true");
        assertThat(r.code()).isEqualTo(255);
        assertThat(r.err()).contains("no node 'nope'");
    }

    @Test
    void historyTailAndFollow() throws Exception {
        assertThat(hubctl("exec", "box-1", "--", "echo", "before-follow").code()).isZero();
        Cli.Run tail = hubctl("history", "box-1", "--tail", "1");
        assertThat(tail.out()).isEqualTo("before-follow\n");

        StringWriter out = new StringWriter();
        AtomicInteger code = new AtomicInteger(-1);
        Thread follower = new Thread(() -> {
            var cli = HubctlMain.commandLine();
            cli.setOut(new PrintWriter(out, true));
            cli.setErr(new PrintWriter(new StringWriter(), true));
            code.set(cli.execute("--hub", Cli.url(hub), "--token", hub.adminToken(), "--ca-file",
                    TestTls.caFile(hub).toString(),
                    "history", "box-1", "--tail", "0", "-f"));
        });
        follower.start();
        // Only once the follow is open (it starts after the current end: --tail 0) does the command run.
        await().atMost(Duration.ofSeconds(10)).until(() ->
                hubctl("listeners", "ls", "-o", "json").json().get("items").size() > 0);
        assertThat(hubctl("exec", "box-1", "--", "echo", "during-follow").code()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> out.toString().contains("during-follow\n"));
        follower.interrupt();
        follower.join(5000);
        assertThat(code.get()).isZero();
        assertThat(out.toString()).doesNotContain("before-follow");
    }

    @Test
    void historyJsonPrintsOneObjectPerLine() throws Exception {
        assertThat(hubctl("exec", "box-1", "--", "echo", "as-json").code()).isZero();
        Cli.Run r = hubctl("history", "box-1", "--tail", "1", "-o", "json");
        var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        assertThat(node.get("text").asText()).isEqualTo("as-json");
        assertThat(node.get("stream").asText()).isEqualTo("stdout");
        assertThat(node.get("offset").asLong()).isPositive();
    }
}

package hub.hubctl;

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
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hubctl's follow and watch modes over the hub's WebSockets: history -f, events -f and nodes ls -w
 * keep going across a hub restart (same data, same ports), resuming where they were; listeners ls
 * shows them and listeners kill ends them with a clear error.
 */
class FollowTest {
    @TempDir
    Path dir;
    HubConfig config;
    HubDaemon hub;
    AgentConnection agent;
    final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    String url() {
        return Cli.url(hub);
    }

    Cli.Run hubctl(String... args) {
        return Cli.run(url(), hub.adminToken(), args);
    }

    Cli.Background background(String... args) {
        return new Cli.Background(url(), hub.adminToken(), args);
    }

    @BeforeEach
    void start() {
        config = HubConfig.defaults(dir.resolve("data")).withHeartbeatInterval(Duration.ofMillis(500));
        hub = HubDaemon.start(config);
        String token = hubctl("tokens", "create").out().strip();
        agent = Agents.start(hub, "box-1", token, scheduler);
    }

    @AfterEach
    void stop() {
        agent.close();
        scheduler.shutdownNow();
        hub.close();
    }

    /** Stops the hub as on SIGTERM and starts it again on the same data and ports. */
    void restartHub() {
        int http = hub.httpPort();
        int grpc = hub.grpcPort();
        hub.close();
        hub = HubDaemon.start(config.withListeners(http, grpc, null));
        await().atMost(Duration.ofSeconds(15)).until(agent::connected);
    }

    @Test
    void historyFollowKeepsGoingAcrossAHubRestartWithEveryLineOnce() throws Exception {
        assertThat(hubctl("exec", "box-1", "--", "echo", "before").code()).isZero();
        Cli.Background f = background("history", "box-1", "--tail", "1", "-f");
        await().atMost(Duration.ofSeconds(10)).until(() -> f.out().equals("before\n"));
        assertThat(hubctl("exec", "box-1", "--", "echo", "one").code()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> f.out().equals("before\none\n"));

        restartHub();
        assertThat(hubctl("exec", "box-1", "--", "echo", "two").code()).isZero();
        await().atMost(Duration.ofSeconds(15)).until(() -> f.out().equals("before\none\ntwo\n"));
        assertThat(f.err()).contains("reconnected");
        assertThat(f.alive()).isTrue();
        assertThat(f.stop()).isZero();
    }

    @Test
    void execRidesThroughAHubRestartAndPrintsEachLineOnce() throws Exception {
        java.nio.file.Path go = dir.resolve("go");
        Cli.Background exec = background("exec", "box-1", "--",
                "echo one; while [ ! -e " + go + " ]; do sleep 0.1; done; echo two; exit 4");
        await().atMost(Duration.ofSeconds(10)).until(() -> exec.out().equals("one\n"));

        restartHub();
        java.nio.file.Files.writeString(go, "");
        await().atMost(Duration.ofSeconds(20)).until(() -> !exec.alive());
        assertThat(exec.code()).as(exec.err()).isEqualTo(4);
        assertThat(exec.out()).isEqualTo("one\ntwo\n");
        if (exec.err().contains("; retrying")) { // it polled while the hub was down (it nearly always does)
            assertThat(exec.err()).contains("hubctl: reconnected");
        }
    }

    @Test
    void eventsAndNodeWatchFollowTheFleetAcrossARestart() throws Exception {
        Cli.Background events = background("events", "-f", "--last", "0");
        Cli.Background watch = background("nodes", "ls", "-w");
        await().atMost(Duration.ofSeconds(10)).until(() -> watch.out().contains("box-1"));
        await().atMost(Duration.ofSeconds(10)).until(() -> hubctl("listeners", "ls", "-o", "json").out()
                .split("\"kind\"").length - 1 == 2);

        restartHub();
        await().atMost(Duration.ofSeconds(15)).until(() -> events.out().contains("node.online"));
        assertThat(events.out()).contains("node.offline").contains("offline: hub restart");
        assertThat(events.err()).as("a clean restart loses nothing, and is not reported as a gap")
                .contains("reconnected").doesNotContain("missed");
        await().atMost(Duration.ofSeconds(15)).until(() -> watch.out().lines()
                .filter(l -> l.startsWith("box-1")).count() >= 3); // listed, offline, online again
        List<String> rows = watch.out().lines().filter(l -> l.startsWith("box-1")).toList();
        assertThat(rows.get(rows.size() - 1)).contains("online");
        assertThat(rows).anyMatch(r -> r.contains("offline"));
        assertThat(watch.out().lines().filter(l -> l.startsWith("NAME")).count()).isEqualTo(1);
        assertThat(events.stop()).isZero();
        assertThat(watch.stop()).isZero();
    }

    @Test
    void watchAndEventsTakeTheWholeSelectorGrammarAndRepeatedDashL() throws Exception {
        Cli.Background watch = background("nodes", "ls", "-w", "-l", "role in (web,db)", "-l", "!gpu");
        await().atMost(Duration.ofSeconds(10)).until(() -> hubctl("listeners", "ls").out()
                .contains("label=role in (web,db),!gpu"));
        String token = hubctl("tokens", "create", "-l", "role=web", "-l", "env=prod").out().strip();
        AgentConnection web = Agents.start(hub, "web-a", token, scheduler);
        await().atMost(Duration.ofSeconds(10)).until(() -> watch.out().contains("web-a"));
        web.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> watch.out().lines()
                .anyMatch(l -> l.startsWith("web-a") && l.contains("offline")));
        agent.close(); // box-1 (no labels) goes offline too: not a row of this watch
        await().atMost(Duration.ofSeconds(10)).until(() -> hubctl("nodes", "ls", "--status", "offline", "-o", "name")
                .out().contains("box-1"));
        Cli.Run sel = hubctl("nodes", "ls", "-l", "role=web", "-l", "env notin (dev)", "-o", "name");
        assertThat(sel.out().lines().toList()).as(sel.err()).containsExactly("web-a");
        assertThat(watch.out()).doesNotContain("box-1");
        assertThat(watch.stop()).isZero();

        Cli.Run events = hubctl("events", "-l", "role=web", "-l", "env!=dev", "--last", "100", "-o", "json");
        assertThat(events.code()).as(events.err()).isZero();
        assertThat(events.out().lines().toList()).isNotEmpty()
                .allMatch(l -> l.contains("\"node\":\"" + web.nodeId() + "\""))
                .anyMatch(l -> l.contains("node.online")).anyMatch(l -> l.contains("node.offline"));
        Cli.Run bad = hubctl("nodes", "ls", "-l", "role in (web");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).startsWith("hubctl: ").contains("selector");
    }

    @Test
    void listenersLsShowsAFollowerAndKillEndsItWithExit1() throws Exception {
        Cli.Background f = background("events", "-f");
        await().atMost(Duration.ofSeconds(10)).until(() -> hubctl("listeners", "ls").out().lines().count() == 2);
        String row = hubctl("listeners", "ls").out().lines().skip(1).findFirst().orElseThrow();
        assertThat(row).contains("events").contains("admin").contains("127.0.0.1");
        String id = row.split("\\s+")[0];

        Cli.Run kill = hubctl("listeners", "kill", id);
        assertThat(kill.code()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> !f.alive());
        assertThat(f.code()).isEqualTo(1);
        assertThat(f.err()).contains("closed by admin");
        assertThat(hubctl("listeners", "kill", id).code()).isEqualTo(1);
    }

    @Test
    void eventsWithoutFollowPrintsTheRecentOnesAndExits() throws Exception {
        assertThat(hubctl("tokens", "create", "-l", "x=y").code()).isZero();
        Cli.Run r = hubctl("events", "--last", "2", "--types", "token.created", "-o", "json");
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(1)).contains("\"type\":\"token.created\"").contains("\"x\":\"y\"");
        Cli.Run bad = hubctl("events", "--types", "node.exploded");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).startsWith("hubctl: unknown event type 'node.exploded'").contains("error id");
    }
}

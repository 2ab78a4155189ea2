package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hubctl exec} on many nodes (a run), and {@code hubctl runs ls|show|cancel}, on real agents. */
class FleetExecTest {
    @Test
    void execOnASelectorOnNamedNodesAndOnAllThenRunsShowAndCancel(@TempDir Path dir) throws Exception {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (TestHub hub = new TestHub(dir)) {
            String web = Cli.run(hub.url, hub.token, "tokens", "create", "--uses", "3", "-l", "role=web").out().strip();
            Agents.start(hub.hub, "web-1", web, scheduler);
            Agents.start(hub.hub, "web-22", web, scheduler);
            String db = Cli.run(hub.url, hub.token, "tokens", "create", "-l", "role=db").out().strip();
            Agents.start(hub.hub, "db-1", db, scheduler);

            Cli.Run r = Cli.run(hub.url, hub.token, "exec", "-l", "role=web", "--parallel", "100%", "--",
                    "echo hi from $(hostname); echo oops >&2");
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out().lines()).containsExactlyInAnyOrder("web-1  | hi from " + hostname(),
                    "web-22 | hi from " + hostname());
            assertThat(r.err()).contains("web-1  | oops").contains("web-22 | oops")
                    .containsPattern("web-1\\s+ok\\s+0").contains("done: ok 2");

            Cli.Run failed = Cli.run(hub.url, hub.token, "exec", "web-1", "db-1", "--max-errors", "5", "--",
                    "test $(hostname) = nope");
            assertThat(failed.code()).as("any failure is 1 for a run").isEqualTo(1);
            assertThat(failed.err()).containsPattern("db-1\\s+failed\\s+1");

            Cli.Run every = Cli.run(hub.url, hub.token, "exec", "--all", "--", "true");
            assertThat(every.code()).as(every.err()).isZero();
            assertThat(every.err()).contains("on 3 node(s)").contains("ok 3");

            assertThat(Cli.run(hub.url, hub.token, "exec", "--", "true").code()).isEqualTo(ExitCodes.USAGE);
            Cli.Run both = Cli.run(hub.url, hub.token, "exec", "-l", "role=web", "web-1", "--", "true");
            assertThat(both.code()).isEqualTo(ExitCodes.USAGE);
            assertThat(both.err()).contains("not more than one");
            Cli.Run none = Cli.run(hub.url, hub.token, "exec", "-l", "role=nothing", "--", "true");
            assertThat(none.code()).isEqualTo(255);
            assertThat(none.err()).contains("no node matches");

            Cli.Run ls = Cli.run(hub.url, hub.token, "runs", "ls");
            assertThat(ls.out()).contains("STATE").contains("done").contains("ok 2").contains("ok 3");
            String id = Cli.run(hub.url, hub.token, "runs", "ls", "-o", "name").out().lines().findFirst().orElseThrow();
            assertThat(Cli.run(hub.url, hub.token, "runs", "show", id).out()).contains("Outcomes:  ok 3")
                    .containsPattern("db-1\\s+ok\\s+0");

            Cli.Background slow = new Cli.Background(hub.url, hub.token, "exec", "-l", "role=web", "--", "sleep 60");
            await().atMost(Duration.ofSeconds(10)).until(() -> slow.err().contains("hubctl: run "));
            String slowId = slow.err().lines().filter(l -> l.startsWith("hubctl: run ")).findFirst().orElseThrow()
                    .split(" ")[2];
            assertThat(Cli.run(hub.url, hub.token, "runs", "cancel", slowId).code()).isZero();
            await().atMost(Duration.ofSeconds(20)).until(() -> !slow.alive());
            assertThat(slow.code()).isEqualTo(130);
            assertThat(slow.err()).contains("cancelled");
        } finally {
            scheduler.shutdownNow();
        }
    }

    static String hostname() throws Exception {
        return new String(new ProcessBuilder("hostname").start().getInputStream().readAllBytes()).strip();
    }
}

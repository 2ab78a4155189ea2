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

    @Test
    void groupFoldsTheSameOutputJsonIsOneObjectPerNodeAndNamesAreColoredPerNode(@TempDir Path dir) throws Exception {
        try (TestHub hub = new TestHub(dir)) {
            String web = Cli.run(hub.url, hub.token, "tokens", "create", "--uses", "4", "-l", "role=web").out().strip();
            ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
            try {
                for (String n : new String[] {"web-1", "web-2", "web-3", "odd-1"}) {
                    Agents.start(hub.hub, n, web, scheduler);
                }
                // the same output on web-1..3, another on odd-1
                String cmd = "case $HUB_NODE_NAME in odd-*) echo different;; *) echo same; echo line2;; esac";
                Cli.Run g = Cli.run(hub.url, hub.token, "exec", "-l", "role=web", "--group", "--parallel", "100%",
                        "--", cmd);
                assertThat(g.code()).as(g.err()).isZero();
                // one block per distinct output; the folded line names every node that printed it
                assertThat(g.out().lines().filter(l -> l.startsWith("----- "))).hasSize(2);
                assertThat(g.out()).containsPattern("----- (web-[123]) \\(ok, exit 0\\) -----\nsame\nline2\n")
                        .contains("----- odd-1 (ok, exit 0) -----\ndifferent\n")
                        .containsPattern("web-\\[1-3\\]: same output \\(printed under web-[123]\\)");
                assertThat(g.out()).doesNotContain("odd-1: same output");

                Cli.Run j = Cli.run(hub.url, hub.token, "exec", "-l", "role=web", "-o", "json", "--parallel", "100%",
                        "--", "echo out; echo err >&2; exit 0");
                assertThat(j.code()).as(j.err()).isZero();
                var objects = j.out().lines().map(l -> {
                    try {
                        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(l);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }).toList();
                assertThat(objects).hasSize(4);
                assertThat(objects).extracting(o -> o.get("node").asText())
                        .containsExactlyInAnyOrder("web-1", "web-2", "web-3", "odd-1");
                assertThat(objects).allSatisfy(o -> {
                    assertThat(o.get("outcome").asText()).isEqualTo("ok");
                    assertThat(o.get("exitCode").asInt()).isZero();
                    assertThat(o.get("stdout").asText()).isEqualTo("out\n");
                    assertThat(o.get("stderr").asText()).isEqualTo("err\n");
                    assertThat(o.get("complete").asBoolean()).isTrue();
                });

                Cli.Run colored = Cli.run(hub.url, hub.token, "--color", "always", "exec", "web-1", "web-2", "--",
                        "echo hi");
                assertThat(colored.out()).contains("\033[36mweb-1\033[0m | hi").contains("\033[33mweb-2\033[0m | hi");
                Cli.Run plain = Cli.run(hub.url, hub.token, "exec", "web-1", "web-2", "--batch-wait", "10ms", "--",
                        "echo hi");
                assertThat(plain.out()).doesNotContain("\033[").contains("web-1 | hi");
            } finally {
                scheduler.shutdownNow();
            }
        }
    }

    @Test
    void nodeNamesFoldIntoRanges() {
        assertThat(NodeRanges.fold(java.util.List.of("web-1", "web-2", "web-3", "web-5", "db", "web-10", "n01", "n02")))
                .isEqualTo("web-[1-3,5,10],db,n[01-02]");
        assertThat(NodeRanges.fold(java.util.List.of("a"))).isEqualTo("a");
        assertThat(NodeRanges.fold(java.util.List.of("x7"))).isEqualTo("x7");
    }

    static String hostname() throws Exception {
        return new String(new ProcessBuilder("hostname").start().getInputStream().readAllBytes()).strip();
    }
}

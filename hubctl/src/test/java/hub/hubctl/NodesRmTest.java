package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.agent.AgentConnection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hubctl nodes rm}: by name, by selector (confirmed, or -y), and offline for a while. */
class NodesRmTest {
    @Test
    void removesNamedPickedAndLongOfflineNodes(@TempDir Path dir) throws Exception {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (TestHub hub = new TestHub(dir)) {
            String web = Cli.run(hub.url, hub.token, "tokens", "create", "--uses", "2", "-l", "team=web").out().strip();
            String db = Cli.run(hub.url, hub.token, "tokens", "create", "--uses", "2", "-l", "team=db").out().strip();
            Agents.start(hub.hub, "web-1", web, scheduler);
            Agents.start(hub.hub, "web-2", web, scheduler);
            AgentConnection db1 = Agents.start(hub.hub, "db-1", db, scheduler);
            Agents.start(hub.hub, "db-2", db, scheduler);

            assertThat(Cli.run(hub.url, hub.token, "nodes", "rm").code()).isEqualTo(ExitCodes.USAGE);
            assertThat(Cli.run(hub.url, hub.token, "nodes", "rm", "web-1", "-l", "team=web").code())
                    .isEqualTo(ExitCodes.USAGE);
            Cli.Run unconfirmed = Cli.run(hub.url, hub.token, "nodes", "rm", "-l", "team=web");
            assertThat(unconfirmed.code()).isEqualTo(ExitCodes.USAGE);
            assertThat(unconfirmed.err()).contains("2 node(s) match").contains("-y");
            assertThat(Cli.run(hub.url, hub.token, "nodes", "ls").out()).contains("web-1").contains("web-2");

            Cli.Run picked = Cli.run(hub.url, hub.token, "nodes", "rm", "-l", "team in (web)", "-y");
            assertThat(picked.code()).as(picked.err()).isZero();
            String left = Cli.run(hub.url, hub.token, "nodes", "ls").out();
            assertThat(left).doesNotContain("web-1").doesNotContain("web-2").contains("db-1").contains("db-2");

            db1.close();
            await().atMost(Duration.ofSeconds(10)).until(() -> Cli.run(hub.url, hub.token, "nodes", "ls", "--status",
                    "offline").out().contains("db-1"));
            assertThat(Cli.run(hub.url, hub.token, "nodes", "rm", "--offline-for", "1h", "-y").out())
                    .contains("no node matches");
            Thread.sleep(2100);
            Cli.Run old = Cli.run(hub.url, hub.token, "nodes", "rm", "-l", "team=db", "--offline-for", "2s", "-y");
            assertThat(old.code()).as(old.err()).isZero();
            left = Cli.run(hub.url, hub.token, "nodes", "ls").out();
            assertThat(left).doesNotContain("db-1").contains("db-2");
            assertThat(Cli.run(hub.url, hub.token, "nodes", "rm", "--offline-for", "soon", "-y").code())
                    .isEqualTo(ExitCodes.USAGE);

            assertThat(Cli.run(hub.url, hub.token, "nodes", "rm", "db-2").code()).isZero();
            Cli.Run missing = Cli.run(hub.url, hub.token, "nodes", "rm", "nope");
            assertThat(missing.code()).isEqualTo(ExitCodes.HUB_ERROR);
            assertThat(missing.err()).contains("nope");
        } finally {
            scheduler.shutdownNow();
        }
    }
}

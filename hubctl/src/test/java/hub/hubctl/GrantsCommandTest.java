package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;

import hub.agent.AgentConnection;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hubctl users grant|revoke|show}, {@code users rm --reassign-to} and {@code nodes assign}
 * against a real hub and real agents: what a granted viewer then sees through hubctl itself.
 */
class GrantsCommandTest {
    @Test
    void grantsAssignAndReassignFromTheCommandLine(@TempDir Path dir) {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (TestHub hub = new TestHub(dir)) {
            String webToken = Cli.run(hub.url, hub.token, "tokens", "create", "-l", "team=web").out().strip();
            String dbToken = Cli.run(hub.url, hub.token, "tokens", "create", "-l", "team=db").out().strip();
            AgentConnection web = Agents.start(hub.hub, "web-1", webToken, scheduler);
            AgentConnection db = Agents.start(hub.hub, "db-1", dbToken, scheduler);

            String vera = Cli.run(hub.url, hub.token, "users", "create", "vera", "--role", "viewer").out().strip();
            assertThat(Cli.run(hub.url, vera, "nodes", "ls").out()).contains("NAME").doesNotContain("web-1");

            Cli.Run granted = Cli.run(hub.url, hub.token, "users", "grant", "vera", "-l", "team in (web,cache)",
                    "--role", "viewer");
            assertThat(granted.code()).as(granted.err()).isZero();
            assertThat(granted.out()).contains("granted vera viewer on nodes matching team in (web,cache)");
            assertThat(Cli.run(hub.url, hub.token, "users", "show", "vera").out())
                    .contains("viewer    on nodes matching team in (web,cache)");
            assertThat(Cli.run(hub.url, hub.token, "users", "ls").out()).contains("team in (web,cache):viewer");
            Cli.Run ls = Cli.run(hub.url, vera, "nodes", "ls");
            assertThat(ls.out()).contains("web-1").doesNotContain("db-1");
            Cli.Run exec = Cli.run(hub.url, vera, "exec", "web-1", "--", "true");
            assertThat(exec.code()).isEqualTo(255);
            assertThat(exec.err().strip()).startsWith("hubctl: ").contains("operator role on node web-1")
                    .doesNotContain("\n");

            assertThat(Cli.run(hub.url, hub.token, "users", "revoke", "vera", "-l", "team in (web,cache)").code())
                    .isZero();
            assertThat(Cli.run(hub.url, vera, "nodes", "ls").out()).doesNotContain("web-1");
            Cli.Run again = Cli.run(hub.url, hub.token, "users", "revoke", "vera", "-l", "team in (web,cache)");
            assertThat(again.code()).isEqualTo(1);
            assertThat(again.err()).contains("no grant");
            assertThat(Cli.run(hub.url, hub.token, "users", "grant", "vera", "-l", "team in (web", "--role",
                    "viewer").err()).contains("unbalanced");

            // nodes assign, then a user who owns a node is only removed with --reassign-to
            Cli.run(hub.url, hub.token, "users", "create", "olaf", "--role", "operator");
            Cli.run(hub.url, hub.token, "users", "create", "carl", "--role", "operator");
            Cli.Run assigned = Cli.run(hub.url, hub.token, "nodes", "assign", "db-1", "--owner", "olaf");
            assertThat(assigned.code()).as(assigned.err()).isZero();
            assertThat(assigned.out()).contains("node db-1 is now owned by olaf");
            assertThat(Cli.run(hub.url, hub.token, "nodes", "show", "db-1").out()).containsPattern("Owner:\\s+olaf");
            Cli.Run refused = Cli.run(hub.url, hub.token, "users", "rm", "olaf");
            assertThat(refused.code()).isEqualTo(1);
            assertThat(refused.err()).contains("owns 1 node").contains("--reassign-to");
            Cli.Run removed = Cli.run(hub.url, hub.token, "users", "rm", "olaf", "--reassign-to", "carl");
            assertThat(removed.code()).as(removed.err()).isZero();
            assertThat(Cli.run(hub.url, hub.token, "nodes", "show", "db-1").out()).containsPattern("Owner:\\s+carl");
            web.close();
            db.close();
        } finally {
            scheduler.shutdownNow();
        }
    }
}

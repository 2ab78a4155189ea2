package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hubctl audit}: the table, filters, JSON, and {@code -f} printing entries as they are recorded. */
class AuditCommandTest {
    @Test
    void auditShowsFiltersAndFollows(@TempDir Path dir) throws Exception {
        try (TestHub hub = new TestHub(dir)) {
            Cli.run(hub.url, hub.token, "tokens", "create", "-l", "team=web");
            String vera = Cli.run(hub.url, hub.token, "users", "create", "vera", "--role", "viewer").out().strip();
            Cli.run(hub.url, vera, "tokens", "create"); // a viewer may not: denied, and recorded

            Cli.Run table = Cli.run(hub.url, hub.token, "audit");
            assertThat(table.code()).as(table.err()).isZero();
            assertThat(table.out()).contains("ACTION").containsPattern("admin\\s+127\\.0\\.0\\.1\\s+token\\.create")
                    .contains("user.create").containsPattern("vera\\s+127\\.0\\.0\\.1\\s+token\\.create\\s+-\\s+denied 403");
            Cli.Run mine = Cli.run(hub.url, hub.token, "audit", "--user", "vera", "-o", "json");
            assertThat(mine.json().get("items")).hasSize(1);
            assertThat(Cli.run(hub.url, vera, "audit").code()).isEqualTo(1);
            assertThat(Cli.run(hub.url, hub.token, "audit", "--limit", "0").code()).isEqualTo(2);

            Cli.Background follow = new Cli.Background(hub.url, hub.token, "audit", "-f", "--since", "1h");
            await().atMost(Duration.ofSeconds(10)).until(() -> follow.out().contains("user.create"));
            Cli.run(hub.url, hub.token, "users", "rm", "vera");
            await().atMost(Duration.ofSeconds(10)).until(() -> follow.out().contains("user.remove"));
            assertThat(follow.out().lines().filter(l -> l.contains("user.create"))).hasSize(1);
            follow.stop();
        }
    }
}

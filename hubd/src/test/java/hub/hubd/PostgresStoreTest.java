package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import hub.agent.AgentConnection;
import hub.agent.CredentialStore;
import hub.agent.IdentityStore;
import hub.hubd.config.HubConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same migrations and repositories on the machine's PostgreSQL (the several-hubs database), in
 * a throwaway database. Skipped only when PostgreSQL is missing and neither {@code CI=true} nor
 * {@code HUB_TEST_SERVICES=required} is set; otherwise a missing server fails the run.
 */
class PostgresStoreTest {
    static final String SERVER = System.getenv().getOrDefault("HUB_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/");
    static final String USER = "?user=postgres";

    @TempDir
    Path dir;
    String dbName = "hub_test_" + Long.toHexString(System.nanoTime());
    TestHub hub;

    static boolean required() {
        return "true".equals(System.getenv("CI")) || "required".equals(System.getenv("HUB_TEST_SERVICES"));
    }

    @BeforeEach
    void createDatabase() throws SQLException {
        try (Connection c = DriverManager.getConnection(SERVER + "postgres" + USER); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + dbName);
        } catch (SQLException e) {
            if (required()) {
                throw e;
            }
            Assumptions.abort("PostgreSQL not reachable and not required: " + e.getMessage());
        }
    }

    @AfterEach
    void dropDatabase() throws Exception {
        if (hub != null) {
            hub.close();
        }
        try (Connection c = DriverManager.getConnection(SERVER + "postgres" + USER); Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)");
        }
    }

    @Test
    void joinReconnectAndRestartOnPostgres() {
        HubConfig base = HubConfig.defaults(dir.resolve("data"));
        HubConfig pg = base.withListeners(0, 0, SERVER + dbName + USER).withHeartbeatInterval(Duration.ofMillis(200));
        hub = new TestHub(pg);
        String token = hub.joinToken(1, "15m", Map.of("db", "pg"));
        IdentityStore creds = IdentityStore.memory();
        AgentConnection a = hub.agent("pg-1", creds, token);
        await().atMost(Duration.ofSeconds(10)).until(a::connected);
        String id = a.nodeId();
        assertThat(hub.node(id).get("labels").get("db").asText()).isEqualTo("pg");

        hub.restart();

        assertThat(hub.node(id).get("name").asText()).isEqualTo("pg-1");
        await().atMost(Duration.ofSeconds(10)).until(() -> hub.node(id).get("status").asText().equals("online"));
        assertThat(a.nodeId()).isEqualTo(id);

        // Tasks on PostgreSQL: a kept cancel, the filtered list and its keyset cursor.
        String done = task("true");
        await().atMost(Duration.ofSeconds(10)).until(() -> state(done).equals("exited"));
        String sleeper = task("sleep 600");
        await().atMost(Duration.ofSeconds(10)).until(() -> state(sleeper).equals("running"));
        TestHub.Answer cancel = hub.call("POST", "/api/v1/tasks/" + sleeper + "/cancel", null, hub.adminToken());
        assertThat(cancel.json().get("cancelRequestedBy").asText()).isEqualTo("admin");
        await().atMost(Duration.ofSeconds(10)).until(() -> state(sleeper).equals("cancelled"));
        JsonNode first = hub.get("/api/v1/nodes/pg-1/tasks?limit=1");
        assertThat(first.get("items").get(0).get("id").asText()).isEqualTo(sleeper);
        JsonNode second = hub.get("/api/v1/nodes/pg-1/tasks?limit=1&cursor=" + first.get("next").asText());
        assertThat(second.get("items").get(0).get("id").asText()).isEqualTo(done);
        assertThat(second.has("next")).isFalse();
        assertThat(hub.get("/api/v1/nodes/pg-1/tasks?state=cancelled").get("items")).hasSize(1);
    }

    private String task(String command) {
        TestHub.Answer a = hub.call("POST", "/api/v1/nodes/pg-1/tasks", "{\"command\": \"" + command + "\"}",
                hub.adminToken());
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        return a.json().get("id").asText();
    }

    private String state(String taskId) {
        return hub.get("/api/v1/tasks/" + taskId).get("state").asText();
    }
}

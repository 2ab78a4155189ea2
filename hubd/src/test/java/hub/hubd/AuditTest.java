package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import hub.agent.AgentConnection;
import hub.hubd.audit.AuditLog;
import hub.hubd.audit.AuditRepository;
import hub.hubd.config.HubConfig;
import hub.hubd.store.Database;
import hub.hubd.store.JdbcAuditRepository;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The audit log over the real API and database: each kind of change, refused attempts, failed
 * logins (rate-limited per address), filters, admins only, the JSON log line, and retention.
 */
class AuditTest {
    @TempDir
    Path dir;
    TestHub hub;
    final ListAppender<ILoggingEvent> auditLines = new ListAppender<>();
    final Logger auditLogger = (Logger) LoggerFactory.getLogger("hub.audit");

    @BeforeEach
    void start() {
        auditLines.start();
        auditLogger.addAppender(auditLines);
        hub = new TestHub(HubConfig.defaults(dir.resolve("data")));
    }

    @AfterEach
    void stop() throws Exception {
        auditLogger.detachAppender(auditLines);
        hub.close();
    }

    List<JsonNode> audit(String query) {
        List<JsonNode> out = new ArrayList<>();
        hub.get("/api/v1/audit" + query).get("items").forEach(out::add);
        return out;
    }

    JsonNode last(String action) {
        List<JsonNode> all = audit("?limit=1000");
        for (int i = all.size() - 1; i >= 0; i--) {
            if (all.get(i).get("action").asText().equals(action)) {
                return all.get(i);
            }
        }
        throw new AssertionError("no " + action + " in " + all);
    }

    @Test
    void everyChangeAndCommandIsRecordedWithWhoWhereWhatAndTheResult() throws Exception {
        AgentConnection web = hub.agent("web-1", hub.joinToken(1, "1h", Map.of("team", "web")));
        await().atMost(Duration.ofSeconds(10)).until(web::connected);
        String vera = hub.call("POST", "/api/v1/users", "{\"name\":\"vera\",\"role\":\"viewer\"}", hub.adminToken())
                .json().get("token").asText();
        hub.call("POST", "/api/v1/users/vera/grants", "{\"selector\":\"team=web\",\"role\":\"viewer\"}",
                hub.adminToken());
        TestHub.Answer task = hub.call("POST", "/api/v1/nodes/web-1/tasks", "{\"command\":\"sleep 30\"}",
                hub.adminToken());
        String taskId = task.json().get("id").asText();
        hub.call("POST", "/api/v1/tasks/" + taskId + "/cancel", null, hub.adminToken());
        assertThat(hub.call("POST", "/api/v1/nodes/web-1/tasks", "{\"command\":\"rm -rf /\"}", vera).status())
                .isEqualTo(403);
        hub.call("DELETE", "/api/v1/users/vera/grants?selector=team%3Dweb", null, hub.adminToken());
        hub.call("POST", "/api/v1/nodes/web-1/owner", "{\"owner\":\"admin\"}", hub.adminToken());

        JsonNode created = audit("?user=admin").stream().filter(e -> e.get("action").asText().equals("task.create"))
                .findFirst().orElseThrow();
        assertThat(created.get("userName").asText()).isEqualTo("admin");
        assertThat(created.get("userId").asText()).hasSize(16);
        assertThat(created.get("tokenId").asText()).isNotBlank();
        assertThat(created.get("remoteAddr").asText()).isEqualTo("127.0.0.1");
        assertThat(created.get("target").asText()).isEqualTo("web-1");
        assertThat(created.get("nodeId").asText()).isEqualTo(web.nodeId());
        assertThat(created.get("detail").asText()).isEqualTo("task " + taskId + ": sleep 30");
        assertThat(created.get("status").asInt()).isEqualTo(201);
        assertThat(created.get("result").asText()).isEqualTo("ok");

        assertThat(last("task.cancel").get("nodeId").asText()).isEqualTo(web.nodeId());
        JsonNode denied = audit("?user=vera").stream().filter(e -> e.get("action").asText().equals("task.create"))
                .findFirst().orElseThrow();
        assertThat(denied.get("result").asText()).isEqualTo("denied");
        assertThat(denied.get("status").asInt()).isEqualTo(403);
        assertThat(denied.get("detail").asText()).isEqualTo("rm -rf /");
        assertThat(last("grant.add").get("detail").asText()).isEqualTo("viewer on team=web");
        assertThat(last("grant.add").get("target").asText()).isEqualTo("vera");
        assertThat(last("grant.revoke").get("status").asInt()).isEqualTo(204);
        assertThat(last("node.assign").get("detail").asText()).isEqualTo("owner admin");
        assertThat(last("user.create").has("target")).isFalse(); // the name is in the body, not the path
        assertThat(last("token.create").get("status").asInt()).isEqualTo(201);

        // by node, also after the node is gone; reads are not recorded
        assertThat(audit("?node=web-1")).extracting(e -> e.get("action").asText())
                .containsExactly("node.join", "task.create", "task.cancel", "task.create", "node.assign");
        assertThat(hub.call("DELETE", "/api/v1/nodes/web-1", null, hub.adminToken()).status()).isEqualTo(204);
        assertThat(audit("?node=" + web.nodeId())).extracting(e -> e.get("action").asText()).last()
                .isEqualTo("node.remove");
        assertThat(audit("?limit=1000")).noneMatch(e -> e.get("action").asText().startsWith("http.get"));

        // after= continues; since= cuts; the log line carries the fields
        long seq = last("node.remove").get("seq").asLong();
        hub.call("POST", "/api/v1/join-tokens", "{}", hub.adminToken());
        assertThat(audit("?after=" + seq)).extracting(e -> e.get("action").asText()).containsExactly("token.create");
        assertThat(audit("?since=2000-01-01T00:00:00Z&limit=1000")).hasSameSizeAs(audit("?limit=1000"));
        assertThat(auditLines.list).anyMatch(l -> l.getFormattedMessage().contains("task.create by admin from 127.0.0.1")
                && l.getKeyValuePairs().stream().anyMatch(kv -> kv.key.equals("node") && web.nodeId().equals(kv.value)));

        // admins only; bad parameters are 400
        assertThat(hub.call("GET", "/api/v1/audit", null, vera).status()).isEqualTo(403);
        assertThat(hub.call("GET", "/api/v1/audit?since=yesterday", null, hub.adminToken()).status()).isEqualTo(400);
        assertThat(hub.call("GET", "/api/v1/audit?limit=0", null, hub.adminToken()).status()).isEqualTo(400);
    }

    @Test
    void tokensUsersListenersProvisioningAndJoinsAreRecordedToo() throws Exception {
        TestHub.Answer token = hub.call("POST", "/api/v1/join-tokens", "{\"uses\":2}", hub.adminToken());
        String secret = token.json().get("token").asText();
        AgentConnection joined = hub.agent("joiner-1", secret);
        await().atMost(Duration.ofSeconds(10)).until(joined::connected);
        hub.call("DELETE", "/api/v1/join-tokens/" + token.json().get("id").asText(), null, hub.adminToken());
        hub.call("POST", "/api/v1/users", "{\"name\":\"bob\",\"role\":\"operator\"}", hub.adminToken());
        hub.call("POST", "/api/v1/users/bob/token", null, hub.adminToken());
        hub.call("DELETE", "/api/v1/users/bob", null, hub.adminToken());
        try (WsClient events = WsClient.open(hub, "/api/v1/events", hub.adminToken())) {
            await().atMost(Duration.ofSeconds(5)).until(() -> hub.get("/api/v1/listeners").get("items").size() == 1);
            String id = hub.get("/api/v1/listeners").get("items").get(0).get("id").asText();
            hub.call("DELETE", "/api/v1/listeners/" + id, null, hub.adminToken());
        }
        String script = hub.joinToken(1, "1h", Map.of());
        int scriptStatus = hub.call("GET", "/api/v1/provisioning/script", null, script).status();

        await().atMost(Duration.ofSeconds(5)).until(() -> audit("?limit=1000").stream()
                .anyMatch(e -> e.get("action").asText().equals("node.join")));
        JsonNode join = last("node.join");
        assertThat(join.get("nodeId").asText()).isEqualTo(joined.nodeId());
        assertThat(join.get("target").asText()).isEqualTo("joiner-1");
        assertThat(join.get("userName").asText()).as("joined with the admin's token").isEqualTo("admin");
        assertThat(join.get("remoteAddr").asText()).contains("127.0.0.1");
        assertThat(last("provisioning.script").get("status").asInt()).isEqualTo(scriptStatus);
        for (String action : List.of("token.revoke", "user.rotate-token", "user.remove", "listener.kill")) {
            JsonNode e = last(action);
            assertThat(e.get("result").asText()).as(action + ": " + e).isEqualTo("ok");
        }
        assertThat(last("provisioning.script").has("userId")).as("its caller is a join token, not a user").isFalse();
    }

    @Test
    void failedLoginsAreRecordedOncePerMinutePerAddressWithACount() {
        for (int i = 0; i < 25; i++) {
            assertThat(hub.call("GET", "/api/v1/nodes", null, "hat_forged" + i).status()).isEqualTo(401);
        }
        List<JsonNode> failed = audit("?limit=1000").stream()
                .filter(e -> e.get("action").asText().equals("auth.failed")).toList();
        assertThat(failed).hasSize(1);
        assertThat(failed.get(0).get("remoteAddr").asText()).isEqualTo("127.0.0.1");
        assertThat(failed.get(0).get("result").asText()).isEqualTo("denied");
        assertThat(failed.get(0).has("userId")).isFalse();
    }

    @Test
    void entriesOlderThanTheRetentionAreDeleted(@TempDir Path db) {
        MutableClock clock = new MutableClock();
        try (Database d = Database.open("jdbc:sqlite:" + db.resolve("audit.db"));
                AuditLog log = new AuditLog(new JdbcAuditRepository(d), clock, Duration.ofDays(90),
                        new SimpleMeterRegistry())) {
            log.record(AuditLog.Actor.HUB, "old.thing", null, null, null, 200);
            clock.advance(Duration.ofDays(60));
            log.record(AuditLog.Actor.HUB, "newer.thing", null, null, null, 200);
            clock.advance(Duration.ofDays(31));
            assertThat(log.sweep()).isEqualTo(1);
            assertThat(log.find(new AuditRepository.Query(null, null, null, null, 100)))
                    .extracting(e -> e.action()).containsExactly("newer.thing");
            long seq = log.record(AuditLog.Actor.HUB, "after.sweep", null, null, null, 200).seq();
            assertThat(seq).as("seq keeps increasing").isEqualTo(3);
        }
    }
}

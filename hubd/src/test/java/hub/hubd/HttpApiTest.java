package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP API on a real port: auth, problem+json for every bad input, paging, health, metrics. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpApiTest {
    TestHub hub;

    @BeforeAll
    void start(@TempDir Path dir) {
        hub = new TestHub(dir.resolve("data"), Duration.ofSeconds(10));
    }

    @AfterAll
    void stop() throws Exception {
        hub.close();
    }

    private JsonNode assertProblem(TestHub.Answer a, int status) {
        assertThat(a.status()).as(a.body()).isEqualTo(status);
        assertThat(a.contentType()).startsWith("application/problem+json");
        JsonNode p = a.json();
        assertThat(p.get("status").asInt()).isEqualTo(status);
        assertThat(p.get("type").asText()).startsWith("https://");
        assertThat(p.get("title").asText()).isNotBlank();
        assertThat(p.get("detail").asText()).isNotBlank();
        assertThat(p.get("errorId").asText()).matches("[0-9a-z]{16}");
        assertThat(a.body()).doesNotContain("Exception").doesNotContain("\tat ");
        return p;
    }

    @Test
    void missingTokenIs401() {
        JsonNode p = assertProblem(hub.call("GET", "/api/v1/nodes", null, null), 401);
        assertThat(p.get("detail").asText()).contains("bearer token");
    }

    @Test
    void unknownTokenIs401() {
        assertProblem(hub.call("GET", "/api/v1/nodes", null, "hat_nope"), 401);
        assertProblem(hub.call("GET", "/api/v1/status", null, "garbage"), 401);
    }

    @Test
    void malformedJsonIs400() {
        JsonNode p = assertProblem(hub.call("POST", "/api/v1/join-tokens", "{\"ttl\": ", hub.adminToken()), 400);
        assertThat(p.get("detail").asText()).contains("not valid JSON");
    }

    @Test
    void unknownFieldIs400() {
        JsonNode p = assertProblem(hub.call("POST", "/api/v1/join-tokens", "{\"tll\": \"5m\"}", hub.adminToken()),
                400);
        assertThat(p.get("detail").asText()).contains("tll");
    }

    @Test
    void wrongTypesAndRangesAre400() {
        String admin = hub.adminToken();
        assertProblem(hub.call("POST", "/api/v1/join-tokens", "{\"ttl\": \"soon\"}", admin), 400);
        assertProblem(hub.call("POST", "/api/v1/join-tokens", "{\"uses\": \"many\"}", admin), 400);
        assertProblem(hub.call("POST", "/api/v1/join-tokens", "{\"uses\": 0}", admin), 400);
        assertProblem(hub.call("POST", "/api/v1/join-tokens", "{\"ttl\": \"400d\"}", admin), 400);
        assertProblem(hub.call("POST", "/api/v1/join-tokens", "{\"labels\": {\"a b\": \"x\"}}", admin), 400);
        assertProblem(hub.call("POST", "/api/v1/join-tokens", "{\"labels\": {\"k\": \"x;rm -rf /\"}}", admin), 400);
        assertProblem(hub.call("POST", "/api/v1/join-tokens", "[1, 2]", admin), 400);
        assertProblem(hub.call("GET", "/api/v1/nodes?status=sleeping", null, admin), 400);
        assertProblem(hub.call("GET", "/api/v1/nodes?label=%3Dnovalue", null, admin), 400);
        assertProblem(hub.call("GET", "/api/v1/nodes?limit=0", null, admin), 400);
        assertProblem(hub.call("GET", "/api/v1/nodes?limit=x", null, admin), 400);
        assertProblem(hub.call("GET", "/api/v1/nodes?cursor=%21%21", null, admin), 400);
    }

    @Test
    void unknownThingsAre404() {
        String admin = hub.adminToken();
        assertProblem(hub.call("GET", "/api/v1/nodes/nosuchnode", null, admin), 404);
        assertProblem(hub.call("DELETE", "/api/v1/nodes/nosuchnode", null, admin), 404);
        assertProblem(hub.call("DELETE", "/api/v1/join-tokens/nosuchtoken", null, admin), 404);
        assertProblem(hub.call("GET", "/api/v1/no-such-route", null, admin), 404);
        assertProblem(hub.call("GET", "/nothing-here", null, null), 404);
    }

    @Test
    void joinTokenIsShownOnceAndStoredHashed() {
        TestHub.Answer a = hub.call("POST", "/api/v1/join-tokens", "{\"ttl\": \"1h\", \"uses\": 5, "
                + "\"labels\": {\"role\": \"web\"}}", hub.adminToken());
        assertThat(a.status()).isEqualTo(201);
        JsonNode t = a.json();
        assertThat(t.get("token").asText()).startsWith("hjt_");
        assertThat(t.get("usesLeft").asInt()).isEqualTo(5);
        assertThat(t.get("owner").asText()).isEqualTo("admin");
        assertThat(t.get("labels").get("role").asText()).isEqualTo("web");
        assertThat(t.get("expiresAt").asText()).endsWith("Z");
        JsonNode listed = hub.get("/api/v1/join-tokens");
        assertThat(listed.toString()).doesNotContain(t.get("token").asText()).contains(t.get("id").asText());
        assertThat(listed.get("items").get(0).has("token")).isFalse();
    }

    @Test
    void emptyBodyCreatesADefaultToken() {
        TestHub.Answer a = hub.call("POST", "/api/v1/join-tokens", null, hub.adminToken());
        assertThat(a.status()).isEqualTo(201);
        assertThat(a.json().get("usesLeft").asInt()).isEqualTo(1);
    }

    @Test
    void listsPageWithLimitAndNext() {
        for (int i = 0; i < 3; i++) {
            hub.joinToken(1, "15m", Map.of());
        }
        JsonNode all = hub.get("/api/v1/join-tokens");
        int total = all.get("items").size();
        assertThat(total).isGreaterThanOrEqualTo(3);
        JsonNode first = hub.get("/api/v1/join-tokens?limit=2");
        assertThat(first.get("items")).hasSize(2);
        String next = first.get("next").asText();
        JsonNode rest = hub.get("/api/v1/join-tokens?limit=1000&cursor=" + next);
        assertThat(rest.get("items")).hasSize(total - 2);
        assertThat(rest.has("next")).isFalse();
        assertThat(first.get("items").get(0).get("id")).isEqualTo(all.get("items").get(0).get("id"));
        assertThat(rest.get("items").get(0).get("id")).isEqualTo(all.get("items").get(2).get("id"));
    }

    @Test
    void healthReadinessAndMetricsNeedNoToken() {
        assertThat(hub.call("GET", "/healthz", null, null).status()).isEqualTo(200);
        TestHub.Answer ready = hub.call("GET", "/readyz", null, null);
        assertThat(ready.status()).isEqualTo(200);
        TestHub.Answer m = hub.call("GET", "/metrics", null, null);
        assertThat(m.status()).isEqualTo(200);
        assertThat(m.contentType()).startsWith("text/plain");
        assertThat(m.body()).contains("hub_writebehind_depth ").contains("hub_writebehind_flush_seconds")
                .contains("hub_nodes_online ").contains("hub_join_queue_depth ");
    }

    @Test
    void requestsInFlightAreCountedAndForgottenEvenWhenRefused() {
        assertThat(hub.call("GET", "/api/v1/nodes", null, null).status()).isEqualTo(401); // refused in a before
        assertThat(hub.call("GET", "/api/v1/nodes/nope", null, hub.adminToken()).status()).isEqualTo(404);
        assertThat(hub.call("GET", "/no/such/route", null, null).status()).isEqualTo(404);
        // Only the scrape itself is running: every request above was forgotten when it ended.
        assertThat(hub.call("GET", "/metrics", null, null).body()).contains("hub_http_requests_in_flight 1.0");
    }

    @Test
    void statusSaysWhoYouAre() {
        JsonNode s = hub.get("/api/v1/status");
        assertThat(s.get("user").asText()).isEqualTo("admin");
        assertThat(s.get("role").asText()).isEqualTo("admin");
        assertThat(s.get("agentPort").asInt()).isEqualTo(hub.daemon.grpcPort());
    }

    @Test
    void adminTokenFileIsOwnerOnly() throws Exception {
        var perms = java.nio.file.Files.getPosixFilePermissions(hub.dataDir.resolve("admin.token"));
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(perms)).isEqualTo("rw-------");
        assertThat(hub.adminToken()).startsWith("hat_");
    }
}

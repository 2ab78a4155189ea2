package hub.hubd.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.HubDaemon;
import hub.hubd.TestTls;
import hub.hubd.config.HubConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input to the API gets a problem+json that says what is wrong in the API's words: a null body,
 * a value of the wrong type (no coercion: "5" is not a number), a body that is not JSON, a wrong
 * method (405 with Allow), a wrong content type (415). No Java class name in any of them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiInputTest {
    HubDaemon hub;
    HttpClient http;

    @BeforeAll
    void start(@TempDir Path dir) {
        hub = HubDaemon.start(HubConfig.defaults(dir.resolve("data")));
        http = HttpClient.newBuilder().sslContext(TestTls.https(hub)).build();
    }

    @AfterAll
    void stop() {
        hub.close();
    }

    HttpResponse<String> send(String method, String path, String contentType, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(TestTls.url(hub) + path))
                .header("Authorization", "Bearer " + hub.adminToken())
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode problem(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
        JsonNode p = new ObjectMapper().readTree(r.body());
        assertThat(p.get("errorId").asText()).isNotEmpty();
        assertThat(r.body()).doesNotContain("java.").doesNotContain("com.fasterxml").doesNotContain("hub.hubd")
                .doesNotContain("`");
        return p;
    }

    @Test
    void aNullOrNonObjectBodyIs400NeverA500() throws Exception {
        for (String path : new String[] {"/api/v1/join-tokens", "/api/v1/users", "/api/v1/nodes/x/tasks"}) {
            for (String body : new String[] {"null", "[]", "5", "\"x\"", "{} {}"}) {
                int status = send("POST", path, "application/json", body).statusCode();
                assertThat(status).as(path + " " + body).isIn(400, 404);
            }
            assertThat(problem(send("POST", path, "application/json", "null"), 400)
                    .get("detail").asText()).isNotEmpty();
        }
        assertThat(problem(send("POST", "/api/v1/join-tokens", "application/json", "null"), 400).get("detail")
                .asText()).contains("JSON object");
    }

    @Test
    void valuesOfTheWrongTypeAreNamedByFieldAndNotCoerced() throws Exception {
        JsonNode uses = problem(send("POST", "/api/v1/join-tokens", "application/json", "{\"uses\": \"5\"}"), 400);
        assertThat(uses.get("detail").asText()).isEqualTo("field 'uses' must be a whole number");
        JsonNode ttl = problem(send("POST", "/api/v1/join-tokens", "application/json", "{\"ttl\": 15}"), 400);
        assertThat(ttl.get("detail").asText()).isEqualTo("field 'ttl' must be a string");
        JsonNode unknown = problem(send("POST", "/api/v1/join-tokens", "application/json", "{\"usez\": 1}"), 400);
        assertThat(unknown.get("detail").asText()).isEqualTo("unknown field 'usez'");
        JsonNode labels = problem(send("POST", "/api/v1/join-tokens", "application/json",
                "{\"labels\": [\"a\"]}"), 400);
        assertThat(labels.get("detail").asText()).isEqualTo("field 'labels' must be an object");
        problem(send("POST", "/api/v1/join-tokens", "application/json", "{\"uses\": "), 400);
    }

    @Test
    void aWrongMethodIs405WithAllowAndAWrongContentTypeIs415() throws Exception {
        HttpResponse<String> r = send("PUT", "/api/v1/join-tokens", "application/json", "{}");
        JsonNode p = problem(r, 405);
        assertThat(r.headers().firstValue("Allow").orElse("")).contains("GET").contains("POST");
        assertThat(p.get("detail").asText()).contains("PUT");
        problem(send("POST", "/api/v1/join-tokens", "text/plain", "{}"), 415);
        problem(send("POST", "/api/v1/join-tokens", "application/x-www-form-urlencoded", "uses=1"), 415);
        assertThat(send("POST", "/api/v1/join-tokens", "application/json; charset=utf-8", "{}").statusCode())
                .isEqualTo(201);
        problem(send("GET", "/api/v1/no/such/route", null, null), 404);
    }
}

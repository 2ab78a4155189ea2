package hub.hubd.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.HubDaemon;
import hub.hubd.TestTls;
import hub.hubd.config.HubConfig;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
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

    /** Sends raw bytes on a fresh TLS connection; what came back within a second and a half. */
    String raw(String request) throws Exception {
        try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) TestTls.https(hub).getSocketFactory()
                .createSocket("127.0.0.1", hub.httpPort())) {
            try {
                s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            } catch (java.net.SocketException e) {
                // the hub answered (414, 431) and closed before all of an oversized request was written
            }
            s.setSoTimeout(1500);
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = s.getInputStream().read(buf)) > 0;) {
                    got.write(buf, 0, n);
                }
            } catch (SocketTimeoutException e) {
                // keep-alive: the answer is complete
            } catch (java.io.IOException e) {
                // closed after the answer (a reset after an unread oversized request)
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void requestsTheHttpParserRefusesGetProblemJsonNotHtml() throws Exception {
        String host = "Host: 127.0.0.1\r\n";
        Map<String, Integer> cases = new LinkedHashMap<>();
        cases.put("GET /%00 HTTP/1.1\r\n" + host + "\r\n", 400);
        cases.put("GET /api/v1/..;/status HTTP/1.1\r\n" + host + "\r\n", 400);
        cases.put("GET /api/v1/nodes/%C0%AF HTTP/1.1\r\n" + host + "\r\n", 400);
        cases.put("GET /" + "a".repeat(20_000) + " HTTP/1.1\r\n" + host + "\r\n", 414);
        cases.put("GET /api/v1/status HTTP/1.1\r\n" + host + "X-Big: " + "b".repeat(20_000) + "\r\n\r\n", 431);
        cases.put("GARBAGE\r\n\r\n", 400);
        cases.put("GET /api/v1/status HTTP/1.1\r\n\r\n", 400); // no Host
        cases.put("GET /api/v1/status HTTP/1.1\r\n" + host + "Content-Length: -5\r\n\r\n", 400);
        for (Map.Entry<String, Integer> c : cases.entrySet()) {
            String answer = raw(c.getKey());
            String what = c.getKey().substring(0, Math.min(40, c.getKey().length()));
            assertThat(answer).as(what).startsWith("HTTP/1.1 " + c.getValue() + " ");
            String head = answer.substring(0, answer.indexOf("\r\n\r\n"));
            String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
            assertThat(head.toLowerCase(java.util.Locale.ROOT)).as(what)
                    .contains("content-type: application/problem+json");
            JsonNode p = new ObjectMapper().readTree(body);
            assertThat(p.get("status").asInt()).as(what).isEqualTo(c.getValue());
            assertThat(p.get("errorId").asText()).as(what).isNotEmpty();
            assertThat(p.get("detail").asText()).as(what).isNotEmpty();
            assertThat(body).as(what).doesNotContain("<html").doesNotContain("java.").doesNotContain("jetty");
        }
    }

    @Test
    void aClientDrippingItsHeadersIsCutOffAtTheHeaderDeadline() throws Exception {
        double before = timeouts();
        try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) TestTls.https(hub).getSocketFactory()
                .createSocket("127.0.0.1", hub.httpPort())) {
            OutputStream out = s.getOutputStream();
            out.write("GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long start = System.nanoTime();
            long limit = HttpApi.HEADER_DEADLINE.toMillis() + 5_000;
            boolean cut = false;
            while (!cut && (System.nanoTime() - start) / 1_000_000 < limit) {
                try {
                    out.write("X-Slow: a\r\n".getBytes(StandardCharsets.US_ASCII)); // a byte-trickle: the idle timeout never fires
                    out.flush();
                    Thread.sleep(300);
                } catch (java.io.IOException e) {
                    cut = true;
                }
            }
            assertThat(cut).as("the connection was closed while it was still sending headers").isTrue();
            assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(
                    HttpApi.HEADER_DEADLINE.toMillis() - 1_000);
        }
        assertThat(timeouts()).isEqualTo(before + 1);
        // a client that sends its request at once is not affected
        assertThat(raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).startsWith("HTTP/1.1 200 ");
    }

    double timeouts() throws Exception {
        for (String line : send("GET", "/metrics", null, null).body().split("\n")) {
            if (line.startsWith("hub_http_header_timeouts_total ")) {
                return Double.parseDouble(line.substring(line.indexOf(' ') + 1));
            }
        }
        throw new AssertionError("no hub_http_header_timeouts_total in /metrics");
    }
}

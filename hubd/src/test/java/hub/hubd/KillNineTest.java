package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.agent.AgentConnection;
import hub.agent.AgentIdentity;
import hub.agent.Backoff;
import hub.agent.CredentialStore;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hubd as its own process, killed with SIGKILL while an agent streams 200,000 lines: after the
 * restart the agent resends what was not acknowledged and the history holds every line exactly
 * once, in order.
 */
class KillNineTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int LINES = 200_000;

    @TempDir
    Path dir;
    Process hubd;
    HttpClient http;
    java.security.cert.X509Certificate caCert;
    final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    int httpPort;
    int grpcPort;
    String admin;

    @AfterEach
    void stop() {
        if (hubd != null) {
            hubd.destroyForcibly();
        }
        scheduler.shutdownNow();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private void startHubd() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        hubd = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"), "hub.hubd.HubdMain",
                "--data-dir", dir.resolve("data").toString(), "--bind", "127.0.0.1",
                "--http-port", Integer.toString(httpPort), "--grpc-port", Integer.toString(grpcPort),
                "--history-max-lines", "1000000")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("hubd.log").toFile()))
                .start();
        // The hub makes its CA on first start; clients trust it from the data dir, as an admin would.
        Path ca = dir.resolve("data/tls/ca.crt");
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(ca));
        caCert = hub.tls.Pem.certificates(ca).get(0);
        http = HttpClient.newBuilder().sslContext(hub.tls.HubTrust.context(
                hub.tls.HubTrust.anchoredTo(List.of(caCert)), null)).build();
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> call("GET", "/readyz", null).statusCode() == 200);
        admin = Files.readString(dir.resolve("data/admin.token")).strip();
    }

    private HttpResponse<String> call(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + httpPort + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (admin != null) {
            b.header("Authorization", "Bearer " + admin);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode json(String method, String path, String body) throws Exception {
        HttpResponse<String> r = call(method, path, body);
        assertThat(r.statusCode()).as(path + " " + r.body()).isBetween(200, 299);
        return JSON.readTree(r.body());
    }

    private long storedLines(String taskId) throws Exception {
        return json("GET", "/api/v1/nodes/streamer/history?tail=1", null).path("nextOffset").asLong();
    }

    @Test
    void killDashNineWhileStreamingLosesAndDuplicatesNothing() throws Exception {
        httpPort = freePort();
        grpcPort = freePort();
        startHubd();
        String token = json("POST", "/api/v1/join-tokens", "{\"uses\": 1}").get("token").asText();
        AgentConnection agent = new AgentConnection(new AgentIdentity("h", "Linux", "amd64", "t", "streamer", Map.of()),
                hub.agent.HubLink.tls(List.of("127.0.0.1:" + grpcPort), hub.tls.HubTrust.pinned(hub.tls.Pins.of(caCert)),
                        null, null), hub.agent.IdentityStore.memory(), CredentialStore.memory(), token, scheduler,
                new Backoff(Duration.ofMillis(100), Duration.ofMillis(500)), new AgentConnection.Listener() { });
        try {
            agent.start();
            await().atMost(Duration.ofSeconds(20)).until(agent::connected);

            // 200,000 numbered lines, with pauses so that the kill lands mid-stream.
            String script = "i=0; while [ $i -lt " + LINES + " ]; do i=$((i+1)); echo \"line $i\"; "
                    + "if [ $((i % 20000)) -eq 0 ]; then sleep 0.3; fi; done";
            String taskId = json("POST", "/api/v1/nodes/streamer/tasks",
                    JSON.writeValueAsString(Map.of("command", script))).get("id").asText();
            await().atMost(Duration.ofSeconds(60)).until(() -> storedLines(taskId) > 30_000);
            assertThat(json("GET", "/api/v1/tasks/" + taskId, null).get("state").asText())
                    .as("still streaming when killed").isIn("sent", "running");

            hubd.destroyForcibly().waitFor();
            startHubd();

            await().atMost(Duration.ofSeconds(120)).until(() ->
                    json("GET", "/api/v1/tasks/" + taskId, null).get("state").asText().equals("exited"));

            List<String> texts = new ArrayList<>(LINES);
            long after = 0;
            while (true) {
                JsonNode page = json("GET", "/api/v1/nodes/streamer/history?after=" + after + "&limit=10000", null);
                assertThat(page.has("gap")).isFalse();
                if (page.get("lines").isEmpty()) {
                    break;
                }
                for (JsonNode l : page.get("lines")) {
                    assertThat(l.get("taskId").asText()).isEqualTo(taskId);
                    texts.add(l.get("text").asText());
                }
                after = page.get("nextOffset").asLong();
            }
            assertThat(texts).hasSize(LINES);
            for (int i = 0; i < LINES; i++) {
                if (!texts.get(i).equals("line " + (i + 1))) {
                    throw new AssertionError("line " + (i + 1) + " is '" + texts.get(i) + "'");
                }
            }
        } finally {
            agent.close();
        }
    }
}

package hub.hubd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.agent.AgentConnection;
import hub.agent.AgentIdentity;
import hub.agent.Backoff;
import hub.agent.CredentialStore;
import hub.agent.IdentityStore;
import hub.hubd.config.HubConfig;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * A real hubd on a temp data dir, free loopback ports and SQLite, plus helpers to call its API
 * and to run real agents (the agent module's connection loop over a loopback channel) against it.
 */
final class TestHub implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    final Path dataDir;
    final HubConfig config;
    HubDaemon daemon;
    private HttpClient http;
    private final List<AutoCloseable> resources = new ArrayList<>();
    final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);

    TestHub(Path dataDir, Duration heartbeat) {
        this(HubConfig.defaults(dataDir).withHeartbeatInterval(heartbeat));
    }

    TestHub(HubConfig config) {
        this.dataDir = config.dataDir();
        this.config = config;
        this.daemon = HubDaemon.start(config);
        this.http = client();
    }

    private HttpClient client() {
        return daemon.tls() == null ? HttpClient.newHttpClient()
                : HttpClient.newBuilder().sslContext(TestTls.https(daemon)).build();
    }

    /** Stops the hub (as on SIGTERM) and starts a new one on the same data dir and ports. */
    void restart() {
        int grpcPort = daemon.grpcPort();
        int httpPort = daemon.httpPort();
        daemon.close();
        daemon = HubDaemon.start(config.withListeners(httpPort, grpcPort, config.dbUrl()));
        http = client();
    }

    String adminToken() {
        return daemon.adminToken();
    }

    /** An HTTP answer: status, content type, body. */
    record Answer(int status, String contentType, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }
    }

    Answer call(String method, String path, String body, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(TestTls.url(daemon) + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** {@code GET} as admin, expecting 200. */
    JsonNode get(String path) {
        Answer a = call("GET", path, null, adminToken());
        if (a.status() != 200) {
            throw new AssertionError("GET " + path + " -> " + a.status() + " " + a.body());
        }
        return a.json();
    }

    /** Creates a join token as admin and returns its secret. */
    String joinToken(int uses, String ttl, Map<String, String> labels) {
        try {
            Answer a = call("POST", "/api/v1/join-tokens",
                    JSON.writeValueAsString(Map.of("uses", uses, "ttl", ttl, "labels", labels)), adminToken());
            if (a.status() != 201) {
                throw new AssertionError("create token -> " + a.status() + " " + a.body());
            }
            return a.json().get("token").asText();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }

    /** The node's JSON from the API. */
    JsonNode node(String idOrName) {
        return get("/api/v1/nodes/" + idOrName);
    }

    /** A channel to the agent port that presents no client certificate (first joins, raw agents). */
    ManagedChannel channel() {
        return channel(new hub.tls.KeySlot());
    }

    /** A channel to the agent port that presents what {@code keys} holds. */
    ManagedChannel channel(hub.tls.KeySlot keys) {
        ManagedChannel ch = TestTls.channel(daemon, keys);
        resources.add(() -> ch.shutdownNow());
        return ch;
    }

    /**
     * Starts a real agent (TLS, pinned to the hub's CA); close it to cut its stream. Agents given the
     * same {@code ids} are the same node.
     */
    AgentConnection agent(String name, IdentityStore ids, String joinToken) {
        return agent(name, ids, joinToken, new AgentConnection.Listener() { });
    }

    /** The same, reporting to {@code listener}. */
    AgentConnection agent(String name, IdentityStore ids, String joinToken, AgentConnection.Listener listener) {
        AgentConnection a = new AgentConnection(
                new AgentIdentity("host-" + name, "Linux", "amd64", "test", name, Map.of("agent", "yes")),
                TestTls.link(daemon), ids, CredentialStore.memory(), joinToken, scheduler,
                new Backoff(Duration.ofMillis(50), Duration.ofMillis(200)), listener);
        resources.add(a);
        a.start();
        return a;
    }

    /** Starts an agent with an in-memory identity. */
    AgentConnection agent(String name, String joinToken) {
        return agent(name, IdentityStore.memory(), joinToken);
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable r : resources) {
            r.close();
        }
        daemon.close();
        scheduler.shutdownNow();
    }
}

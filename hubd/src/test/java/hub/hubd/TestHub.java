package hub.hubd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.agent.AgentConnection;
import hub.agent.AgentIdentity;
import hub.agent.Backoff;
import hub.agent.CredentialStore;
import hub.hubd.config.HubConfig;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
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
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<AutoCloseable> resources = new ArrayList<>();
    final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);

    TestHub(Path dataDir, Duration heartbeat) {
        this(HubConfig.defaults(dataDir).withHeartbeatInterval(heartbeat));
    }

    TestHub(HubConfig config) {
        this.dataDir = config.dataDir();
        this.config = config;
        this.daemon = HubDaemon.start(config);
    }

    /** Stops the hub (as on SIGTERM) and starts a new one on the same data dir and ports. */
    void restart() {
        int grpcPort = daemon.grpcPort();
        int httpPort = daemon.httpPort();
        daemon.close();
        daemon = HubDaemon.start(config.withListeners(httpPort, grpcPort, config.dbUrl()));
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
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + daemon.httpPort() + path))
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

    ManagedChannel channel() {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", daemon.grpcPort()).usePlaintext().build();
        resources.add(() -> ch.shutdownNow());
        return ch;
    }

    /** Starts a real agent with its own channel; close it to cut its stream. */
    AgentConnection agent(String name, CredentialStore creds, String joinToken) {
        AgentConnection a = new AgentConnection(
                new AgentIdentity("host-" + name, "Linux", "amd64", "test", name, Map.of("agent", "yes")),
                List.of(channel()), creds, joinToken, scheduler,
                new Backoff(Duration.ofMillis(50), Duration.ofMillis(200)), new AgentConnection.Listener() { });
        resources.add(a);
        a.start();
        return a;
    }

    /** Starts an agent with an in-memory credential store. */
    AgentConnection agent(String name, String joinToken) {
        return agent(name, CredentialStore.memory(), joinToken);
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

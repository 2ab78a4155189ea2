package hub.hubd;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.concurrent.TimeUnit;

/**
 * hubd as its own process on loopback (the test JVM's classpath), for what only a process can
 * show: SIGKILL, SIGTERM, several hubs on one database. Its log is {@code <dir>/hubd.log}.
 */
final class HubProcess implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    final Path dir;
    final Path dataDir;
    final int httpPort;
    final int grpcPort;
    private final List<String> extra;
    private Process process;
    private HttpClient http;
    private javax.net.ssl.SSLContext ssl;
    String token;

    HubProcess(Path dir, List<String> extra) throws IOException {
        this.dir = dir;
        this.dataDir = dir.resolve("data");
        this.httpPort = freePort();
        this.grpcPort = freePort();
        this.extra = List.copyOf(extra);
        Files.createDirectories(dir);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Starts it and waits until it is ready; the API token is the data dir's admin token, if any. */
    HubProcess start() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx384m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), "hub.hubd.HubdMain",
                "--data-dir", dataDir.toString(), "--bind", "127.0.0.1", "--advertise", "127.0.0.1",
                "--http-port", Integer.toString(httpPort), "--grpc-port", Integer.toString(grpcPort)));
        cmd.addAll(extra);
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("hubd.log").toFile())).start();
        Path ca = dataDir.resolve("tls/ca.crt");
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(ca) || !process.isAlive());
        if (!process.isAlive()) {
            throw new IllegalStateException("hubd exited: " + Files.readString(dir.resolve("hubd.log")));
        }
        var caCert = hub.tls.Pem.certificates(ca).get(0);
        ssl = hub.tls.HubTrust.context(hub.tls.HubTrust.anchoredTo(List.of(caCert)), null);
        http = HttpClient.newBuilder().sslContext(ssl).build();
        try {
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                    .until(() -> !process.isAlive() || call("GET", "/readyz", null).statusCode() == 200);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new IllegalStateException("hubd not ready in 60 s: " + Files.readString(dir.resolve("hubd.log")), e);
        }
        if (!process.isAlive()) {
            throw new IllegalStateException("hubd exited: " + Files.readString(dir.resolve("hubd.log")));
        }
        Path admin = dataDir.resolve("admin.token");
        if (token == null && Files.exists(admin)) {
            token = Files.readString(admin).strip();
        }
        return this;
    }

    /** The hub's CA pin, from its CA file. */
    String caPin() throws IOException {
        return hub.tls.Pins.of(hub.tls.Pem.certificates(dataDir.resolve("tls/ca.crt")).get(0));
    }

    String agentAddress() {
        return "127.0.0.1:" + grpcPort;
    }

    HttpResponse<String> call(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + httpPort + path))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Trusts the hub's CA, for clients of its own (WebSockets). */
    javax.net.ssl.SSLContext ssl() {
        return ssl;
    }

    /** The WebSocket URL of {@code path}. */
    String wsUrl(String path) {
        return "wss://127.0.0.1:" + httpPort + path;
    }

    /** A request with a byte body (or none), answered in bytes: file transfers. */
    HttpResponse<byte[]> bytes(String method, String path, byte[] body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + httpPort + path))
                .timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        b.header("Authorization", "Bearer " + token);
        if (body != null) {
            b.header("Content-Type", "application/octet-stream");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** A 2xx answer's JSON; anything else fails the test with the answer. */
    JsonNode json(String method, String path, String body) throws Exception {
        HttpResponse<String> r = call(method, path, body);
        if (r.statusCode() / 100 != 2) {
            throw new AssertionError(method + " " + path + " on :" + httpPort + ": " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body());
    }

    /** SIGKILL: no drain, no goodbye. */
    void kill9() throws InterruptedException {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGSTOP: the hub freezes with its connections open (a hung machine, a long GC pause). */
    void pause() throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-STOP", Long.toString(process.pid())).inheritIO().start().waitFor();
    }

    /** SIGTERM, as systemd stops it, and wait for the exit. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        if (alive()) {
            kill9();
        }
    }
}

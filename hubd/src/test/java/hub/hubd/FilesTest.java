package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import hub.proto.agent.v1.AgentMessage;
import hub.proto.agent.v1.FileData;
import hub.proto.agent.v1.FileOpen;
import hub.proto.agent.v1.FileState;
import hub.proto.agent.v1.FileStatus;
import hub.proto.agent.v1.HubMessage;
import hub.proto.agent.v1.Welcome;
import io.grpc.Status;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file routes as an independent client uses them (raw HTTP), against a real agent, and against
 * agents that lie: another node's transfer, bytes past the window, an oversized chunk. RBAC: only
 * operators of the node.
 */
class FilesTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    TestHub hub;
    HttpClient http;

    @BeforeEach
    void start() {
        hub = new TestHub(dir.resolve("data"), Duration.ofSeconds(10));
        http = HttpClient.newBuilder().sslContext(TestTls.https(hub.daemon)).build();
    }

    @AfterEach
    void stop() throws Exception {
        hub.close();
    }

    private HttpResponse<byte[]> send(String method, String path, byte[] body, String type, String token)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(TestTls.url(hub.daemon) + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Authorization", "Bearer " + token);
        if (type != null) {
            b.header("Content-Type", type);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static JsonNode json(HttpResponse<byte[]> r) throws Exception {
        return JSON.readTree(r.body());
    }

    private static String sha(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void writesReadsAndRefusesWithProblemsThatSayWhy() throws Exception {
        var agent = hub.agent("n1", hub.joinToken(1, "15m", Map.of()));
        org.awaitility.Awaitility.await().atMost(WAIT).until(agent::connected);
        byte[] body = "hello, node\n".getBytes(StandardCharsets.UTF_8);
        Path target = dir.resolve("hello.txt");
        String admin = hub.adminToken();
        String put = "/api/v1/nodes/n1/files?path=" + target + "&size=" + body.length + "&sha256=" + sha(body)
                + "&mode=0600";

        HttpResponse<byte[]> r = send("PUT", put, body, "application/octet-stream", admin);
        assertThat(r.statusCode()).as(new String(r.body())).isEqualTo(201);
        assertThat(json(r).get("sha256").asText()).isEqualTo(sha(body));
        assertThat(Files.readAllBytes(target)).isEqualTo(body);
        assertThat(Files.getPosixFilePermissions(target)).hasSize(2);

        HttpResponse<byte[]> got = send("GET", "/api/v1/nodes/n1/files?path=" + target, null, null, admin);
        assertThat(got.statusCode()).isEqualTo(200);
        assertThat(got.body()).isEqualTo(body);
        assertThat(got.headers().firstValue("Hub-File-Mode")).hasValue("0600");
        assertThat(got.headers().firstValue("Hub-File-Size")).hasValue(Integer.toString(body.length));
        String transfer = got.headers().firstValue("Hub-Transfer").orElseThrow();
        JsonNode outcome = hub.get("/api/v1/transfers/" + transfer);
        assertThat(outcome.get("state").asText()).isEqualTo("done");
        assertThat(outcome.get("sha256").asText()).isEqualTo(sha(body));
        HttpResponse<byte[]> tail = send("GET", "/api/v1/nodes/n1/files?path=" + target + "&offset=7", null, null,
                admin);
        assertThat(new String(tail.body(), StandardCharsets.UTF_8)).isEqualTo("node\n");

        // A body that does not hash to what the client said: 422, nothing kept.
        byte[] other = "something else\n".getBytes(StandardCharsets.UTF_8);
        Path wrong = dir.resolve("wrong.txt");
        r = send("PUT", "/api/v1/nodes/n1/files?path=" + wrong + "&size=" + other.length + "&sha256=" + sha(body),
                other, "application/octet-stream", admin);
        assertThat(r.statusCode()).isEqualTo(422);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
        assertThat(json(r).get("type").asText()).endsWith("/hash-mismatch");
        assertThat(json(r).get("errorId").asText()).isNotEmpty();
        assertThat(wrong).doesNotExist();
        try (var left = Files.list(dir)) {
            assertThat(left.map(Path::toString)).noneMatch(n -> n.contains("hubpart"));
        }

        // The node's refusals, each with its own type and status.
        assertThat(send("GET", "/api/v1/nodes/n1/files?path=" + dir.resolve("nope"), null, null, admin).statusCode())
                .isEqualTo(404);
        HttpResponse<byte[]> isDir = send("GET", "/api/v1/nodes/n1/files?path=" + dir, null, null, admin);
        assertThat(isDir.statusCode()).isEqualTo(409);
        assertThat(json(isDir).get("type").asText()).endsWith("/is-a-directory");
        HttpResponse<byte[]> denied = send("PUT", "/api/v1/nodes/n1/files?path=/sys/hub-files-test&size="
                + body.length + "&sha256=" + sha(body), body, "application/octet-stream", admin);
        assertThat(denied.statusCode()).isEqualTo(403);
        assertThat(json(denied).get("type").asText()).endsWith("/file-permission-denied");
        // What the hub checks before asking the node.
        assertThat(send("PUT", put, body, null, admin).statusCode()).isEqualTo(415);
        assertThat(send("PUT", "/api/v1/nodes/n1/files?path=relative&size=1&sha256=" + sha(body), new byte[1],
                "application/octet-stream", admin).statusCode()).isEqualTo(400);
        assertThat(send("PUT", "/api/v1/nodes/n1/files?path=" + target + "&size=5&sha256=" + sha(body), body,
                "application/octet-stream", admin).statusCode()).as("body length is not size").isEqualTo(400);
        assertThat(send("PUT", put.replace("mode=0600", "mode=999"), body, "application/octet-stream", admin)
                .statusCode()).isEqualTo(400);
        HttpResponse<byte[]> tree = send("GET", "/api/v1/nodes/n1/files/tree?path=" + dir, null, null, admin);
        assertThat(tree.statusCode()).isEqualTo(200);
        assertThat(new String(tree.body(), StandardCharsets.UTF_8)).contains("\"path\":\"hello.txt\"")
                .contains("\"type\":\"file\"");
    }

    @Test
    void onlyOperatorsOfTheNodeMayCopyAndEveryCopyIsAudited() throws Exception {
        var agent = hub.agent("n1", hub.joinToken(1, "15m", Map.of("team", "web")));
        org.awaitility.Awaitility.await().atMost(WAIT).until(agent::connected);
        String viewer = user("vera", "viewer");
        String outsider = user("otto", "operator");
        assertThat(hub.call("POST", "/api/v1/users/vera/grants", "{\"selector\":\"team=web\",\"role\":\"viewer\"}",
                hub.adminToken()).status()).isEqualTo(201);
        byte[] body = {1, 2, 3};
        String put = "/api/v1/nodes/n1/files?path=" + dir.resolve("x") + "&size=3&sha256=" + sha(body);
        assertThat(send("PUT", put, body, "application/octet-stream", viewer).statusCode()).isEqualTo(403);
        assertThat(send("GET", "/api/v1/nodes/n1/files?path=/etc/hostname", null, null, viewer).statusCode())
                .isEqualTo(403);
        assertThat(send("PUT", put, body, "application/octet-stream", outsider).statusCode())
                .as("a node it may not see does not exist for it").isEqualTo(404);
        assertThat(dir.resolve("x")).doesNotExist();
        assertThat(send("PUT", put, body, "application/octet-stream", hub.adminToken()).statusCode()).isEqualTo(201);
        JsonNode audit = hub.get("/api/v1/audit?limit=50");
        assertThat(audit.toString()).contains("file.write").contains("write " + dir.resolve("x"));
    }

    @Test
    void aCopyRunRecordsEachNodeFromTheTransfersTheHubRelays() throws Exception {
        var agent = hub.agent("n1", hub.joinToken(1, "15m", Map.of()));
        org.awaitility.Awaitility.await().atMost(WAIT).until(agent::connected);
        byte[] body = "release 42\n".getBytes(StandardCharsets.UTF_8);
        String admin = hub.adminToken();
        String copy = "{\"path\":\"" + dir + "/\",\"name\":\"release.txt\",\"size\":" + body.length
                + ",\"sha256\":\"" + sha(body) + "\"}";
        TestHub.Answer created = hub.call("POST", "/api/v1/runs", "{\"nodes\":[\"n1\"],\"copy\":" + copy + "}", admin);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String run = created.json().get("id").asText();
        assertThat(created.json().get("state").asText()).isEqualTo("running");
        assertThat(created.json().get("nodes").get(0).get("outcome").asText()).isEqualTo("pending");
        assertThat(hub.call("POST", "/api/v1/runs", "{\"nodes\":[\"n1\"],\"command\":\"true\",\"copy\":" + copy + "}",
                admin).status()).as("a command and a copy").isEqualTo(400);

        String put = "/api/v1/nodes/n1/files?path=" + dir + "/&name=release.txt&size=" + body.length + "&run=" + run;
        HttpResponse<byte[]> other = send("PUT", put + "&sha256=" + sha(new byte[body.length]), new byte[body.length],
                "application/octet-stream", admin);
        assertThat(other.statusCode()).as("not the run's file").isEqualTo(400);
        assertThat(json(other).get("detail").asText()).contains("not the file of run " + run);
        HttpResponse<byte[]> r = send("PUT", put + "&sha256=" + sha(body), body, "application/octet-stream", admin);
        assertThat(r.statusCode()).as(new String(r.body())).isEqualTo(201);
        org.awaitility.Awaitility.await().atMost(WAIT).until(() ->
                hub.get("/api/v1/runs/" + run).get("state").asText().equals("done"));
        JsonNode done = hub.get("/api/v1/runs/" + run);
        assertThat(done.get("counts").get("ok").asInt()).isEqualTo(1);
        assertThat(done.get("copy").get("sha256").asText()).isEqualTo(sha(body));
        assertThat(Files.readAllBytes(dir.resolve("release.txt"))).isEqualTo(body);
        HttpResponse<byte[]> again = send("PUT", put + "&sha256=" + sha(body), body, "application/octet-stream", admin);
        assertThat(again.statusCode()).as("the run is done").isEqualTo(409);

        // Only the run's own user copies for it.
        String otto = user("otto", "admin");
        TestHub.Answer second = hub.call("POST", "/api/v1/runs", "{\"nodes\":[\"n1\"],\"copy\":" + copy + "}", admin);
        HttpResponse<byte[]> foreign = send("PUT", put.replace(run, second.json().get("id").asText()) + "&sha256="
                + sha(body), body, "application/octet-stream", otto);
        assertThat(foreign.statusCode()).isEqualTo(403);
    }

    private String user(String name, String role) {
        TestHub.Answer a = hub.call("POST", "/api/v1/users", "{\"name\":\"" + name + "\",\"role\":\"" + role + "\"}",
                hub.adminToken());
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        return a.json().get("token").asText();
    }

    private record Node(String id, RawAgent stream) {
    }

    private Node join(String name) throws Exception {
        RawAgent raw = new RawAgent(hub.channel()).send(RawAgent.hello(name).setName(name)
                .setJoinToken(hub.joinToken(1, "15m", Map.of())));
        Welcome w = raw.next(WAIT).getWelcome();
        return new Node(w.getNodeId(), raw);
    }

    /** Reads a file from {@code node} in the background; returns the FileOpen its agent was sent. */
    private FileOpen read(Node node, CompletableFuture<HttpResponse<byte[]>> answer) throws Exception {
        CompletableFuture.runAsync(() -> {
            try {
                answer.complete(send("GET", "/api/v1/nodes/" + node.id() + "/files?path=/etc/hostname", null, null,
                        hub.adminToken()));
            } catch (Exception e) {
                answer.completeExceptionally(e);
            }
        });
        HubMessage m = node.stream().next(WAIT);
        assertThat(m.hasFileOpen()).as(m.toString()).isTrue();
        return m.getFileOpen();
    }

    private static AgentMessage opened(String transfer, long size) {
        return AgentMessage.newBuilder().setFileStatus(FileStatus.newBuilder().setTransferId(transfer)
                .setState(FileState.FILE_STATE_OPENED).setSize(size)).build();
    }

    private static AgentMessage chunk(String transfer, long offset, int size) {
        return AgentMessage.newBuilder().setFileData(FileData.newBuilder().setTransferId(transfer).setOffset(offset)
                .setData(ByteString.copyFrom(new byte[size]))).build();
    }

    @Test
    void agentsThatLieAboutTransfersLoseTheirStreamAndTheClientIsAnswered() throws Exception {
        Node alice = join("alice");
        Node mallory = join("mallory");

        // Another node's transfer: PERMISSION_DENIED for the impostor; alice's read goes on.
        CompletableFuture<HttpResponse<byte[]>> answer = new CompletableFuture<>();
        FileOpen open = read(alice, answer);
        mallory.stream().send(opened(open.getTransferId(), 5));
        Status s = mallory.stream().ended.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(s.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(s.getDescription()).contains("not this node's");
        alice.stream().send(opened(open.getTransferId(), 5));
        alice.stream().send(AgentMessage.newBuilder().setFileData(FileData.newBuilder()
                .setTransferId(open.getTransferId()).setData(ByteString.copyFromUtf8("node\n")).setLast(true)).build());
        alice.stream().send(AgentMessage.newBuilder().setFileStatus(FileStatus.newBuilder()
                .setTransferId(open.getTransferId()).setState(FileState.FILE_STATE_DONE).setSize(5)
                .setSha256(sha("node\n".getBytes(StandardCharsets.UTF_8)))).build());
        HttpResponse<byte[]> ok = answer.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(new String(ok.body(), StandardCharsets.UTF_8)).isEqualTo("node\n");

        // Bytes past the window it was given, without waiting for acknowledgements: RESOURCE_EXHAUSTED.
        // The client here does not read, so once the sockets' buffers are full nothing is passed on.
        Node flood = join("flood");
        CompletableFuture<HttpResponse<java.io.InputStream>> flooded = CompletableFuture.supplyAsync(() -> {
            try {
                return http.send(HttpRequest.newBuilder(URI.create(TestTls.url(hub.daemon) + "/api/v1/nodes/"
                        + flood.id() + "/files?path=/etc/hostname")).header("Authorization", "Bearer "
                        + hub.adminToken()).build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        HubMessage m = flood.stream().next(WAIT);
        assertThat(m.hasFileOpen()).as(m.toString()).isTrue();
        FileOpen f = m.getFileOpen();
        assertThat(f.getWindow()).isPositive();
        flood.stream().send(opened(f.getTransferId(), 1L << 30));
        long at = 0;
        for (int i = 0; i < 256 && !flood.stream().ended.isDone(); i++) {
            flood.stream().send(chunk(f.getTransferId(), at, 1 << 20));
            at += 1 << 20;
        }
        assertThat(flood.stream().ended.get(WAIT.toMillis(), TimeUnit.MILLISECONDS).getCode())
                .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        // The answer had begun: the client sees a body short of its Content-Length, never a false end.
        java.io.InputStream body = flooded.get(WAIT.toMillis(), TimeUnit.MILLISECONDS).body();
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> body.transferTo(
                java.io.OutputStream.nullOutputStream()))).isInstanceOf(java.io.IOException.class);

        // An oversized chunk, before any open: INVALID_ARGUMENT.
        Node big = join("big");
        big.stream().send(chunk("whatever", 0, (1 << 20) + 1));
        assertThat(big.stream().ended.get(WAIT.toMillis(), TimeUnit.MILLISECONDS).getCode())
                .isEqualTo(Status.Code.INVALID_ARGUMENT);

        // The node that fails before a byte is sent: the client gets a problem, not a hang.
        Node quits = join("quits");
        CompletableFuture<HttpResponse<byte[]>> lost = new CompletableFuture<>();
        read(quits, lost);
        quits.stream().close();
        HttpResponse<byte[]> gone = lost.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(gone.statusCode()).isEqualTo(503);
        assertThat(json(gone).get("type").asText()).endsWith("/node-unavailable");
    }
}

package hub.hubctl;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Build tool, not a command: the training run for hubctl's class-data-sharing archive. It runs
 * hubctl's common commands in this JVM, through the same code as {@code main}, against a canned hub
 * on loopback, so that {@code -XX:DumpLoadedClassList} records the classes a real run loads. The
 * launcher runs it when asked to build the archive ({@code HUBCTL_CDS_DUMP=1 hubctl}).
 */
public final class CdsTraining {
    private static final String NODE = "{\"id\":\"n0000000000000001\",\"name\":\"web-1\",\"hostname\":\"web-1\","
            + "\"status\":\"online\",\"lastSeen\":\"2026-01-01T00:00:00Z\",\"connectedAt\":\"2026-01-01T00:00:00Z\","
            + "\"labels\":{\"role\":\"web\"},\"os\":\"Linux\",\"arch\":\"amd64\",\"agentVersion\":\"1\","
            + "\"owner\":\"admin\",\"offlineReason\":null,\"createdAt\":\"2026-01-01T00:00:00Z\"}";
    private static final Map<String, String> ANSWERS = Map.of(
            "/api/v1/status", "{\"version\":\"1\",\"hubId\":\"h\",\"agentPort\":9090,\"nodesTotal\":1,"
                    + "\"nodesOnline\":1,\"user\":\"admin\",\"role\":\"admin\"}",
            "/api/v1/nodes", "{\"items\":[" + NODE + "]}",
            "/api/v1/nodes/web-1", NODE,
            "/api/v1/join-tokens", "{\"items\":[{\"id\":\"t1\",\"state\":\"active\",\"usesLeft\":1,"
                    + "\"expiresAt\":\"2026-01-01T00:00:00Z\",\"owner\":\"admin\",\"labels\":{}}]}",
            "/api/v1/listeners", "{\"items\":[]}",
            "/api/v1/users", "{\"items\":[{\"name\":\"admin\",\"role\":\"admin\",\"activeTokens\":1}]}");

    private CdsTraining() {
    }

    public static void main(String[] args) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", CdsTraining::answer);
        server.start();
        try {
            String hub = "http://127.0.0.1:" + server.getAddress().getPort();
            List<List<String>> runs = List.of(List.of("--version"), List.of("--help"), List.of("nodes", "ls"),
                    List.of("nodes", "ls", "-o", "wide"), List.of("nodes", "ls", "-o", "json"),
                    List.of("nodes", "show", "web-1"), List.of("nodes", "show", "missing"), List.of("status"),
                    List.of("tokens", "ls"), List.of("listeners", "ls"), List.of("users", "ls"),
                    List.of("nodes", "ls", "--status", "bogus"));
            Map<String, String> env = Map.of("HUB_URL", hub, "HUB_TOKEN", "hat_training",
                    "HUBCTL_CONFIG", "/nonexistent/hubctl-config");
            for (List<String> run : runs) {
                String[] a = run.toArray(String[]::new);
                var cli = HubctlMain.commandLineFor(new HubctlCommand(env), a);
                cli.setOut(new PrintWriter(Writer.nullWriter()));
                cli.setErr(new PrintWriter(Writer.nullWriter()));
                cli.execute(a);
            }
        } finally {
            server.stop(0);
        }
    }

    private static void answer(HttpExchange x) throws IOException {
        String body = ANSWERS.get(x.getRequestURI().getPath());
        int status = body == null ? 404 : 200;
        if (body == null) {
            body = "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,\"detail\":\"no such node\","
                    + "\"errorId\":\"e1\"}";
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", status == 200 ? "application/json" : "application/problem+json");
        x.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(bytes);
        }
    }
}

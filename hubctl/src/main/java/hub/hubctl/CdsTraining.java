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
 *
 * <p>The canned hub speaks HTTPS, as hubs do, so that the TLS classes are in the archive too: its
 * throwaway certificate (for 127.0.0.1, valid two days) is made by the runtime's own
 * {@code keytool} in a temporary folder and deleted with it. Without keytool it speaks plain HTTP,
 * and the archive only lacks those classes.
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

    public static void main(String[] args) throws Exception {
        java.nio.file.Path tmp = java.nio.file.Files.createTempDirectory("hubctl-cds");
        try {
            train(tmp);
        } finally {
            try (var files = java.nio.file.Files.walk(tmp)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** A keytool-made key and certificate for 127.0.0.1 in {@code dir}, or null without keytool. */
    private static java.security.KeyStore trainingKeys(java.nio.file.Path dir, char[] pass) throws Exception {
        java.nio.file.Path keytool = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool");
        java.nio.file.Path store = dir.resolve("training.p12");
        if (!java.nio.file.Files.isExecutable(keytool)) {
            return null;
        }
        Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "hub", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=hubctl CDS training", "-ext", "san=ip:127.0.0.1",
                "-validity", "2", "-keystore", store.toString(), "-storetype", "PKCS12",
                "-storepass", new String(pass), "-keypass", new String(pass))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (p.waitFor() != 0) {
            return null;
        }
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        try (var in = java.nio.file.Files.newInputStream(store)) {
            ks.load(in, pass);
        }
        return ks;
    }

    private static void train(java.nio.file.Path tmp) throws Exception {
        char[] pass = "training".toCharArray();
        java.security.KeyStore keys = trainingKeys(tmp, pass);
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        HttpServer server;
        Map<String, String> tls = Map.of();
        if (keys != null) {
            javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
                    javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, pass);
            javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            com.sun.net.httpserver.HttpsServer https = com.sun.net.httpserver.HttpsServer.create(loopback, 0);
            https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(ctx));
            server = https;
            java.nio.file.Path ca = tmp.resolve("ca.pem");
            java.nio.file.Files.writeString(ca, hub.tls.Pem.certificate(
                    (java.security.cert.X509Certificate) keys.getCertificate("hub")));
            tls = Map.of("HUB_CA", ca.toString());
        } else {
            server = HttpServer.create(loopback, 0);
        }
        server.createContext("/", CdsTraining::answer);
        server.start();
        try {
            String hub = (keys != null ? "https" : "http") + "://127.0.0.1:" + server.getAddress().getPort();
            List<List<String>> runs = List.of(List.of("--version"), List.of("--help"), List.of("nodes", "ls"),
                    List.of("nodes", "ls", "-o", "wide"), List.of("nodes", "ls", "-o", "json"),
                    List.of("nodes", "show", "web-1"), List.of("nodes", "show", "missing"), List.of("status"),
                    List.of("tokens", "ls"), List.of("listeners", "ls"), List.of("users", "ls"),
                    List.of("nodes", "ls", "--status", "bogus"));
            Map<String, String> env = new java.util.HashMap<>(Map.of("HUB_URL", hub, "HUB_TOKEN", "hat_training",
                    "HUBCTL_CONFIG", "/nonexistent/hubctl-config"));
            env.putAll(tls);
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

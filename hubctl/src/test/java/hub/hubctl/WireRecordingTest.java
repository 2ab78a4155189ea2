package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.agent.AgentConnection;
import hub.agent.AgentIdentity;
import hub.agent.Backoff;
import hub.agent.CredentialStore;
import hub.agent.HubLink;
import hub.agent.IdentityStore;
import hub.hubd.HubDaemon;
import hub.hubd.TestTls;
import hub.hubd.config.HubConfig;
import hub.tls.HubTrust;
import hub.tls.Pem;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a machine on the network path sees: a loopback relay between hubctl/agent and hubd records
 * every byte of a whole session (login, token, join, exec with output, history, the follow
 * WebSocket). None of the admin token, the join token, the node's private key or the output text
 * may appear in it.
 */
class WireRecordingTest {
    @TempDir
    Path dir;

    /** Forwards loopback connections to {@code target} and records both directions. */
    static final class Relay implements AutoCloseable {
        final ServerSocket server;
        final ByteArrayOutputStream seen = new ByteArrayOutputStream();
        final List<byte[]> firstBytes = new CopyOnWriteArrayList<>();
        private final List<Socket> open = new CopyOnWriteArrayList<>();

        Relay(int target) throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread accept = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket in = server.accept();
                        Socket out = new Socket(InetAddress.getLoopbackAddress(), target);
                        open.add(in);
                        open.add(out);
                        pump(in, out, true);
                        pump(out, in, false);
                    } catch (IOException e) {
                        return; // closed
                    }
                }
            }, "relay-accept");
            accept.setDaemon(true);
            accept.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void pump(Socket from, Socket to, boolean clientSide) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[16384];
                boolean first = clientSide;
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        if (first) {
                            firstBytes.add(java.util.Arrays.copyOf(buf, Math.min(n, 3)));
                            first = false;
                        }
                        synchronized (seen) {
                            seen.write(buf, 0, n);
                        }
                        out.write(buf, 0, n);
                        out.flush();
                    }
                } catch (IOException e) {
                    // the connection ended
                } finally {
                    try {
                        to.shutdownOutput();
                    } catch (IOException ignored) {
                        // already closed
                    }
                }
            }, "relay-pump");
            t.setDaemon(true);
            t.start();
        }

        byte[] recorded() {
            synchronized (seen) {
                return seen.toByteArray();
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : open) {
                s.close();
            }
        }
    }

    static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    @Test
    void aRelayOnThePathSeesNoTokenNoKeyAndNoOutput() throws Exception {
        HubDaemon hub = HubDaemon.start(HubConfig.defaults(dir.resolve("data")));
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (Relay http = new Relay(hub.httpPort()); Relay grpc = new Relay(hub.grpcPort())) {
            String url = "https://127.0.0.1:" + http.port();
            String admin = hub.adminToken();
            Path tokenFile = Files.writeString(dir.resolve("admin.token"), admin);
            Map<String, String> env = Map.of("HUBCTL_CONFIG", dir.resolve("hubctl.json").toString());
            Cli.Run login = Cli.runWith(env, "--hub", url, "login", "--token-file", tokenFile.toString(),
                    "--ca-pin", hub.tls().caPin());
            assertThat(login.code()).as(login.err()).isZero();
            Cli.Run created = Cli.runWith(env, "tokens", "create");
            assertThat(created.code()).as(created.err()).isZero();
            String joinToken = created.out().strip();

            Path state = dir.resolve("agent");
            AgentConnection agent = new AgentConnection(new AgentIdentity("h", "Linux", "amd64", "t", "wire-1",
                    Map.of()), HubLink.tls(List.of("127.0.0.1:" + grpc.port()), HubTrust.pinned(hub.tls().caPin()),
                    null, null), IdentityStore.file(state), CredentialStore.file(state), joinToken, scheduler,
                    new Backoff(Duration.ofMillis(50), Duration.ofMillis(200)), new AgentConnection.Listener() { });
            try {
                agent.start();
                await().atMost(Duration.ofSeconds(10)).until(agent::connected);
                String marker = "wire-secret-" + UUID.randomUUID();
                Cli.Run exec = Cli.runWith(env, "exec", "wire-1", "--", "echo", marker);
                assertThat(exec.code()).as(exec.err()).isZero();
                assertThat(exec.out()).contains(marker);
                Cli.Run history = Cli.runWith(env, "history", "wire-1", "--tail", "10");
                assertThat(history.out()).contains(marker);
                Cli.Background follow = new Cli.Background(url, admin, "--ca-file",
                        TestTls.caFile(hub).toString(), "history", "wire-1", "-f");
                try {
                    await().atMost(Duration.ofSeconds(10)).until(() -> follow.out().contains(marker));
                } finally {
                    follow.stop();
                }

                // the agent stores its key and certificate after the Welcome; wait for the file
                await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(state.resolve("node.pem")));
                PrivateKey key = Pem.privateKey(Files.readString(state.resolve("node.pem")));
                byte[] scalar = new byte[32]; // the private scalar, big-endian, 32 bytes whatever its value
                byte[] s = ((ECPrivateKey) key).getS().toByteArray();
                int n = Math.min(32, s.length);
                System.arraycopy(s, s.length - n, scalar, 32 - n, n);
                List<byte[]> secrets = new ArrayList<>(List.of(admin.getBytes(StandardCharsets.US_ASCII),
                        joinToken.getBytes(StandardCharsets.US_ASCII), marker.getBytes(StandardCharsets.US_ASCII),
                        "hjt_".getBytes(StandardCharsets.US_ASCII), "hat_".getBytes(StandardCharsets.US_ASCII),
                        key.getEncoded(), Base64.getEncoder().encode(key.getEncoded()),
                        scalar));
                byte[] web = http.recorded();
                byte[] agents = grpc.recorded();
                assertThat(web.length).as("the relay carried hubctl's traffic").isGreaterThan(5000);
                assertThat(agents.length).as("the relay carried the agent's traffic").isGreaterThan(2000);
                for (byte[] secret : secrets) {
                    assertThat(contains(web, secret)).as("in HTTP traffic: " + new String(secret, StandardCharsets.ISO_8859_1))
                            .isFalse();
                    assertThat(contains(agents, secret)).as("in agent traffic").isFalse();
                }
                // Every connection opened with a TLS handshake record (content type 22, version 3.x).
                for (byte[] first : http.firstBytes) {
                    assertThat(first).startsWith(0x16, 0x03);
                }
                for (byte[] first : grpc.firstBytes) {
                    assertThat(first).startsWith(0x16, 0x03);
                }
                assertThat(http.firstBytes.size()).isGreaterThanOrEqualTo(4);
            } finally {
                agent.close();
            }
        } finally {
            scheduler.shutdownNow();
            hub.close();
        }
    }
}

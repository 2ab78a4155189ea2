package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.agent.AgentConnection;
import hub.agent.AgentIdentity;
import hub.agent.Backoff;
import hub.agent.CredentialStore;
import hub.agent.HubLink;
import hub.agent.IdentityStore;
import hub.hubd.config.HubConfig;
import hub.tls.HubTrust;
import hub.tls.Pem;
import hub.tls.Pins;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bring-your-own certificate files ({@code --tls-cert}, {@code --tls-key}): replaced on disk, the
 * next handshake on either listener presents the new certificate while an agent's stream stays
 * up; a file that does not parse is logged and the current certificate stays.
 */
class CertificateReloadTest {
    @TempDir
    Path dir;

    private static final Duration WAIT = Duration.ofSeconds(10);

    /** The certificate a fresh TLS handshake on {@code port} is presented. */
    private static X509Certificate presented(int port, X509Certificate ca) throws Exception {
        SSLContext ctx = HubTrust.context(HubTrust.anchoredTo(List.of(ca)), null);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
            s.startHandshake();
            return (X509Certificate) s.getSession().getPeerCertificates()[0];
        }
    }

    private static void write(Path cert, Path key, X509Certificate leaf, X509Certificate ca, KeyPair keys) {
        Pem.writeAtomically(key, Pem.privateKey(keys.getPrivate()), true);
        Pem.writeAtomically(cert, Pem.certificate(leaf) + Pem.certificate(ca), false);
    }

    @Test
    void replacedFilesAreServedToNewConnectionsWhileStreamsStayUp() throws Exception {
        Instant now = Instant.now();
        KeyPair caKeys = TestTls.keys();
        X509Certificate ca = TestTls.certificate(caKeys, "Operator CA", null, now.minusSeconds(60),
                now.plus(Duration.ofDays(365)), null, null);
        KeyPair k1 = TestTls.keys();
        X509Certificate leaf1 = TestTls.serverCertificate(k1, "127.0.0.1", now.minusSeconds(60),
                now.plus(Duration.ofDays(90)), caKeys, ca);
        Path cert = dir.resolve("fullchain.pem");
        Path key = dir.resolve("privkey.pem");
        write(cert, key, leaf1, ca, k1);

        HubConfig config = HubConfig.defaults(dir.resolve("data")).withTls(new HubConfig.Tls(false, cert, key, null,
                Duration.ofDays(30), Duration.ofHours(1)));
        try (TestHub hub = new TestHub(config)) {
            assertThat(hub.get("/api/v1/status").get("tls").get("mode").asText()).isEqualTo("provided");
            assertThat(hub.daemon.tls().caPin()).isEqualTo(Pins.of(ca)); // the top of the operator's chain
            assertThat(presented(hub.daemon.httpPort(), ca)).isEqualTo(leaf1);
            assertThat(presented(hub.daemon.grpcPort(), ca)).isEqualTo(leaf1);

            AtomicInteger welcomes = new AtomicInteger();
            AtomicInteger drops = new AtomicInteger();
            AgentConnection agent = new AgentConnection(new AgentIdentity("h", "Linux", "amd64", "t", "byo-1",
                    Map.of()), HubLink.tls(List.of("127.0.0.1:" + hub.daemon.grpcPort()),
                    HubTrust.anchoredTo(List.of(ca)), null, null), IdentityStore.memory(), CredentialStore.memory(),
                    hub.joinToken(1, "15m", Map.of()), hub.scheduler,
                    new Backoff(Duration.ofMillis(50), Duration.ofMillis(200)), new AgentConnection.Listener() {
                        @Override
                        public void welcomed(String nodeId, boolean firstJoin) {
                            welcomes.incrementAndGet();
                        }

                        @Override
                        public void disconnected(io.grpc.Status status, Duration retryIn) {
                            drops.incrementAndGet();
                        }
                    });
            try {
                agent.start();
                await().atMost(WAIT).until(agent::connected);
                String connectedAt = hub.node("byo-1").get("connectedAt").asText();

                // certbot renews: a new key and certificate, written over the old files.
                KeyPair k2 = TestTls.keys();
                X509Certificate leaf2 = TestTls.serverCertificate(k2, "127.0.0.1", now.minusSeconds(60),
                        now.plus(Duration.ofDays(90)), caKeys, ca);
                write(cert, key, leaf2, ca, k2);
                hub.daemon.tls().maintainNow();
                assertThat(presented(hub.daemon.httpPort(), ca)).isEqualTo(leaf2);
                assertThat(presented(hub.daemon.grpcPort(), ca)).isEqualTo(leaf2);

                // The agent's stream, opened on the old certificate, is still the same one.
                assertThat(agent.connected()).isTrue();
                assertThat(welcomes).hasValue(1);
                assertThat(drops).hasValue(0);
                assertThat(hub.node("byo-1").get("connectedAt").asText()).isEqualTo(connectedAt);
                assertThat(hub.call("POST", "/api/v1/nodes/byo-1/tasks", "{\"command\": \"true\"}", hub.adminToken())
                        .status()).isEqualTo(201);

                // Half-written or broken files: the current certificate stays.
                Files.writeString(cert, "not a certificate");
                hub.daemon.tls().maintainNow();
                assertThat(presented(hub.daemon.httpPort(), ca)).isEqualTo(leaf2);
            } finally {
                agent.close();
            }
        }
    }

    @Test
    void aKeyThatIsNotTheCertificatesStopsTheStartWithOneClearMessage() {
        Instant now = Instant.now();
        KeyPair caKeys = TestTls.keys();
        X509Certificate ca = TestTls.certificate(caKeys, "Operator CA", null, now, now.plusSeconds(3600), null, null);
        X509Certificate leaf = TestTls.serverCertificate(TestTls.keys(), "127.0.0.1", now, now.plusSeconds(3600),
                caKeys, ca);
        Path cert = dir.resolve("c.pem");
        Path key = dir.resolve("k.pem");
        write(cert, key, leaf, ca, TestTls.keys());
        HubConfig config = HubConfig.defaults(dir.resolve("data")).withTls(new HubConfig.Tls(false, cert, key, null,
                Duration.ofDays(30), Duration.ofHours(1)));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> HubDaemon.start(config))
                .hasMessageContaining("is not the key of the first certificate");
    }
}

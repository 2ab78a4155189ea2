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
import hub.proto.agent.v1.HubMessage;
import hub.tls.HubTrust;
import hub.tls.KeySlot;
import hub.tls.Pem;
import hub.tls.Pins;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS between agents and a real hub on loopback: agents verify the hub by its CA pin, nodes get
 * certificates from their CSRs and authenticate with them, and every way of presenting the wrong
 * certificate is refused.
 */
class TlsTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    TestHub hub;
    final List<AutoCloseable> closeMe = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        hub = new TestHub(dir.resolve("data"), Duration.ofSeconds(10));
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeMe) {
            c.close();
        }
        hub.close();
    }

    /** Records what an agent's connection reports. */
    static final class Seen implements AgentConnection.Listener {
        final AtomicInteger welcomes = new AtomicInteger();
        final List<Status> ends = new CopyOnWriteArrayList<>();
        final List<X509Certificate> certificates = new CopyOnWriteArrayList<>();

        @Override
        public void welcomed(String nodeId, boolean firstJoin) {
            welcomes.incrementAndGet();
        }

        @Override
        public void disconnected(Status status, Duration retryIn) {
            ends.add(status);
        }

        @Override
        public void certificate(X509Certificate certificate, boolean renewal) {
            certificates.add(certificate);
        }
    }

    private AgentConnection agent(HubLink link, String token, Seen seen) {
        AgentConnection a = new AgentConnection(new AgentIdentity("h", "Linux", "amd64", "t", "tls-1", Map.of()),
                link, IdentityStore.memory(), CredentialStore.memory(), token, hub.scheduler,
                new Backoff(Duration.ofMillis(50), Duration.ofMillis(200)), seen);
        closeMe.add(a);
        a.start();
        return a;
    }

    private static HubLink pinnedTo(TestHub h, String pin) {
        return HubLink.tls(List.of("127.0.0.1:" + h.daemon.grpcPort()), HubTrust.pinned(pin), null, null);
    }

    @Test
    void anAgentWithTheRightPinJoinsAndGetsACertificateForItsOwnKey() throws Exception {
        Seen seen = new Seen();
        AgentConnection a = agent(TestTls.link(hub.daemon), hub.joinToken(1, "15m", Map.of()), seen);
        await().atMost(WAIT).until(a::connected);
        X509Certificate cert = a.certificate();
        assertThat(cert).isNotNull();
        assertThat(cert.getIssuerX500Principal()).isEqualTo(hub.daemon.tls().caCertificate().getSubjectX500Principal());
        cert.verify(hub.daemon.tls().caCertificate().getPublicKey());
        assertThat(cert.getSubjectAlternativeNames()).anySatisfy(
                san -> assertThat(san.get(1)).isEqualTo("urn:mesh-hub:node:" + a.nodeId()));
        assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2"); // TLS client only
        Duration life = Duration.between(cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant());
        assertThat(life).isBetween(Duration.ofDays(30), Duration.ofDays(30).plusMinutes(6));
        assertThat(hub.node(a.nodeId()).get("certificateExpiresAt").asText())
                .startsWith(cert.getNotAfter().toInstant().toString().substring(0, 16));
        // The status route tells admins what TLS the hub runs and what agents pin.
        var status = hub.get("/api/v1/status").get("tls");
        assertThat(status.get("mode").asText()).isEqualTo("generated");
        assertThat(status.get("caPin").asText()).isEqualTo(hub.daemon.tls().caPin());
        // The join token answer carries what a node needs to join, nothing secret about the CA.
        TestHub.Answer t = hub.call("POST", "/api/v1/join-tokens", "{}", hub.adminToken());
        assertThat(t.json().get("caPin").asText()).isEqualTo(Pins.of(hub.daemon.tls().caCertificate()));
        assertThat(t.json().get("agentAddress").asText()).isEqualTo("127.0.0.1:" + hub.daemon.grpcPort());
        assertThat(t.body()).doesNotContain("BEGIN");
    }

    @Test
    void aWrongPinIsRefusedAndTheAgentSaysWhy() {
        Seen seen = new Seen();
        String wrong = "sha256:" + "ab".repeat(32);
        AgentConnection a = agent(pinnedTo(hub, wrong), hub.joinToken(1, "15m", Map.of()), seen);
        await().atMost(WAIT).until(() -> seen.ends.size() >= 2);
        assertThat(a.connected()).isFalse();
        assertThat(seen.welcomes).hasValue(0);
        assertThat(AgentConnection.tlsFailure(seen.ends.get(0)))
                .contains("no certificate with the pinned key " + wrong).contains(hub.daemon.tls().caPin());
        // Nothing reached the hub: the token is unused.
        assertThat(hub.get("/api/v1/join-tokens").get("items").get(0).get("usesLeft").asInt()).isEqualTo(1);
    }

    @Test
    void aHubWithAnotherCaIsRefused() throws Exception {
        try (TestHub other = new TestHub(dir.resolve("other"), Duration.ofSeconds(10))) {
            Seen seen = new Seen();
            // Pinned to this hub's CA, pointed at the other hub (as if it sat on the address).
            AgentConnection a = agent(pinnedTo(other, hub.daemon.tls().caPin()), other.joinToken(1, "15m", Map.of()),
                    seen);
            await().atMost(WAIT).until(() -> !seen.ends.isEmpty());
            assertThat(a.connected()).isFalse();
            assertThat(AgentConnection.tlsFailure(seen.ends.get(0))).contains("no certificate with the pinned key")
                    .contains(other.daemon.tls().caPin());
            a.close();
        }
    }

    @Test
    void theHostNameIsCheckedEvenWithAPin() {
        try (TestHub named = new TestHub(HubConfig.defaults(dir.resolve("named"))
                .withAdvertise(List.of("localhost")))) {
            Seen seen = new Seen();
            // The certificate names only localhost; 127.0.0.1 reaches the same hub but is not named.
            // The handshake fails before any Hello: the join token is never looked at.
            AgentConnection a = agent(pinnedTo(named, named.daemon.tls().caPin()), "hjt_" + "x".repeat(32), seen);
            await().atMost(WAIT).until(() -> !seen.ends.isEmpty());
            assertThat(a.connected()).isFalse();
            assertThat(AgentConnection.tlsFailure(seen.ends.get(0))).contains("127.0.0.1")
                    .contains("the certificate names localhost");
            a.close();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    // --- node certificates (mTLS) -------------------------------------------------------------

    /** A node joined by hand: its key, its certificate, its id. */
    record Joined(String id, KeyPair keys, X509Certificate cert, RawAgent stream) {
        KeySlot slot() {
            KeySlot k = new KeySlot();
            k.set(keys.getPrivate(), List.of(cert));
            return k;
        }
    }

    private Joined join(String name) throws Exception {
        KeyPair keys = TestTls.keys();
        RawAgent raw = new RawAgent(hub.channel()).send(RawAgent.hello(name)
                .setCsr(com.google.protobuf.ByteString.copyFrom(TestTls.csr(keys)))
                .setJoinToken(hub.joinToken(1, "15m", Map.of())));
        var w = raw.next(WAIT).getWelcome();
        X509Certificate cert = Pem.certificate(w.getNodeCertificate().toByteArray());
        assertThat(cert.getPublicKey()).isEqualTo(keys.getPublic());
        return new Joined(w.getNodeId(), keys, cert, raw);
    }

    /** Connects presenting {@code keys}, says it is {@code nodeId}; returns the stream's first answer or end. */
    private Object reconnect(KeySlot keys, String nodeId) throws Exception {
        RawAgent raw = new RawAgent(hub.channel(keys)).send(RawAgent.hello("again").setNodeId(nodeId));
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            HubMessage m = raw.received.poll(20, java.util.concurrent.TimeUnit.MILLISECONDS);
            if (m != null) {
                raw.close();
                return m;
            }
            if (raw.ended.isDone() && raw.received.isEmpty()) {
                return raw.ended.get();
            }
        }
        throw new AssertionError("neither welcomed nor refused within " + WAIT);
    }

    private static Status refused(Object answer) {
        assertThat(answer).as("refused, not welcomed").isInstanceOf(Status.class);
        Status s = (Status) answer;
        assertThat(s.isOk()).isFalse();
        return s;
    }

    private KeyPair caKeys() throws Exception {
        Path tls = hub.daemon.config().tlsDir();
        PrivateKey key = Pem.privateKey(Files.readString(tls.resolve("ca.key")));
        return new KeyPair(hub.daemon.tls().caCertificate().getPublicKey(), key);
    }

    @Test
    void anAgentWhoseStreamTheHubEndsReconnectsToTheSameHubWithItsCertificate() throws Exception {
        // The same agent process, the same TLS context, the same hub process: what a dropped
        // connection, missed heartbeats or a full ingest lane lead to. Its TLS session may be resumed;
        // it must still be taken for its node, not asked to join again.
        Seen seen = new Seen();
        AgentConnection a = agent(TestTls.link(hub.daemon), hub.joinToken(1, "15m", Map.of()), seen);
        await().atMost(WAIT).until(a::connected);
        String id = a.nodeId();
        for (int i = 1; i <= 3; i++) {
            hub.daemon.registry().session(id).orElseThrow().close("test: closed by the hub");
            int welcomes = i + 1;
            await().atMost(WAIT).until(() -> seen.welcomes.get() == welcomes && a.connected());
            assertThat(a.nodeId()).isEqualTo(id);
        }
        assertThat(seen.ends).allSatisfy(st -> assertThat(st.getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }

    @Test
    void aNodeReconnectsWithItsCertificate() throws Exception {
        Joined a = join("mtls-a");
        a.stream().close();
        Object again = reconnect(a.slot(), a.id());
        assertThat(again).isInstanceOf(HubMessage.class);
        assertThat(((HubMessage) again).getWelcome().getNodeId()).isEqualTo(a.id());
        assertThat(((HubMessage) again).getWelcome().getNodeCertificate().isEmpty()).isTrue();
    }

    @Test
    void anotherNodesCertificateIsRefusedWithoutItsKeyAndCannotClaimThisNodeWithIt() throws Exception {
        Joined a = join("mtls-a");
        Joined b = join("mtls-b");
        // B's certificate with A's key: the TLS handshake fails (A cannot prove it holds B's key).
        KeySlot stolenCert = new KeySlot();
        stolenCert.set(a.keys().getPrivate(), List.of(b.cert()));
        assertThat(refused(reconnect(stolenCert, a.id())).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(refused(reconnect(stolenCert, b.id())).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        // B's certificate and key (B itself, or a thief of both) cannot say it is A.
        Status s = refused(reconnect(b.slot(), a.id()));
        assertThat(s.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(s.getDescription()).contains("node " + b.id() + "'s, not " + a.id());
        // And no certificate at all cannot claim a node.
        Status none = refused(reconnect(new KeySlot(), a.id()));
        assertThat(none.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(none.getDescription()).contains("no client certificate");
    }

    @Test
    void expiredAndSelfSignedCertificatesAreRefused() throws Exception {
        Joined a = join("mtls-a");
        a.stream().close();
        KeyPair ca = caKeys();
        Instant now = Instant.now();
        X509Certificate expired = TestTls.certificate(a.keys(), a.id(), a.id(), now.minus(Duration.ofDays(40)),
                now.minus(Duration.ofDays(10)), ca, hub.daemon.tls().caCertificate());
        KeySlot old = new KeySlot();
        old.set(a.keys().getPrivate(), List.of(expired));
        assertThat(refused(reconnect(old, a.id())).getCode()).isEqualTo(Status.Code.UNAVAILABLE);

        X509Certificate self = TestTls.certificate(a.keys(), a.id(), a.id(), now.minus(Duration.ofDays(1)),
                now.plus(Duration.ofDays(10)), null, null);
        KeySlot forged = new KeySlot();
        forged.set(a.keys().getPrivate(), List.of(self));
        assertThat(refused(reconnect(forged, a.id())).getCode()).isEqualTo(Status.Code.UNAVAILABLE);

        // The same key with a certificate the hub's CA signed, valid now: accepted. (So it was the
        // certificates above that were refused, not the key or the node.)
        X509Certificate fresh = TestTls.certificate(a.keys(), a.id(), a.id(), now.minus(Duration.ofMinutes(1)),
                now.plus(Duration.ofDays(1)), ca, hub.daemon.tls().caCertificate());
        KeySlot good = new KeySlot();
        good.set(a.keys().getPrivate(), List.of(fresh));
        assertThat(reconnect(good, a.id())).isInstanceOf(HubMessage.class);
    }

    @Test
    void aRemovedNodesCertificateIsRefusedAtOnce() throws Exception {
        Joined a = join("mtls-gone");
        assertThat(hub.call("DELETE", "/api/v1/nodes/" + a.id(), null, hub.adminToken()).status()).isEqualTo(204);
        assertThat(a.stream().ended.get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS).isOk()).isFalse();
        RawAgent again = new RawAgent(hub.channel(a.slot())).send(RawAgent.hello("again").setNodeId(a.id()));
        Status s = again.ended.get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        assertThat(s.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(s.getDescription()).contains("not known to this hub");
        // Said in a trailer too: the one refusal after which an agent gives its identity up.
        assertThat(again.trailers.get().get(io.grpc.Metadata.Key.of("hub-refusal",
                io.grpc.Metadata.ASCII_STRING_MARSHALLER))).isEqualTo("node-unknown");
    }

    @Test
    void theAgentOfARemovedNodeJoinsAgainWithItsTokenAsANewNode() throws Exception {
        Seen seen = new Seen();
        AgentConnection a = agent(TestTls.link(hub.daemon), hub.joinToken(2, "15m", Map.of()), seen);
        await().atMost(WAIT).until(a::connected);
        String first = a.nodeId();
        assertThat(hub.call("DELETE", "/api/v1/nodes/" + first, null, hub.adminToken()).status()).isEqualTo(204);
        await().atMost(WAIT).until(() -> a.connected() && a.nodeId() != null && !a.nodeId().equals(first));
        assertThat(seen.certificates).hasSize(2); // a new certificate for the new node
    }

    @Test
    void theAgentRenewsAtTwoThirdsOfTheLifeOverTheOpenStream() throws Exception {
        MutableClock clock = new MutableClock();
        Seen seen = new Seen();
        IdentityStore ids = IdentityStore.memory();
        AgentConnection a = new AgentConnection(new AgentIdentity("h", "Linux", "amd64", "t", "renew-1", Map.of()),
                TestTls.link(hub.daemon), ids, CredentialStore.memory(), hub.joinToken(1, "15m", Map.of()),
                hub.scheduler, new Backoff(Duration.ofMillis(50), Duration.ofMillis(200)), seen, clock,
                Duration.ofMillis(100), AgentConnection.KeyMaker.STANDARD);
        closeMe.add(a);
        a.start();
        await().atMost(WAIT).until(a::connected);
        X509Certificate first = a.certificate();
        String connectedAt = hub.node(a.nodeId()).get("connectedAt").asText();

        clock.advance(Duration.ofDays(19)); // before 2/3 of 30 days: nothing happens
        Thread.sleep(400);
        assertThat(a.certificate()).isEqualTo(first);

        clock.advance(Duration.ofDays(2)); // past 2/3, before expiry
        await().atMost(WAIT).until(() -> !a.certificate().equals(first));
        X509Certificate second = a.certificate();
        assertThat(Pins.of(second)).as("a new key").isNotEqualTo(Pins.of(first));
        assertThat(second.getNotAfter()).isAfterOrEqualTo(first.getNotAfter()); // to the second
        assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
        assertThat(ids.load().orElseThrow().certificate()).isEqualTo(second);
        // The stream stayed open: one welcome, no disconnect, the same connection on the hub.
        assertThat(seen.welcomes).hasValue(1);
        assertThat(seen.ends).isEmpty();
        assertThat(a.connected()).isTrue();
        assertThat(hub.node(a.nodeId()).get("connectedAt").asText()).isEqualTo(connectedAt);
        await().atMost(WAIT).until(() -> hub.node(a.nodeId()).get("certificateExpiresAt").asText()
                .startsWith(second.getNotAfter().toInstant().toString().substring(0, 16)));

        // The next connection presents the new certificate.
        hub.restart();
        await().atMost(WAIT).until(() -> seen.welcomes.get() == 2);
        assertThat(a.certificate()).isEqualTo(second);
    }

    @Test
    void aNodeCredentialIsExchangedOnceForACertificate() throws Exception {
        hub.close();
        HubConfig plain = HubConfig.defaults(dir.resolve("migrate")).withTls(HubConfig.Tls.insecurePlaintext());
        String credential;
        String id;
        try (TestHub old = new TestHub(plain)) {
            RawAgent r = new RawAgent(old.channel()).send(RawAgent.hello("legacy").setJoinToken(old.joinToken(1, "15m",
                    Map.of())));
            var w = r.next(WAIT).getWelcome();
            credential = w.getNodeCredential();
            id = w.getNodeId();
            assertThat(credential).startsWith("hnc_");
            r.close();
        }
        hub = new TestHub(plain.withTls(HubConfig.Tls.defaults()));
        // Without a CSR the credential is refused with what to do.
        RawAgent bare = new RawAgent(hub.channel()).send(RawAgent.hello("legacy").clearCsr().setNodeCredential(credential));
        Status s = bare.ended.get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        assertThat(s.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(s.getDescription()).contains("no longer accepted").contains("csr");
        // With one, it is accepted once more, and answered with a certificate for the same node.
        RawAgent moving = new RawAgent(hub.channel()).send(RawAgent.hello("legacy").setNodeCredential(credential));
        var w = moving.next(WAIT).getWelcome();
        assertThat(w.getNodeId()).isEqualTo(id);
        X509Certificate cert = Pem.certificate(w.getNodeCertificate().toByteArray());
        moving.close();
        // The credential is spent, now and after a restart (it is gone from the store too).
        Status spent = new RawAgent(hub.channel()).send(RawAgent.hello("legacy").setNodeCredential(credential))
                .ended.get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        assertThat(spent.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        await().atMost(WAIT).until(() -> hub.daemon.registry().dirtyCount() == 0);
        hub.restart();
        Status afterRestart = new RawAgent(hub.channel()).send(RawAgent.hello("legacy").setNodeCredential(credential))
                .ended.get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        assertThat(afterRestart.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        KeySlot slot = new KeySlot();
        slot.set(RawAgent.KEYS.getPrivate(), List.of(cert));
        assertThat(reconnect(slot, id)).isInstanceOf(HubMessage.class);
    }
}

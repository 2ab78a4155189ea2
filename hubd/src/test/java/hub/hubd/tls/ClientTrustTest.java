package hub.hubd.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import hub.hubd.MutableClock;
import hub.hubd.TestTls;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which client chains the agent listener takes, and what it remembers of the ones it took. */
class ClientTrustTest {
    private final Instant now = Instant.now();
    private final KeyPair caKeys = TestTls.keys();
    private final X509Certificate ca = TestTls.certificate(caKeys, "Hub CA", null, now.minusSeconds(60),
            now.plus(Duration.ofDays(30)), null, null);
    private final KeyPair otherCaKeys = TestTls.keys();
    private final X509Certificate otherCa = TestTls.certificate(otherCaKeys, "Other CA", null, now.minusSeconds(60),
            now.plus(Duration.ofDays(30)), null, null);
    private final MutableClock clock = new MutableClock();

    private X509Certificate node(String id, KeyPair signer, X509Certificate issuer) {
        return TestTls.certificate(TestTls.keys(), id, id, now.minusSeconds(60), now.plus(Duration.ofDays(1)), signer,
                issuer);
    }

    @Test
    void aChainThatPassedIsRememberedAndNotCheckedAgainWhileValid() throws Exception {
        ClientTrust trust = new ClientTrust(ca, List.of(), clock, null);
        X509Certificate n1 = node("n1", caKeys, ca);
        trust.checkClientTrusted(new X509Certificate[] {n1}, "EC");
        assertThat(trust.remembered()).isEqualTo(1);
        trust.checkClientTrusted(new X509Certificate[] {n1}, "EC");
        trust.checkClientTrusted(new X509Certificate[] {node("n2", caKeys, ca)}, "EC");
        assertThat(trust.remembered()).isEqualTo(2);
    }

    @Test
    void aRememberedChainIsRefusedOnceItsValidityEnds() throws Exception {
        ClientTrust trust = new ClientTrust(ca, List.of(), clock, null);
        X509Certificate n1 = node("n1", caKeys, ca);
        trust.checkClientTrusted(new X509Certificate[] {n1}, "EC");
        clock.advance(Duration.ofDays(2)); // past the node certificate's notAfter
        // The hit is checked against the time; the miss then goes to the full check (the JDK's own
        // clock, for which it is still valid): what the cache must not do is let it through alone.
        assertThat(trust.rememberedValid(new X509Certificate[] {n1}, "EC")).isFalse();
    }

    @Test
    void droppingACaForgetsTheChainsThatPassedThroughIt() throws Exception {
        ClientTrust trust = new ClientTrust(ca, List.of(otherCa), clock, null);
        X509Certificate n1 = node("n1", otherCaKeys, otherCa);
        trust.checkClientTrusted(new X509Certificate[] {n1}, "EC");
        trust.use(List.of());
        assertThat(trust.remembered()).isZero();
        assertThatThrownBy(() -> trust.checkClientTrusted(new X509Certificate[] {n1}, "EC"))
                .isInstanceOf(CertificateException.class);
    }

    @Test
    void theSameCertificateWithAnotherSignatureIsCheckedInFullAndRefused() throws Exception {
        ClientTrust trust = new ClientTrust(ca, List.of(), clock, null);
        X509Certificate n1 = node("n1", caKeys, ca);
        trust.checkClientTrusted(new X509Certificate[] {n1}, "EC");
        byte[] der = n1.getEncoded();
        der[der.length - 3] ^= 0x01; // inside the signature's last integer
        X509Certificate forged = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(der));
        assertThatThrownBy(() -> trust.checkClientTrusted(new X509Certificate[] {forged}, "EC"))
                .isInstanceOf(CertificateException.class);
        assertThat(trust.remembered()).isEqualTo(1);
    }

    @Test
    void whatPassedIsKeptAcrossARestartForTheSameCasOnly(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path memory = dir.resolve("verified-chains");
        ClientTrust before = new ClientTrust(ca, List.of(otherCa), clock, memory);
        X509Certificate n1 = node("n1", caKeys, ca);
        X509Certificate n2 = node("n2", otherCaKeys, otherCa);
        before.checkClientTrusted(new X509Certificate[] {n1}, "EC");
        before.checkClientTrusted(new X509Certificate[] {n2}, "EC");
        before.save();
        assertThat(java.nio.file.Files.getPosixFilePermissions(memory))
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);

        ClientTrust after = new ClientTrust(ca, List.of(otherCa), clock, memory);
        assertThat(after.remembered()).isEqualTo(2);
        assertThat(after.rememberedValid(new X509Certificate[] {n1}, "EC")).isTrue();
        // Started with another set of CAs, the file is worth nothing.
        assertThat(new ClientTrust(ca, List.of(), clock, memory).remembered()).isZero();
        // A file cut short is not half trusted.
        byte[] all = java.nio.file.Files.readAllBytes(memory);
        java.nio.file.Files.write(memory, java.util.Arrays.copyOf(all, all.length - 10));
        assertThat(new ClientTrust(ca, List.of(otherCa), clock, memory).remembered()).isZero();
    }

    @Test
    void aCertificateTheHubIssuesIsRememberedAsItIsSigned() {
        ClientTrust trust = new ClientTrust(ca, List.of(), clock, null);
        X509Certificate n1 = node("n1", caKeys, ca);
        trust.issued(n1);
        assertThat(trust.rememberedValid(new X509Certificate[] {n1}, "UNKNOWN")).isTrue();
    }

    @Test
    void aCertificateOfAnUnknownCaIsRefusedAndNotRemembered() {
        ClientTrust trust = new ClientTrust(ca, List.of(), clock, null);
        X509Certificate stranger = node("n1", otherCaKeys, otherCa);
        assertThatThrownBy(() -> trust.checkClientTrusted(new X509Certificate[] {stranger}, "EC"))
                .isInstanceOf(CertificateException.class);
        assertThat(trust.remembered()).isZero();
    }
}

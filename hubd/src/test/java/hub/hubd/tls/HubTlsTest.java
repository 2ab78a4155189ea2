package hub.hubd.tls;

import static org.assertj.core.api.Assertions.assertThat;

import hub.hubd.MutableClock;
import hub.hubd.TestTls;
import hub.tls.Pem;
import hub.tls.Pins;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hub's TLS material on its own: made once, renewed before it expires, reloaded when files change. */
class HubTlsTest {
    @TempDir
    Path dir;

    private HubTls.Settings settings(Path clientCa) {
        return new HubTls.Settings(dir.resolve("tls"), List.of("hub.example", "127.0.0.1"), null, null, clientCa,
                Duration.ofDays(30), Duration.ofHours(1));
    }

    @Test
    void theCaAndServingCertificateAreMadeOnceWithPrivateKeysAndTheAdvertisedNames() throws Exception {
        X509Certificate ca;
        X509Certificate serving;
        try (HubTls tls = HubTls.start(settings(null), java.time.Clock.systemUTC())) {
            ca = tls.caCertificate();
            serving = tls.servingCertificate();
            assertThat(ca.getBasicConstraints()).isZero(); // a CA, issuing leaves only
            assertThat(ca.getPublicKey().getAlgorithm()).isEqualTo("EC");
            assertThat(Duration.between(ca.getNotBefore().toInstant(), ca.getNotAfter().toInstant()))
                    .isGreaterThan(Duration.ofDays(3649));
            List<Object> names = serving.getSubjectAlternativeNames().stream().map(l -> (Object) l.get(1)).toList();
            assertThat(names).containsExactlyInAnyOrder("hub.example", "127.0.0.1");
            assertThat(serving.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1"); // TLS server only
            serving.verify(ca.getPublicKey());
        }
        for (String key : List.of("ca.key", "hub.key")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("tls").resolve(key))))
                    .isEqualTo("rw-------");
        }
        try (HubTls again = HubTls.start(settings(null), java.time.Clock.systemUTC())) {
            assertThat(again.caCertificate()).isEqualTo(ca);
            assertThat(again.servingCertificate()).isEqualTo(serving);
        }
    }

    @Test
    void theServingCertificateIsRenewedWithTheSameKeyWhenAThirdOfItsLifeIsLeft() {
        MutableClock clock = new MutableClock();
        try (HubTls tls = HubTls.start(settings(null), clock)) {
            X509Certificate first = tls.servingCertificate();
            clock.advance(Duration.ofDays(200));
            tls.maintainNow();
            assertThat(tls.servingCertificate()).as("not yet due").isEqualTo(first);
            clock.advance(Duration.ofDays(50)); // 250 of 365 days: less than a third left
            tls.maintainNow();
            X509Certificate renewed = tls.servingCertificate();
            assertThat(renewed.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
            assertThat(renewed.getNotAfter()).isAfter(first.getNotAfter());
            // The same key: a pin of it (curl's --pinnedpubkey) holds across renewals.
            assertThat(Pins.curl(renewed)).isEqualTo(Pins.curl(first));
            assertThat(Pem.certificates(dir.resolve("tls/hub.crt")).get(0)).isEqualTo(renewed);
        }
    }

    @Test
    void anotherAdvertisedNameGetsANewCertificateAtStart() {
        try (HubTls tls = HubTls.start(settings(null), java.time.Clock.systemUTC())) {
            assertThat(tls.servingCertificate()).isNotNull();
        }
        var moved = new HubTls.Settings(dir.resolve("tls"), List.of("hub2.example"), null, null, null,
                Duration.ofDays(30), Duration.ofHours(1));
        try (HubTls tls = HubTls.start(moved, java.time.Clock.systemUTC())) {
            assertThat(CertificateAuthority.names(tls.servingCertificate(), "hub2.example")).isTrue();
        }
    }

    @Test
    void clientCasAreReadAgainWhenTheFileChanges() throws Exception {
        Instant now = Instant.now();
        KeyPair otherCaKeys = TestTls.keys();
        X509Certificate otherCa = TestTls.certificate(otherCaKeys, "Other CA", null, now.minusSeconds(60),
                now.plus(Duration.ofDays(10)), null, null);
        KeyPair unrelatedKeys = TestTls.keys();
        X509Certificate unrelated = TestTls.certificate(unrelatedKeys, "Unrelated CA", null, now.minusSeconds(60),
                now.plus(Duration.ofDays(10)), null, null);
        Path file = dir.resolve("client-ca.pem");
        Pem.writeAtomically(file, Pem.certificate(unrelated), false);
        X509Certificate node = TestTls.certificate(TestTls.keys(), "n1", "n1", now.minusSeconds(60),
                now.plus(Duration.ofDays(1)), otherCaKeys, otherCa);
        try (HubTls tls = HubTls.start(settings(file), java.time.Clock.systemUTC())) {
            org.assertj.core.api.Assertions.assertThatThrownBy(
                    () -> tls.clientTrust().checkClientTrusted(new X509Certificate[] {node}, "EC"))
                    .isInstanceOf(CertificateException.class);
            Pem.writeAtomically(file, Pem.certificate(unrelated) + Pem.certificate(otherCa), false);
            tls.maintainNow();
            tls.clientTrust().checkClientTrusted(new X509Certificate[] {node}, "EC");
            assertThat(tls.clientTrust().getAcceptedIssuers()).contains(tls.caCertificate(), otherCa, unrelated);
        }
    }
}

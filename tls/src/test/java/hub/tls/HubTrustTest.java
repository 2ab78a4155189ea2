package hub.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.cert.CertificateException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The parts of hub.tls that need no certificates of their own. */
class HubTrustTest {
    @Test
    void pinsAreCheckedAndNormalized() {
        String pin = "sha256:" + "AB".repeat(32);
        assertThat(Pins.parse(pin)).isEqualTo("sha256:" + "ab".repeat(32));
        assertThatThrownBy(() -> Pins.parse("sha1:" + "ab".repeat(20))).hasMessageContaining("sha256:");
        assertThatThrownBy(() -> Pins.parse("sha256:abc")).hasMessageContaining("64 hex digits");
        assertThatThrownBy(() -> Pins.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void skipVerifyIsToldOfEveryConnection() throws Exception {
        AtomicInteger seen = new AtomicInteger();
        var tm = HubTrust.insecure(chain -> seen.incrementAndGet());
        tm.checkServerTrusted(new java.security.cert.X509Certificate[0], "EC");
        tm.checkServerTrusted(new java.security.cert.X509Certificate[0], "EC");
        assertThat(seen).hasValue(2);
        assertThatThrownBy(() -> tm.checkClientTrusted(new java.security.cert.X509Certificate[0], "EC"))
                .isInstanceOf(CertificateException.class);
    }

    @Test
    void aPinnedTrustManagerRefusesAnEmptyChain() {
        var tm = HubTrust.pinned("sha256:" + "00".repeat(32));
        assertThatThrownBy(() -> tm.checkServerTrusted(new java.security.cert.X509Certificate[0], "EC"))
                .hasMessageContaining("no certificate");
    }
}

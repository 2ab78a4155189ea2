package hub.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node's certificate and key on disk: one file, 0600, read back as it was written. */
class IdentityStoreTest {
    @TempDir
    Path dir;

    static X509Certificate cert(KeyPair keys, String nodeId, Instant from, Instant to) throws Exception {
        var b = new JcaX509v3CertificateBuilder(new X500Name("CN=ca"), BigInteger.ONE, Date.from(from), Date.from(to),
                new X500Name("CN=" + nodeId), keys.getPublic());
        if (nodeId != null) {
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                    new GeneralName(GeneralName.uniformResourceIdentifier, "urn:mesh-hub:node:" + nodeId)));
        }
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
    }

    @Test
    void savesCertificateAndKeyInOnePrivateFileAndReadsThemBack() throws Exception {
        KeyPair keys = NodeKeys.newKeyPair();
        Instant now = Instant.now();
        NodeIdentity id = new NodeIdentity(cert(keys, "n123", now, now.plus(Duration.ofDays(30))), keys.getPrivate());
        IdentityStore store = IdentityStore.file(dir);
        assertThat(store.load()).isEmpty();
        store.save(id);
        Path file = dir.resolve("node.pem");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        NodeIdentity back = store.load().orElseThrow();
        assertThat(back.certificate()).isEqualTo(id.certificate());
        assertThat(back.key().getEncoded()).isEqualTo(keys.getPrivate().getEncoded());
        assertThat(back.nodeId()).isEqualTo("n123");
        assertThat(back.renewAt()).isEqualTo(id.certificate().getNotBefore().toInstant().plus(Duration.ofDays(20)));
        store.clear();
        assertThat(store.load()).isEmpty();
    }

    @Test
    void aCertificateThatNamesNoNodeOrABrokenFileIsRefused() throws Exception {
        KeyPair keys = NodeKeys.newKeyPair();
        Instant now = Instant.now();
        assertThatThrownBy(() -> new NodeIdentity(cert(keys, null, now, now.plusSeconds(60)), keys.getPrivate()))
                .hasMessageContaining("names no node");
        Files.writeString(dir.resolve("node.pem"), "garbage");
        assertThatThrownBy(() -> IdentityStore.file(dir).load()).hasMessageContaining("remove it to join again");
    }

    @Test
    void theCsrIsSignedByTheKeyItAsksAbout() throws Exception {
        KeyPair keys = NodeKeys.newKeyPair();
        var csr = new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest(NodeKeys.csr(keys, "host-1"));
        assertThat(csr.getPublicKey()).isEqualTo(keys.getPublic());
        assertThat(csr.isSignatureValid(new org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder()
                .build(keys.getPublic()))).isTrue();
    }
}

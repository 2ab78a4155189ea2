package hub.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.KeyPair;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * The node's key pairs (ECDSA P-256, made here and never sent anywhere) and the PKCS#10 requests
 * that ask the hub to certify them. The subject is informative only: the hub decides what the
 * certificate names.
 */
final class NodeKeys {
    private NodeKeys() {
    }

    static KeyPair newKeyPair() {
        return hub.tls.Keys.newKeyPair();
    }

    /** A DER PKCS#10 request for {@code keys}, signed with them (which proves the agent holds the key). */
    static byte[] csr(KeyPair keys, String hostname) {
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN,
                hostname == null || hostname.isBlank() ? "hub-agent" : hostname).build();
        try {
            return new JcaPKCS10CertificationRequestBuilder(subject, keys.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()))
                    .getEncoded();
        } catch (OperatorCreationException e) {
            throw new IllegalStateException("cannot sign a CSR: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package hub.hubd.tls;

import hub.hubd.core.HubException;
import java.io.IOException;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * Node client certificates: checks the CSR an agent sends (its signature proves the agent holds
 * the private key, which never leaves the node) and signs a certificate that names the node by id,
 * in a URI SAN {@code urn:mesh-hub:node:<id>} and the subject CN. Whatever else the CSR asks for
 * (subject, extensions) is ignored: the hub decides what a node certificate says.
 */
public final class NodeCertificates {
    /** CSRs larger than this are refused before parsing. */
    public static final int MAX_CSR_BYTES = 8 * 1024;

    /** A signed certificate. */
    public record Issued(X509Certificate certificate, byte[] der, Instant notAfter) {
    }

    private final CertificateAuthority ca;
    private final Duration ttl;
    /** Told of each certificate signed (the client trust remembers it as verified). */
    private final java.util.function.Consumer<X509Certificate> issued;

    NodeCertificates(CertificateAuthority ca, Duration ttl, java.util.function.Consumer<X509Certificate> issued) {
        this.issued = issued;
        this.ca = ca;
        this.ttl = ttl;
    }

    /** How long node certificates are valid. */
    public Duration ttl() {
        return ttl;
    }

    /**
     * The public key of a well-formed, self-signed PKCS#10 CSR for an EC P-256/P-384 or RSA
     * 2048–8192 bit key.
     *
     * @throws HubException INVALID saying what is wrong with it
     */
    public PublicKey verifyCsr(byte[] der) {
        if (der == null || der.length == 0) {
            throw HubException.invalid("no CSR: this hub issues node certificates, send a csr in Hello");
        }
        if (der.length > MAX_CSR_BYTES) {
            throw HubException.invalid("CSR too large (" + der.length + " bytes, at most " + MAX_CSR_BYTES + ")");
        }
        JcaPKCS10CertificationRequest csr;
        PublicKey key;
        try {
            csr = new JcaPKCS10CertificationRequest(der);
            key = csr.getPublicKey();
        } catch (IOException | java.security.GeneralSecurityException | RuntimeException e) {
            throw HubException.invalid("the CSR is not a DER PKCS#10 request");
        }
        try {
            if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(CertificateAuthority.BC)
                    .build(key))) {
                throw HubException.invalid("the CSR's signature does not verify with its own key");
            }
        } catch (OperatorCreationException | PKCSException | RuntimeException e) {
            throw HubException.invalid("the CSR's signature cannot be checked: unsupported algorithm");
        }
        if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            if (bits != 256 && bits != 384) {
                throw HubException.invalid("EC keys must be P-256 or P-384, not " + bits + " bits");
            }
        } else if (key instanceof RSAPublicKey rsa) {
            int bits = rsa.getModulus().bitLength();
            if (bits < 2048 || bits > 8192) {
                throw HubException.invalid("RSA keys must have 2048 to 8192 bits, not " + bits);
            }
        } else {
            throw HubException.invalid("node keys must be EC (P-256, P-384) or RSA, not " + key.getAlgorithm());
        }
        return key;
    }

    /** A certificate for {@code nodeId}'s {@code key}, valid from now (a few minutes back) for the TTL. */
    public Issued issue(String nodeId, PublicKey key) {
        Instant now = ca.now();
        Instant notAfter = now.plus(ttl);
        X509Certificate cert = ca.issueNode(nodeId, key, now.minus(CertificateAuthority.BACKDATE), notAfter);
        issued.accept(cert);
        try {
            return new Issued(cert, cert.getEncoded(), notAfter);
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("cannot encode a node certificate", e);
        }
    }

    /**
     * The node id a (verified) client certificate names in its URI SAN, or {@code null} when it
     * names none: a certificate the hub did not issue to a node.
     */
    public static String nodeIdOf(X509Certificate cert) {
        try {
            var sans = cert.getSubjectAlternativeNames();
            if (sans == null) {
                return null;
            }
            for (List<?> san : sans) {
                if ((Integer) san.get(0) == 6) {
                    String uri = String.valueOf(san.get(1));
                    if (uri.startsWith(CertificateAuthority.NODE_URI_PREFIX)) {
                        String id = uri.substring(CertificateAuthority.NODE_URI_PREFIX.length());
                        return id.matches("[a-z0-9]{1,32}") ? id : null;
                    }
                }
            }
            return null;
        } catch (CertificateParsingException e) {
            return null;
        }
    }
}

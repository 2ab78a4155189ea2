package hub.agent;

import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A node's client certificate (signed by the hub from the node's CSR) and the private key it was
 * made for, which never left the node.
 *
 * @param certificate the certificate, naming the node in a URI SAN {@code urn:mesh-hub:node:<id>}
 * @param key         its private key
 */
public record NodeIdentity(X509Certificate certificate, PrivateKey key) {
    static final String NODE_URI_PREFIX = "urn:mesh-hub:node:";

    public NodeIdentity {
        Objects.requireNonNull(certificate, "certificate");
        Objects.requireNonNull(key, "key");
        if (nodeIdOf(certificate) == null) {
            throw new IllegalArgumentException("the certificate names no node (" + NODE_URI_PREFIX + "…)");
        }
    }

    /** The node id the certificate names. */
    public String nodeId() {
        return nodeIdOf(certificate);
    }

    /** When the certificate expires. */
    public Instant notAfter() {
        return certificate.getNotAfter().toInstant();
    }

    /** When to ask for a new one: at 2/3 of its lifetime. */
    public Instant renewAt() {
        Instant from = certificate.getNotBefore().toInstant();
        Duration life = Duration.between(from, notAfter());
        return from.plus(life.multipliedBy(2).dividedBy(3));
    }

    static String nodeIdOf(X509Certificate cert) {
        try {
            var sans = cert.getSubjectAlternativeNames();
            if (sans == null) {
                return null;
            }
            for (List<?> san : sans) {
                if ((Integer) san.get(0) == 6 && String.valueOf(san.get(1)).startsWith(NODE_URI_PREFIX)) {
                    return String.valueOf(san.get(1)).substring(NODE_URI_PREFIX.length());
                }
            }
            return null;
        } catch (CertificateParsingException e) {
            return null;
        }
    }
}

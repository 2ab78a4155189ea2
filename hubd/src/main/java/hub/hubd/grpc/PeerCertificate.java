package hub.hubd.grpc;

import hub.hubd.tls.NodeCertificates;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Instant;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * The client certificate of an agent's connection, as TLS verified it (signed by the hub CA or a
 * {@code --tls-client-ca}, valid, for TLS clients).
 *
 * @param nodeId    the node it names, or {@code null} when it names none
 * @param notAfter  when it expires
 */
record PeerCertificate(String nodeId, Instant notAfter) {
    /** The connection's certificate, or {@code null} for a connection without one (or without TLS). */
    static PeerCertificate of(SSLSession session) {
        if (session == null) {
            return null;
        }
        try {
            Certificate[] chain = session.getPeerCertificates();
            if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
                return null;
            }
            return new PeerCertificate(NodeCertificates.nodeIdOf(leaf), leaf.getNotAfter().toInstant());
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }
}

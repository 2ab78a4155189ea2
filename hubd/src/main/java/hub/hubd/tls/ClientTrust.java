package hub.hubd.tls;

import hub.tls.HubTrust;
import hub.tls.OneWayTrust;
import hub.tls.Pem;
import java.net.Socket;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Which client certificates the agent listener accepts: those that chain to the hub CA (node
 * certificates it signed) or to a CA of {@code --tls-client-ca}, are within their validity, and
 * are meant for TLS clients. The JDK's PKIX trust manager does the checking; this class only lets
 * the set of CAs change (a reloaded {@code --tls-client-ca}) under established connections.
 *
 * <p>Passing this check does not make a node: {@code AgentStream} then requires that the
 * certificate name a node the registry still has (the registry is the revocation list).
 */
final class ClientTrust extends OneWayTrust {
    private final X509Certificate hubCa;
    private volatile X509ExtendedTrustManager delegate;
    private volatile X509Certificate[] accepted;

    ClientTrust(X509Certificate hubCa, List<X509Certificate> extraCas) {
        super(false);
        this.hubCa = hubCa;
        use(extraCas);
    }

    /** Replaces the extra CAs ({@code --tls-client-ca}); the hub CA always stays. */
    void use(List<X509Certificate> extraCas) {
        List<X509Certificate> all = new ArrayList<>();
        all.add(hubCa);
        all.addAll(extraCas);
        delegate = HubTrust.anchoredTo(all);
        accepted = all.toArray(X509Certificate[]::new);
    }

    /** The certificates of a {@code --tls-client-ca} file. */
    static List<X509Certificate> read(Path file) {
        return file == null ? List.of() : Pem.certificates(file);
    }

    @Override
    protected void check(X509Certificate[] chain, String authType, Socket socket, SSLEngine engine)
            throws CertificateException {
        delegate(delegate, chain, authType, socket, engine);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return accepted.clone();
    }
}

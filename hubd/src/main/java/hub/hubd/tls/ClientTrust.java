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
 * are meant for TLS clients. The JDK's PKIX trust manager does the checking; this class lets
 * the set of CAs change (a reloaded {@code --tls-client-ca}) under established connections, and
 * does not check the same chain twice while it is valid ({@link VerifiedChains}).
 *
 * <p>Passing this check does not make a node: {@code AgentStream} then requires that the
 * certificate name a node the registry still has (the registry is the revocation list).
 */
final class ClientTrust extends OneWayTrust {
    private final X509Certificate hubCa;
    private volatile X509ExtendedTrustManager delegate;
    private volatile X509Certificate[] accepted;
    /** Chains that passed against the current set of CAs (a new set starts a new cache). */
    private volatile VerifiedChains verified;
    private final java.time.Clock clock;

    /** Where what passed is kept across restarts ({@code <data-dir>/tls/verified-chains}), or null. */
    private final Path memory;

    ClientTrust(X509Certificate hubCa, List<X509Certificate> extraCas) {
        this(hubCa, extraCas, java.time.Clock.systemUTC(), null);
    }

    /**
     * @param memory where chains that passed are kept across restarts, or null for nowhere; a file
     *               there from the same CAs is read now
     */
    ClientTrust(X509Certificate hubCa, List<X509Certificate> extraCas, java.time.Clock clock, Path memory) {
        super(false);
        this.hubCa = hubCa;
        this.clock = clock;
        this.memory = memory;
        use(extraCas);
        if (memory != null) {
            try {
                verified = VerifiedChains.load(memory, digestOf(List.of(accepted)), clock.millis());
            } catch (java.io.IOException | RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(ClientTrust.class).warn(
                        "cannot read {} (node certificates are checked in full until it is written again): {}",
                        memory, e.toString());
            }
        }
    }

    /**
     * A node certificate the hub CA just signed: the node will present exactly these bytes alone,
     * and they chain to the hub CA, which every set of CAs here holds.
     */
    void issued(X509Certificate cert) {
        verified.passed(new X509Certificate[] {cert});
    }

    /** Keeps what passed in the memory file, if anything changed; a no-op without one. */
    void save() throws java.io.IOException {
        if (memory != null) {
            verified.save(memory, clock.millis()); // under the CAs that memory was checked against
        }
    }

    /** Replaces the extra CAs ({@code --tls-client-ca}); the hub CA always stays. */
    void use(List<X509Certificate> extraCas) {
        List<X509Certificate> all = new ArrayList<>();
        all.add(hubCa);
        all.addAll(extraCas);
        delegate = HubTrust.anchoredTo(all);
        accepted = all.toArray(X509Certificate[]::new);
        verified = new VerifiedChains(digestOf(all));
    }

    private static byte[] digestOf(List<X509Certificate> cas) {
        try {
            var md = java.security.MessageDigest.getInstance("SHA-256");
            for (X509Certificate c : cas) {
                md.update(c.getEncoded());
            }
            return md.digest();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot digest the client CAs", e);
        }
    }

    /** The certificates of a {@code --tls-client-ca} file. */
    static List<X509Certificate> read(Path file) {
        return file == null ? List.of() : Pem.certificates(file);
    }

    @Override
    protected void check(X509Certificate[] chain, String authType, Socket socket, SSLEngine engine)
            throws CertificateException {
        VerifiedChains v = verified;
        if (v.known(chain, clock.millis())) {
            return; // the same bytes passed against these CAs, and are still within their validity
        }
        delegate(delegate, chain, authType, socket, engine);
        v.passed(chain);
    }

    /** How many chains are remembered as passed (tests). */
    int remembered() {
        return verified.size();
    }

    /** Whether {@code chain} would pass on memory alone now (tests). */
    boolean rememberedValid(X509Certificate[] chain, String authType) {
        return verified.known(chain, clock.millis());
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return accepted.clone();
    }
}

package hub.tls;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trust managers for the side that connects to a hub (hub-agent, hubctl). Each verifies what the
 * JDK's PKIX trust manager verifies (signatures up to a trust anchor, validity, key usage for a TLS
 * server, and the host name when the caller asks for it, as gRPC, HttpsURLConnection and
 * HttpClient do), and differs only in what the anchor is:
 * <ul>
 *   <li>{@link #anchoredTo}: the certificates of a CA file (or a CA saved by {@code hubctl login});
 *   <li>{@link #pinned}: the certificate in the hub's own chain whose public key has the pin, as
 *       kubeadm's discovery does: nothing has to be copied to the node but the pin;
 *   <li>{@link #system}: the JDK's trust store (a hub with a publicly trusted certificate).
 * </ul>
 * Failures are {@link CertificateException}s whose message says what was presented and what was
 * expected; callers show that message as it is.
 */
public final class HubTrust {
    private HubTrust() {
    }

    /** Verifies servers against {@code cas} only. */
    public static X509ExtendedTrustManager anchoredTo(Collection<X509Certificate> cas) {
        if (cas.isEmpty()) {
            throw new IllegalArgumentException("no CA certificate to trust");
        }
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (X509Certificate c : cas) {
                ks.setCertificateEntry("ca-" + i++, c);
            }
            return fromFactory(ks);
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot build a trust store: " + e.getMessage(), e);
        }
    }

    /** Verifies servers against the JDK's default trust store. */
    public static X509ExtendedTrustManager system() {
        try {
            return fromFactory(null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot load the JDK's trust store: " + e.getMessage(), e);
        }
    }

    private static X509ExtendedTrustManager fromFactory(KeyStore ks) throws GeneralSecurityException {
        TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        f.init(ks);
        for (TrustManager tm : f.getTrustManagers()) {
            if (tm instanceof X509ExtendedTrustManager x) {
                return x;
            }
        }
        throw new IllegalStateException("the JDK has no X509ExtendedTrustManager");
    }

    /**
     * Verifies servers whose chain holds a certificate with public-key pin {@code pin}, and
     * validates up to that certificate.
     */
    public static X509ExtendedTrustManager pinned(String pin) {
        return new Pinned(Pins.parse(pin));
    }

    /**
     * Accepts any server: {@code --insecure-skip-verify}. {@code onAccept} is told the chain of each
     * connection (the agent warns at every connect).
     */
    public static X509ExtendedTrustManager insecure(java.util.function.Consumer<X509Certificate[]> onAccept) {
        return new OneWayTrust(true) {
            @Override
            protected void check(X509Certificate[] chain, String authType, Socket socket, SSLEngine engine) {
                onAccept.accept(chain);
            }
        };
    }

    /** A client {@link SSLContext} (TLS 1.2 or 1.3, as the JDK negotiates) with these managers. */
    public static SSLContext context(TrustManager trust, KeyManager keys) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(keys == null ? null : new KeyManager[] {keys}, new TrustManager[] {trust}, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot make a TLS context: " + e.getMessage(), e);
        }
    }

    /** A server {@link SSLContext} presenting what {@code keys} holds, asking clients for no certificate. */
    public static SSLContext serverContext(KeyManager keys) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(new KeyManager[] {keys}, null, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot make a TLS context: " + e.getMessage(), e);
        }
    }

    /** For a host name mismatch: the names the certificate has (hubd's --advertise sets them). */
    static String namesHint(X509Certificate leaf, CertificateException e) {
        String m = String.valueOf(e.getMessage());
        if (!m.contains("No name matching") && !m.contains("No subject alternative")) {
            return "";
        }
        StringJoiner names = new StringJoiner(", ");
        try {
            if (leaf.getSubjectAlternativeNames() != null) {
                for (List<?> san : leaf.getSubjectAlternativeNames()) {
                    names.add(String.valueOf(san.get(1)));
                }
            }
        } catch (java.security.cert.CertificateParsingException ignored) {
            // no names to list
        }
        return " (the certificate names " + names + "; connect by one of them, or add the name to hubd's --advertise)";
    }

    /** Each certificate of {@code chain} as {@code subject (pin)}, for messages. */
    public static String describe(X509Certificate[] chain) {
        StringJoiner j = new StringJoiner(", ");
        for (X509Certificate c : chain) {
            j.add(c.getSubjectX500Principal().getName() + " (" + Pins.of(c) + ")");
        }
        return j.toString();
    }

    /**
     * Records the chain a server presents and accepts it, so that {@code hubctl login} can show
     * the CA's pin before the user trusts it. Only for that first look: nothing is sent over a
     * connection it accepted.
     */
    public static final class Recorder extends OneWayTrust {
        private final AtomicReference<X509Certificate[]> chain = new AtomicReference<>();

        public Recorder() {
            super(true);
        }

        @Override
        protected void check(X509Certificate[] presented, String authType, Socket socket, SSLEngine engine) {
            chain.set(presented.clone());
        }

        /** The chain of the last handshake, leaf first; empty before one. */
        public List<X509Certificate> chain() {
            X509Certificate[] c = chain.get();
            return c == null ? List.of() : List.of(c);
        }
    }

    /** {@link #pinned}: the anchor is found in the presented chain by its pin. */
    private static final class Pinned extends OneWayTrust {
        private final String pin;
        /** The delegate for the last anchor seen: the same hub presents the same CA every time. */
        private final AtomicReference<Anchored> last = new AtomicReference<>();

        Pinned(String pin) {
            super(true);
            this.pin = pin;
        }

        private record Anchored(X509Certificate anchor, X509ExtendedTrustManager tm) {
        }

        @Override
        protected void check(X509Certificate[] chain, String authType, Socket socket, SSLEngine engine)
                throws CertificateException {
            if (chain == null || chain.length == 0) {
                throw new CertificateException("the hub presented no certificate");
            }
            X509Certificate anchor = null;
            for (X509Certificate c : chain) {
                if (Pins.of(c).equals(pin)) {
                    anchor = c;
                    break;
                }
            }
            if (anchor == null) {
                throw new CertificateException("the hub's certificate chain has no certificate with the pinned "
                        + "key " + pin + " (it presents: " + describe(chain) + "); is this the right hub, "
                        + "and the pin from its 'hubd ca show'?");
            }
            Anchored a = last.get();
            if (a == null || !a.anchor().equals(anchor)) {
                a = new Anchored(anchor, anchoredTo(List.of(anchor)));
                last.set(a);
            }
            // The pinned certificate is the root the rest of the chain must validate to.
            List<X509Certificate> upTo = new ArrayList<>();
            for (X509Certificate c : chain) {
                upTo.add(c);
                if (c == anchor) {
                    break;
                }
            }
            X509Certificate[] path = upTo.toArray(X509Certificate[]::new);
            try {
                delegate(a.tm(), path, authType, socket, engine);
            } catch (CertificateException e) {
                throw new CertificateException("the hub's certificate does not verify against its pinned CA "
                        + pin + ": " + e.getMessage() + namesHint(chain[0], e), e);
            }
        }
    }
}

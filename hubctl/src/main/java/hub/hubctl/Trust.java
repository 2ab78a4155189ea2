package hub.hubctl;

import hub.tls.HubTrust;
import hub.tls.OneWayTrust;
import hub.tls.Pem;
import hub.tls.Pins;
import java.net.Socket;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Which hubs hubctl believes, as ssh believes hosts: a context remembers the CA its hub presented
 * when the user trusted it at {@code login}; {@code --ca-file}/{@code HUB_CA} name CAs for one run;
 * otherwise the JDK's trust store (a hub with a publicly trusted certificate). A hub that presents
 * another CA than its context remembers is refused with a message saying so, never re-trusted
 * silently.
 */
final class Trust {
    private Trust() {
    }

    /** The TLS context for a target, or null for the JDK's default (system trust store). */
    static SSLContext context(HubctlCommand.Target t) {
        if (t.caFile() != null) {
            List<X509Certificate> cas;
            try {
                cas = Pem.certificates(t.caFile());
            } catch (RuntimeException e) {
                throw HubctlException.usage("--ca-file/HUB_CA: " + e.getMessage());
            }
            return HubTrust.context(HubTrust.anchoredTo(cas), null);
        }
        if (t.ca() != null) {
            return HubTrust.context(new Remembered(t.hub().toString(), t.context(), t.ca()), null);
        }
        return null;
    }

    /** The CA a context saved, as a certificate. */
    static X509Certificate parse(String pem, String context) {
        try {
            return Pem.certificates(pem).get(0);
        } catch (IllegalArgumentException e) {
            throw HubctlException.usage("context '" + context + "' has a CA that does not parse; run 'hubctl login' "
                    + "again: " + e.getMessage());
        }
    }

    /** A file named by {@code --ca-file} or {@code HUB_CA}. */
    static Path file(String name) {
        return name == null || name.isBlank() ? null : Path.of(name);
    }

    /** Verifies against a context's CA; a different CA gets its own message. */
    private static final class Remembered extends OneWayTrust {
        private final String hub;
        private final String context;
        private final X509Certificate ca;
        private final X509ExtendedTrustManager delegate;

        Remembered(String hub, String context, X509Certificate ca) {
            super(true);
            this.hub = hub;
            this.context = context;
            this.ca = ca;
            this.delegate = HubTrust.anchoredTo(List.of(ca));
        }

        @Override
        protected void check(X509Certificate[] chain, String authType, Socket socket, SSLEngine engine)
                throws CertificateException {
            try {
                delegate(delegate, chain, authType, socket, engine);
            } catch (CertificateException e) {
                throw explain(chain, e);
            }
        }

        private CertificateException explain(X509Certificate[] chain, CertificateException e) {
            X509Certificate top = chain == null || chain.length == 0 ? null : chain[chain.length - 1];
            boolean sameCa = false;
            if (chain != null) {
                for (X509Certificate c : chain) {
                    sameCa |= Pins.of(c).equals(Pins.of(ca)) || c.getIssuerX500Principal().equals(ca.getSubjectX500Principal());
                }
            }
            if (!sameCa && top != null) {
                return new CertificateException("the hub at " + hub + " presents a certificate from a different CA ("
                        + Pins.of(top) + ") than context '" + context + "' trusts (" + Pins.of(ca) + "); refusing. If "
                        + "its CA was replaced on purpose, check the new pin with its admin ('hubd ca show') and run "
                        + "'hubctl login --hub " + hub + " --ca-pin NEW_PIN'", e);
            }
            return new CertificateException("the hub's certificate does not verify against the CA context '" + context
                    + "' trusts: " + e.getMessage(), e);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[] {ca};
        }
    }
}

package hub.hubd;

import hub.agent.HubLink;
import hub.tls.HubTrust;
import hub.tls.KeySlot;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * How tests reach a real hub over TLS as its clients would: agents pin its CA, HTTP clients trust
 * the CA file in its data dir. Public: hubctl's tests use it too (hubd's test jar).
 */
public final class TestTls {
    private TestTls() {
    }

    /** The hub's CA file ({@code <data-dir>/tls/ca.crt}). */
    public static Path caFile(HubDaemon d) {
        return d.config().tlsDir().resolve("ca.crt");
    }

    /** The API's base URL, without a trailing slash: https unless the hub runs in plain text. */
    public static String url(HubDaemon d) {
        return (d.tls() == null ? "http" : "https") + "://127.0.0.1:" + d.httpPort();
    }

    /** A client TLS context that trusts what the hub is verified by (its CA, or the top of a provided chain). */
    public static SSLContext https(HubDaemon d) {
        // One per hub and anchor: tests open thousands of connections, and a context reuses sessions.
        return CONTEXTS.computeIfAbsent(d.tls().trustAnchor(),
                anchor -> HubTrust.context(HubTrust.anchoredTo(List.of(anchor)), null));
    }

    private static final java.util.Map<java.security.cert.X509Certificate, SSLContext> CONTEXTS =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** The agents' link to the hub: pinned to its CA (or plain text for a plain-text hub). */
    public static HubLink link(HubDaemon d) {
        List<String> address = List.of("127.0.0.1:" + d.grpcPort());
        return d.tls() == null ? HubLink.plaintext(address, null, null)
                : HubLink.tls(address, HubTrust.pinned(d.tls().caPin()), null, null);
    }

    /** A raw channel to the agent port that presents what {@code keys} holds (nothing when empty). */
    public static ManagedChannel channel(HubDaemon d, KeySlot keys) {
        NettyChannelBuilder b = NettyChannelBuilder.forAddress("127.0.0.1", d.grpcPort());
        if (d.tls() == null) {
            return b.usePlaintext().build();
        }
        try {
            return b.sslContext(GrpcSslContexts.forClient().trustManager(HubTrust.pinned(d.tls().caPin()))
                    .keyManager(keys).build()).build();
        } catch (javax.net.ssl.SSLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A new EC P-256 key pair. */
    public static KeyPair keys() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A certificate for {@code keys.getPublic()} signed by {@code signer} (or self-signed when it
     * is {@code null}), with an optional node URI SAN, valid between the given times.
     */
    public static java.security.cert.X509Certificate certificate(KeyPair keys, String cn, String nodeId,
            java.time.Instant notBefore, java.time.Instant notAfter, KeyPair signer,
            java.security.cert.X509Certificate issuer) {
        return certificate(keys, cn, nodeId == null ? null : new org.bouncycastle.asn1.x509.GeneralName(
                org.bouncycastle.asn1.x509.GeneralName.uniformResourceIdentifier, "urn:mesh-hub:node:" + nodeId),
                notBefore, notAfter, signer, issuer);
    }

    /** A server certificate for {@code ip}, signed by {@code signer}/{@code issuer}. */
    public static java.security.cert.X509Certificate serverCertificate(KeyPair keys, String ip,
            java.time.Instant notBefore, java.time.Instant notAfter, KeyPair signer,
            java.security.cert.X509Certificate issuer) {
        return certificate(keys, ip, new org.bouncycastle.asn1.x509.GeneralName(
                org.bouncycastle.asn1.x509.GeneralName.iPAddress, ip), notBefore, notAfter, signer, issuer);
    }

    private static java.security.cert.X509Certificate certificate(KeyPair keys, String cn,
            org.bouncycastle.asn1.x509.GeneralName san, java.time.Instant notBefore, java.time.Instant notAfter,
            KeyPair signer, java.security.cert.X509Certificate issuer) {
        try {
            X500Name subject = new X500Name("CN=" + cn);
            X500Name issuerName = issuer == null ? subject
                    : X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
            var b = new org.bouncycastle.cert.X509v3CertificateBuilder(issuerName,
                    java.math.BigInteger.valueOf(System.nanoTime()), java.util.Date.from(notBefore),
                    java.util.Date.from(notAfter), subject,
                    org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()));
            b.addExtension(org.bouncycastle.asn1.x509.Extension.extendedKeyUsage, false,
                    new org.bouncycastle.asn1.x509.ExtendedKeyUsage(new org.bouncycastle.asn1.x509.KeyPurposeId[] {
                        org.bouncycastle.asn1.x509.KeyPurposeId.id_kp_clientAuth,
                        org.bouncycastle.asn1.x509.KeyPurposeId.id_kp_serverAuth}));
            if (san != null) {
                b.addExtension(org.bouncycastle.asn1.x509.Extension.subjectAlternativeName, false,
                        new org.bouncycastle.asn1.x509.GeneralNames(san));
            }
            if (issuer == null) {
                b.addExtension(org.bouncycastle.asn1.x509.Extension.basicConstraints, true,
                        new org.bouncycastle.asn1.x509.BasicConstraints(true));
            }
            KeyPair by = signer == null ? keys : signer;
            return new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(by.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A DER CSR for {@code keys}. */
    public static byte[] csr(KeyPair keys) {
        try {
            return new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=test"), keys.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())).getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}

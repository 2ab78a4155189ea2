package hub.hubd.tls;

import hub.tls.Pem;
import hub.tls.Pins;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The hub CA: an ECDSA P-256 key and a self-signed certificate valid 10 years, made on first
 * start as {@code ca.crt} and {@code ca.key} (mode 0600) in the TLS directory. It signs the
 * hub's serving certificate and node client certificates; it is never served as a leaf.
 *
 * <p>Certificates it signs start 5 minutes in the past, so that a node or client whose clock is
 * a little behind still accepts them.
 */
public final class CertificateAuthority {
    /** Prefix of the URI SAN that names a node in its client certificate. */
    public static final String NODE_URI_PREFIX = "urn:mesh-hub:node:";
    static final Duration CA_LIFETIME = Duration.ofDays(3650);
    static final Duration BACKDATE = Duration.ofMinutes(5);

    private static final SecureRandom RANDOM = new SecureRandom();
    /**
     * BouncyCastle's provider for the signatures the hub makes and checks by the thousand (node
     * certificates, CSRs): its P-256 code signs about 2× and verifies about 5× as fast as the JDK's
     * on this machine's JDK 17. Used by name here only, never installed JVM-wide.
     */
    static final java.security.Provider BC = new org.bouncycastle.jce.provider.BouncyCastleProvider();

    private final X509Certificate certificate;
    private final PrivateKey key;
    private final Clock clock;

    private CertificateAuthority(X509Certificate certificate, PrivateKey key, Clock clock) {
        this.certificate = certificate;
        this.key = key;
        this.clock = clock;
    }

    /** The CA's files in {@code dir}. */
    static Path certFile(Path dir) {
        return dir.resolve("ca.crt");
    }

    static Path keyFile(Path dir) {
        return dir.resolve("ca.key");
    }

    /**
     * Loads the CA from {@code dir}, or makes one there when there is none.
     *
     * @return the CA, and whether it was made now
     */
    static CertificateAuthority loadOrCreate(Path dir, Clock clock) {
        Path crt = certFile(dir);
        Path keyPath = keyFile(dir);
        if (Files.exists(crt) || Files.exists(keyPath)) {
            return load(dir, clock);
        }
        KeyPair kp = newKeyPair();
        Instant now = clock.instant();
        X500Name name = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, "Mesh Hub")
                .addRDN(BCStyle.CN, "Mesh Hub CA " + Long.toHexString(RANDOM.nextLong() & 0xffffffffL))
                .build();
        try {
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(),
                    Date.from(now.minus(BACKDATE)), Date.from(now.plus(CA_LIFETIME)), name, kp.getPublic());
            JcaX509ExtensionUtils u = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
            b.addExtension(Extension.subjectKeyIdentifier, false, u.createSubjectKeyIdentifier(kp.getPublic()));
            X509Certificate cert = sign(b, kp.getPrivate());
            // The key first: a certificate without its key would be a CA nobody could use.
            Pem.writeAtomically(keyPath, Pem.privateKey(kp.getPrivate()), true);
            Pem.writeAtomically(crt, Pem.certificate(cert), false);
            return new CertificateAuthority(cert, kp.getPrivate(), clock);
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot make the hub CA: " + e.getMessage(), e);
        }
    }

    /** Loads the CA from {@code dir}; both files must be there and belong together. */
    static CertificateAuthority load(Path dir, Clock clock) {
        Path crt = certFile(dir);
        Path keyPath = keyFile(dir);
        if (!Files.exists(crt) || !Files.exists(keyPath)) {
            throw new IllegalStateException("the hub CA in " + dir + " is incomplete: need both ca.crt and ca.key");
        }
        try {
            X509Certificate cert = Pem.certificates(crt).get(0);
            PrivateKey key = PemKeys.read(Files.readString(keyPath, StandardCharsets.US_ASCII), keyPath);
            if (!PemKeys.matches(key, cert.getPublicKey())) {
                throw new IllegalStateException(keyPath + " is not the key of " + crt);
            }
            return new CertificateAuthority(cert, key, clock);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the hub CA in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The CA certificate. */
    public X509Certificate certificate() {
        return certificate;
    }

    /** The CA's pin, {@code sha256:<hex of its SPKI>}. */
    public String pin() {
        return Pins.of(certificate);
    }

    /**
     * A serving certificate for {@code key}, naming {@code names} (DNS names and IP addresses) and
     * valid for {@code lifetime} from now.
     */
    X509Certificate issueServing(PublicKey key, List<String> names, Duration lifetime) {
        Instant now = clock.instant();
        List<GeneralName> sans = new ArrayList<>();
        for (String n : names) {
            sans.add(isIpAddress(n) ? new GeneralName(GeneralName.iPAddress, stripBrackets(n))
                    : new GeneralName(GeneralName.dNSName, n));
        }
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Mesh Hub")
                .addRDN(BCStyle.CN, names.isEmpty() ? "hubd" : names.get(0)).build();
        return issue(subject, key, now.minus(BACKDATE), now.plus(lifetime),
                new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth}, sans);
    }

    /** A client certificate naming node {@code nodeId}, valid from {@code notBefore} to {@code notAfter}. */
    X509Certificate issueNode(String nodeId, PublicKey key, Instant notBefore, Instant notAfter) {
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Mesh Hub node")
                .addRDN(BCStyle.CN, nodeId).build();
        return issue(subject, key, notBefore, notAfter, new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth},
                List.of(new GeneralName(GeneralName.uniformResourceIdentifier, NODE_URI_PREFIX + nodeId)));
    }

    /** Now, by the CA's clock. */
    Instant now() {
        return clock.instant();
    }

    private X509Certificate issue(X500Name subject, PublicKey key, Instant notBefore, Instant notAfter,
            KeyPurposeId[] purposes, List<GeneralName> sans) {
        try {
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(certificate, serial(),
                    Date.from(notBefore), Date.from(notAfter), subject, key);
            JcaX509ExtensionUtils u = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature
                    | (key.getAlgorithm().equals("RSA") ? KeyUsage.keyEncipherment : 0)));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
            b.addExtension(Extension.subjectKeyIdentifier, false, u.createSubjectKeyIdentifier(key));
            b.addExtension(Extension.authorityKeyIdentifier, false, u.createAuthorityKeyIdentifier(certificate));
            if (!sans.isEmpty()) {
                b.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(sans.toArray(GeneralName[]::new)));
            }
            return sign(b, this.key);
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot sign a certificate: " + e.getMessage(), e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer)
            throws GeneralSecurityException {
        try {
            String alg = signer.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            ContentSigner s = new JcaContentSignerBuilder(alg).setProvider(BC).build(signer);
            return new JcaX509CertificateConverter().getCertificate(b.build(s));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    /** A new ECDSA P-256 key pair. */
    static KeyPair newKeyPair() {
        return hub.tls.Keys.newKeyPair();
    }

    /** A random positive 127-bit serial, as RFC 5280 asks (at most 20 octets, unpredictable). */
    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    /** Whether {@code name} is an IPv4 or IPv6 literal (IPv6 possibly in brackets). */
    static boolean isIpAddress(String name) {
        String n = stripBrackets(name);
        if (n.contains(":")) {
            return n.matches("[0-9A-Fa-f:.]+");
        }
        return n.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    }

    private static String stripBrackets(String n) {
        return n.startsWith("[") && n.endsWith("]") ? n.substring(1, n.length() - 1) : n;
    }

    /** Whether {@code cert} certifies {@code name} (as a DNS name or IP SAN, exactly). */
    static boolean names(X509Certificate cert, String name) {
        try {
            var sans = cert.getSubjectAlternativeNames();
            if (sans == null) {
                return false;
            }
            boolean ip = isIpAddress(name);
            String want = ip ? InetAddress.getByName(stripBrackets(name)).getHostAddress() : name;
            for (List<?> san : sans) {
                int type = (Integer) san.get(0);
                String value = String.valueOf(san.get(1));
                if (ip && type == 7 && InetAddress.getByName(value).getHostAddress().equals(want)
                        || !ip && type == 2 && value.equalsIgnoreCase(want)) {
                    return true;
                }
            }
            return false;
        } catch (java.security.cert.CertificateParsingException | java.net.UnknownHostException e) {
            return false;
        }
    }
}

package hub.hubd.tls;

import hub.tls.KeySlot;
import hub.tls.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The certificate both of hubd's listeners present, in a {@link KeySlot} that every new handshake
 * reads, so a renewed or reloaded certificate takes effect without closing a connection.
 * <ul>
 *   <li><b>generated</b> (the default): {@code hub.crt} (leaf and CA) and {@code hub.key} in the
 *       TLS directory, signed by the hub CA for the advertised names, valid a year and renewed
 *       when a third of that is left, or at start when the advertised names changed. The key is
 *       kept across renewals, so a pin of it (curl's {@code --pinnedpubkey}) stays true.
 *   <li><b>provided</b> ({@code --tls-cert}, {@code --tls-key}): the operator's files, read again
 *       when they change on disk (certbot renewals). A file that does not parse, or a key that does
 *       not match, is logged and the current certificate stays.
 * </ul>
 * {@link #refresh()} is called by one maintenance thread only.
 */
final class ServingIdentity {
    private static final Logger log = LoggerFactory.getLogger(ServingIdentity.class);
    static final Duration LIFETIME = Duration.ofDays(365);

    private final KeySlot slot = new KeySlot();
    private final CertificateAuthority ca;
    private final Path certFile;
    private final Path keyFile;
    private final boolean provided;
    private final List<String> names;
    private volatile List<X509Certificate> chain;
    private String fileState;
    private String lastReloadError;

    private ServingIdentity(CertificateAuthority ca, Path certFile, Path keyFile, boolean provided,
            List<String> names) {
        this.ca = ca;
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.provided = provided;
        this.names = List.copyOf(names);
    }

    /** The generated identity in {@code dir}, made or renewed now if needed. */
    static ServingIdentity generated(CertificateAuthority ca, Path dir, List<String> names) {
        ServingIdentity s = new ServingIdentity(ca, dir.resolve("hub.crt"), dir.resolve("hub.key"), false, names);
        s.renewIfDue(true);
        return s;
    }

    /**
     * The operator's certificate chain and key.
     *
     * @throws IllegalArgumentException when they cannot be used (start fails with that message)
     */
    static ServingIdentity provided(Path certFile, Path keyFile) {
        ServingIdentity s = new ServingIdentity(null, certFile, keyFile, true, List.of());
        s.fileState = s.fileState();
        s.install(s.readProvided());
        return s;
    }

    KeySlot keys() {
        return slot;
    }

    boolean isProvided() {
        return provided;
    }

    /** The chain presented, leaf first. */
    List<X509Certificate> chain() {
        return chain;
    }

    /**
     * The certificate clients anchor their trust in: the hub CA for a generated identity, the last
     * certificate of the operator's chain for a provided one.
     */
    X509Certificate trustAnchor() {
        List<X509Certificate> c = chain;
        return provided ? c.get(c.size() - 1) : ca.certificate();
    }

    /** Renews or reloads when due; returns whether the certificate changed. */
    boolean refresh() {
        return provided ? reloadIfChanged() : renewIfDue(false);
    }

    private boolean renewIfDue(boolean atStart) {
        try {
            KeyPair keys = null;
            X509Certificate leaf = null;
            if (Files.exists(keyFile)) {
                PrivateKey key = PemKeys.read(Files.readString(keyFile, StandardCharsets.US_ASCII), keyFile);
                if (Files.exists(certFile)) {
                    leaf = Pem.certificates(certFile).get(0);
                    keys = PemKeys.matches(key, leaf.getPublicKey()) ? new KeyPair(leaf.getPublicKey(), key) : null;
                }
            }
            String why = null;
            if (keys == null) {
                why = "none yet";
            } else if (!leaf.getIssuerX500Principal().equals(ca.certificate().getSubjectX500Principal())) {
                why = "signed by another CA";
            } else if (dueForRenewal(leaf, ca.now())) {
                why = "expires " + leaf.getNotAfter().toInstant();
            } else if (atStart && !certifiesAll(leaf)) {
                why = "the advertised names changed";
            }
            if (why == null) {
                if (chain == null) {
                    install(List.of(leaf, ca.certificate()), keys.getPrivate());
                }
                return false;
            }
            if (keys == null) {
                keys = CertificateAuthority.newKeyPair();
                Pem.writeAtomically(keyFile, Pem.privateKey(keys.getPrivate()), true);
            }
            X509Certificate issued = ca.issueServing(keys.getPublic(), names, LIFETIME);
            Pem.writeAtomically(certFile, Pem.certificate(issued) + Pem.certificate(ca.certificate()), false);
            install(List.of(issued, ca.certificate()), keys.getPrivate());
            log.info("serving certificate issued ({}): valid until {}, for {}", why,
                    issued.getNotAfter().toInstant(), String.join(", ", names));
            return true;
        } catch (IOException | RuntimeException e) {
            if (atStart) {
                throw new IllegalStateException("cannot make the serving certificate in "
                        + certFile.getParent() + ": " + e.getMessage(), e);
            }
            log.warn("renewing the serving certificate failed; the current one stays: {}", e.getMessage());
            return false;
        }
    }

    private boolean certifiesAll(X509Certificate leaf) {
        return names.stream().allMatch(n -> CertificateAuthority.names(leaf, n));
    }

    /** Due when less than a third of its lifetime is left. */
    static boolean dueForRenewal(X509Certificate cert, Instant now) {
        Instant from = cert.getNotBefore().toInstant();
        Instant to = cert.getNotAfter().toInstant();
        Duration third = Duration.between(from, to).dividedBy(3);
        return !now.isBefore(to.minus(third));
    }

    private record Material(List<X509Certificate> chain, PrivateKey key) {
    }

    private Material readProvided() {
        List<X509Certificate> certs = Pem.certificates(certFile);
        PrivateKey key;
        try {
            key = PemKeys.read(Files.readString(keyFile, StandardCharsets.US_ASCII), keyFile);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read --tls-key " + keyFile + ": " + e.getMessage(), e);
        }
        if (!PemKeys.matches(key, certs.get(0).getPublicKey())) {
            throw new IllegalArgumentException("--tls-key " + keyFile + " is not the key of the first certificate in "
                    + "--tls-cert " + certFile);
        }
        return new Material(certs, key);
    }

    private void install(Material m) {
        install(m.chain(), m.key());
    }

    private void install(List<X509Certificate> c, PrivateKey key) {
        slot.set(key, c);
        chain = List.copyOf(c);
    }

    private boolean reloadIfChanged() {
        String now = fileState();
        if (Objects.equals(now, fileState)) {
            return false;
        }
        try {
            Material m = readProvided();
            install(m);
            fileState = now;
            lastReloadError = null;
            log.info("serving certificate reloaded from {}: {} valid until {}", certFile,
                    m.chain().get(0).getSubjectX500Principal().getName(), m.chain().get(0).getNotAfter().toInstant());
            return true;
        } catch (RuntimeException e) {
            // Probably caught between writes of the two files: try again next time; say it once.
            if (!Objects.equals(e.getMessage(), lastReloadError)) {
                log.warn("cannot reload the serving certificate, keeping the current one: {}", e.getMessage());
                lastReloadError = e.getMessage();
            }
            return false;
        }
    }

    /** What identifies the files' current contents: modification time, size and file key of both. */
    private String fileState() {
        List<String> parts = new ArrayList<>();
        for (Path p : List.of(certFile, keyFile)) {
            try {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                parts.add(a.lastModifiedTime().toMillis() + "/" + a.size() + "/" + a.fileKey());
            } catch (IOException e) {
                parts.add("missing");
            }
        }
        return String.join(";", parts);
    }
}

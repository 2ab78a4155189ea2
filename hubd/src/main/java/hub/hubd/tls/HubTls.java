package hub.hubd.tls;

import hub.hubd.core.Threads;
import hub.tls.KeySlot;
import hub.tls.Pins;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub's TLS material, built once by the composition root and shared by both listeners: the
 * CA, the serving identity, the client-certificate trust and the node certificate issuer. One
 * daemon thread ({@code tls-maintenance}) renews the generated serving certificate when due and
 * reloads operator-provided files when they change; listeners read the new certificate at their
 * next handshake, so nothing is restarted and no stream is dropped.
 */
public final class HubTls implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HubTls.class);

    /**
     * What TLS is made of.
     *
     * @param dir           where the CA and the generated serving certificate live ({@code <data-dir>/tls})
     * @param advertise     names and addresses the serving certificate certifies
     * @param certFile      operator's serving chain ({@code --tls-cert}), or null to generate one
     * @param keyFile       its key ({@code --tls-key})
     * @param clientCaFile  extra CAs for client certificates ({@code --tls-client-ca}), or null
     * @param nodeCertTtl   lifetime of node certificates
     * @param checkInterval how often files are checked for changes and the certificate for renewal
     */
    public record Settings(Path dir, List<String> advertise, Path certFile, Path keyFile, Path clientCaFile,
            Duration nodeCertTtl, Duration checkInterval) {
        public Settings {
            Objects.requireNonNull(dir, "dir");
            advertise = List.copyOf(advertise);
            if ((certFile == null) != (keyFile == null)) {
                throw new IllegalArgumentException("--tls-cert and --tls-key go together");
            }
        }
    }

    private final Settings settings;
    private final CertificateAuthority ca;
    private final ServingIdentity serving;
    private final ClientTrust clientTrust;
    private final NodeCertificates nodes;
    private final ScheduledExecutorService maintenance;
    private String clientCaState;

    private HubTls(Settings settings, Clock clock) {
        this.settings = settings;
        createDir(settings.dir());
        this.ca = CertificateAuthority.loadOrCreate(settings.dir(), clock);
        this.serving = settings.certFile() != null
                ? ServingIdentity.provided(settings.certFile(), settings.keyFile())
                : ServingIdentity.generated(ca, settings.dir(), settings.advertise());
        this.clientTrust = new ClientTrust(ca.certificate(), ClientTrust.read(settings.clientCaFile()), clock,
                settings.dir().resolve(VERIFIED_CHAINS));
        this.clientCaState = state(settings.clientCaFile());
        this.nodes = new NodeCertificates(ca, settings.nodeCertTtl(), clientTrust::issued);
        this.maintenance = Executors.newSingleThreadScheduledExecutor(Threads.daemons("tls-maintenance", false));
    }

    /** The file in the TLS dir where the client chains that passed are remembered across restarts. */
    static final String VERIFIED_CHAINS = "verified-chains";
    /** How often that file is written (when something changed); and at a clean stop. */
    static final Duration SAVE_EVERY = Duration.ofSeconds(30);

    /** Loads or makes the CA and serving certificate, and starts watching them. */
    public static HubTls start(Settings settings, Clock clock) {
        HubTls t = new HubTls(settings, clock);
        long every = settings.checkInterval().toMillis();
        t.maintenance.scheduleWithFixedDelay(t::maintain, every, every, TimeUnit.MILLISECONDS);
        t.maintenance.scheduleWithFixedDelay(t::saveVerified, SAVE_EVERY.toMillis(), SAVE_EVERY.toMillis(),
                TimeUnit.MILLISECONDS);
        log.info("TLS on: {} serving certificate valid until {}; CA pin {}", t.mode(),
                t.serving.chain().get(0).getNotAfter().toInstant(), t.caPin());
        return t;
    }

    private void maintain() {
        try {
            serving.refresh();
            String s = state(settings.clientCaFile());
            if (!Objects.equals(s, clientCaState)) {
                clientCaState = s;
                clientTrust.use(ClientTrust.read(settings.clientCaFile()));
                log.info("client CAs reloaded from {}", settings.clientCaFile());
            }
        } catch (RuntimeException e) {
            log.warn("TLS maintenance: {}", e.getMessage());
        }
    }

    /** The key manager both listeners serve from. */
    public KeySlot serverKeys() {
        return serving.keys();
    }

    /** The trust manager for client certificates (agents). */
    public X509ExtendedTrustManager clientTrust() {
        return clientTrust;
    }

    /** Signs node certificates. */
    public NodeCertificates nodeCertificates() {
        return nodes;
    }

    /** {@code generated} or {@code provided}. */
    public String mode() {
        return serving.isProvided() ? "provided" : "generated";
    }

    /** The certificate agents and hubctl anchor their trust in (see {@link ServingIdentity#trustAnchor}). */
    public X509Certificate trustAnchor() {
        return serving.trustAnchor();
    }

    /** The pin of {@link #trustAnchor()}: what {@code hub-agent --ca-pin} takes. */
    public String caPin() {
        return Pins.of(trustAnchor());
    }

    /** The hub CA, which signs node certificates. */
    public X509Certificate caCertificate() {
        return ca.certificate();
    }

    /** The serving certificate now presented (the leaf). */
    public X509Certificate servingCertificate() {
        return serving.chain().get(0);
    }

    /** When the serving certificate expires. */
    public Instant servingExpiresAt() {
        return servingCertificate().getNotAfter().toInstant();
    }

    /** Checks for renewals and changed files now (tests; the thread does it every interval). */
    public void maintainNow() {
        try {
            maintenance.submit(this::maintain).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("TLS maintenance did not finish", e);
        }
    }

    private void saveVerified() {
        try {
            clientTrust.save();
        } catch (java.io.IOException | RuntimeException e) {
            log.warn("cannot keep the verified node certificates in {}: {}", settings.dir(), e.toString());
        }
    }

    /** Stops maintenance, keeping what was verified for the next start. */
    @Override
    public void close() {
        maintenance.shutdownNow();
        saveVerified();
    }

    private static String state(Path file) {
        if (file == null) {
            return null;
        }
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return a.lastModifiedTime().toMillis() + "/" + a.size() + "/" + a.fileKey();
        } catch (IOException e) {
            return "missing";
        }
    }

    private static void createDir(Path dir) {
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads the CA of a data dir without starting anything ({@code hubd ca show}).
     *
     * @throws IllegalStateException when there is none yet
     */
    public static X509Certificate readCa(Path tlsDir) {
        if (!Files.exists(CertificateAuthority.certFile(tlsDir))) {
            throw new IllegalStateException("no hub CA in " + tlsDir + " yet: hubd makes it on first start");
        }
        return hub.tls.Pem.certificates(CertificateAuthority.certFile(tlsDir)).get(0);
    }
}

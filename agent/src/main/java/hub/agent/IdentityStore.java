package hub.agent;

import hub.tls.Pem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/** Where an agent keeps its node certificate and key. */
public interface IdentityStore {

    /** The stored identity, if the node has one. */
    Optional<NodeIdentity> load();

    /** Stores an identity durably before the agent relies on it. */
    void save(NodeIdentity identity);

    /** Forgets the identity (the hub no longer knows the node). */
    void clear();

    /**
     * {@code node.pem} in the state dir: the certificate and the PKCS#8 key in one file, mode 0600,
     * replaced atomically, so a crash leaves the old pair or the new one, never a mix.
     */
    static IdentityStore file(Path stateDir) {
        Path file = stateDir.resolve("node.pem");
        return new IdentityStore() {
            @Override
            public Optional<NodeIdentity> load() {
                if (!Files.isRegularFile(file)) {
                    return Optional.empty();
                }
                try {
                    String pem = Files.readString(file, StandardCharsets.US_ASCII);
                    return Optional.of(new NodeIdentity(Pem.certificates(pem).get(0), Pem.privateKey(pem)));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(file + " is not a node certificate and key: " + e.getMessage()
                            + " (remove it to join again with a join token)", e);
                }
            }

            @Override
            public void save(NodeIdentity identity) {
                try {
                    Files.createDirectories(stateDir);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot create " + stateDir + ": " + e.getMessage(), e);
                }
                Pem.writeAtomically(file, Pem.certificate(identity.certificate()) + Pem.privateKey(identity.key()), true);
            }

            @Override
            public void clear() {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot delete " + file + ": " + e.getMessage(), e);
                }
            }
        };
    }

    /** In memory only, for simulated agents and tests. */
    static IdentityStore memory() {
        AtomicReference<NodeIdentity> ref = new AtomicReference<>();
        return new IdentityStore() {
            @Override
            public Optional<NodeIdentity> load() {
                return Optional.ofNullable(ref.get());
            }

            @Override
            public void save(NodeIdentity identity) {
                ref.set(identity);
            }

            @Override
            public void clear() {
                ref.set(null);
            }
        };
    }
}

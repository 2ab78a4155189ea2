package hub.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/** Where an agent keeps the node credential the hub issued at join. */
public interface CredentialStore {

    /** The stored credential, if the node has joined before. */
    Optional<String> load();

    /** Stores a credential durably before the agent relies on it. */
    void save(String credential);

    /** Forgets the credential (the hub no longer knows it). */
    void clear();

    /** A file in the state dir, written atomically with mode 0600. */
    static CredentialStore file(Path stateDir) {
        Path file = stateDir.resolve("credential");
        return new CredentialStore() {
            @Override
            public Optional<String> load() {
                try {
                    return Files.isRegularFile(file)
                            ? Optional.of(Files.readString(file).strip()).filter(s -> !s.isEmpty())
                            : Optional.empty();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + file, e);
                }
            }

            @Override
            public void save(String credential) {
                try {
                    Files.createDirectories(stateDir);
                    Path tmp = stateDir.resolve("credential.tmp");
                    Files.deleteIfExists(tmp);
                    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rw-------")));
                    Files.writeString(tmp, credential + "\n");
                    try (var ch = java.nio.channels.FileChannel.open(tmp,
                            java.nio.file.StandardOpenOption.WRITE)) {
                        ch.force(true);
                    }
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write " + file, e);
                }
            }

            @Override
            public void clear() {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot delete " + file, e);
                }
            }
        };
    }

    /** In memory only, for simulated agents and tests. */
    static CredentialStore memory() {
        AtomicReference<String> ref = new AtomicReference<>();
        return new CredentialStore() {
            @Override
            public Optional<String> load() {
                return Optional.ofNullable(ref.get());
            }

            @Override
            public void save(String credential) {
                ref.set(credential);
            }

            @Override
            public void clear() {
                ref.set(null);
            }
        };
    }
}

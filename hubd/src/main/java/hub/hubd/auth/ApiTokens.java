package hub.hubd.auth;

import hub.hubd.core.HubException;
import hub.hubd.core.Ids;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates API bearer tokens and creates the bootstrap admin on first start.
 * Tokens are {@code hat_} + 256 random bits; only their SHA-256 is stored.
 */
public final class ApiTokens {
    /** Prefix of every API token, so a leaked one is recognisable in logs and scanners. */
    public static final String PREFIX = "hat_";
    private static final Logger log = LoggerFactory.getLogger(ApiTokens.class);

    private final UserRepository users;
    private final Clock clock;
    private final Grants grants;

    public ApiTokens(UserRepository users, Clock clock) {
        this(users, clock, new Grants());
    }

    /** @param grants every user's grants, attached to the principal of each request */
    public ApiTokens(UserRepository users, Clock clock, Grants grants) {
        this.users = users;
        this.clock = clock;
        this.grants = grants;
    }

    /**
     * On an empty database, creates the user {@code admin} with an API token and writes the token to
     * {@code tokenFile} with mode 0600. Logs the path, never the token. Does nothing otherwise.
     *
     * @return whether a bootstrap admin was created
     */
    public boolean bootstrapAdmin(Path tokenFile) {
        if (users.countUsers() > 0) {
            return false;
        }
        String token = Ids.newSecret(PREFIX);
        writeSecretFile(tokenFile, token + "\n");
        try {
            users.createUserWithToken(Ids.newId(), "admin", Role.ADMIN, Ids.newId(), Ids.hash(token),
                    clock.millis());
        } catch (RuntimeException e) {
            // Hubs of a cluster starting together on an empty database: one of them made the admin.
            if (users.countUsers() == 0) {
                throw e;
            }
            try {
                java.nio.file.Files.deleteIfExists(tokenFile);
            } catch (java.io.IOException ignored) {
                // the token in it was never stored: it opens nothing
            }
            log.info("another hub of the cluster created the admin user; its token is in that hub's data dir");
            return false;
        }
        log.info("created the admin user; its API token is in {}", tokenFile.toAbsolutePath());
        return true;
    }

    /**
     * The principal for an {@code Authorization} header value.
     *
     * @throws HubException UNAUTHENTICATED when it is missing, malformed, unknown or revoked
     */
    public Principal authenticate(String authorizationHeader) {
        if (authorizationHeader == null || authorizationHeader.isBlank()) {
            throw HubException.unauthenticated("missing bearer token (Authorization: Bearer <token>)");
        }
        String h = authorizationHeader.trim();
        if (!h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw HubException.unauthenticated("Authorization must be 'Bearer <token>'");
        }
        String token = h.substring(7).trim();
        Optional<Principal> p = token.startsWith(PREFIX)
                ? users.findByTokenHash(Ids.hash(token))
                : Optional.empty();
        Principal found = p.orElseThrow(() -> HubException.unauthenticated("unknown or revoked API token"));
        return found.withGrants(grants.of(found.userId()));
    }

    private static void writeSecretFile(Path file, String content) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, content);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}

package hub.hubd.auth;

import java.util.Optional;

/** Users and their API tokens, as stored. Implementations may block on the database. */
public interface UserRepository {

    /** Number of users; 0 on a fresh database. */
    long countUsers();

    /** Creates a user with one API token stored as {@code tokenHash}. */
    void createUserWithToken(String userId, String name, Role role, String tokenId, String tokenHash,
            long nowMillis);

    /** The principal holding the unrevoked token with this hash, if any. */
    Optional<Principal> findByTokenHash(String tokenHash);

    /** A user as stored, with how many unrevoked API tokens it has. */
    record User(String id, String name, Role role, java.time.Instant createdAt, int activeTokens) {
    }

    /** Every user, by name. */
    default java.util.List<User> list() {
        throw new UnsupportedOperationException("listing users");
    }

    /** A user by name. */
    default Optional<User> findByName(String name) {
        throw new UnsupportedOperationException("finding users");
    }

    /** Deletes a user and its API tokens; the ids of the tokens it had (unrevoked). */
    default java.util.List<String> delete(String userId) {
        throw new UnsupportedOperationException("deleting users");
    }

    /** Revokes every unrevoked token of the user and adds a new one; the ids revoked. */
    default java.util.List<String> replaceTokens(String userId, String tokenId, String tokenHash, long nowMillis) {
        throw new UnsupportedOperationException("replacing tokens");
    }
}

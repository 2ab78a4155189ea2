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

    /** What removing a user did: the API tokens it had (unrevoked) and the nodes given to another user. */
    record Removal(java.util.List<String> revokedTokens, java.util.List<String> reassignedNodes) {
    }

    /**
     * In one transaction: deletes a user, its API tokens and grants, revokes its join tokens, and
     * gives the nodes it owns to the user with id {@code reassignTo}.
     *
     * @throws hub.hubd.core.HubException CONFLICT, and nothing changes, when it owns nodes and
     *         {@code reassignTo} is null
     */
    default Removal delete(String userId, String reassignTo) {
        throw new UnsupportedOperationException("deleting users");
    }

    /** A user by id. */
    default Optional<User> findById(String id) {
        throw new UnsupportedOperationException("finding users");
    }

    /** Every grant of every user. */
    default java.util.List<Grant> grants() {
        return java.util.List.of();
    }

    /**
     * Stores a grant; a grant of the same user and selector gets the new role instead.
     *
     * @return the grant as stored
     */
    default Grant putGrant(Grant g) {
        throw new UnsupportedOperationException("granting");
    }

    /** Deletes a grant of the user; false when it had none with that id. */
    default boolean deleteGrant(String userId, String grantId) {
        throw new UnsupportedOperationException("revoking grants");
    }

    /** Revokes every unrevoked token of the user and adds a new one; the ids revoked. */
    default java.util.List<String> replaceTokens(String userId, String tokenId, String tokenHash, long nowMillis) {
        throw new UnsupportedOperationException("replacing tokens");
    }
}

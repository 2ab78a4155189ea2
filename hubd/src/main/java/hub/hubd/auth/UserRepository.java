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
}

package hub.hubd.auth;

import java.util.List;
import java.util.Optional;

/** Join tokens as stored. Implementations may block on the database. */
public interface JoinTokenRepository {

    /** Stores a new token under the hash of its secret. */
    void insert(JoinToken token, String tokenHash);

    /** All tokens, or those of {@code owner} when it is not null, newest first. */
    List<JoinToken> list(String owner);

    /** The token with this id. */
    Optional<JoinToken> find(String id);

    /** The token whose secret hashes to {@code tokenHash}. */
    default Optional<JoinToken> findByHash(String tokenHash) {
        throw new UnsupportedOperationException("finding join tokens by hash");
    }

    /** Marks the token revoked at {@code nowMillis}; false when there is no such token. */
    boolean revoke(String id, long nowMillis);
}

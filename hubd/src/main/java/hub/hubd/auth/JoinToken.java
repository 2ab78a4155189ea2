package hub.hubd.auth;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A join token as stored and listed (never with its secret).
 *
 * @param id        public id, for listing and revoking
 * @param owner     user who created it; nodes that join with it are owned by this user
 * @param labels    labels every node joining with it receives
 * @param usesLeft  joins still allowed
 * @param expiresAt after this instant it no longer works
 * @param createdAt when it was created
 * @param revokedAt when it was revoked, or {@code null}
 */
public record JoinToken(String id, String owner, Map<String, String> labels, int usesLeft,
        Instant expiresAt, Instant createdAt, Instant revokedAt) {

    public JoinToken {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(owner, "owner");
        labels = Map.copyOf(labels);
        Objects.requireNonNull(expiresAt, "expiresAt");
        Objects.requireNonNull(createdAt, "createdAt");
    }

    /** {@code active}, {@code expired}, {@code revoked} or {@code used}, as of {@code now}. */
    public String state(Instant now) {
        if (revokedAt != null) {
            return "revoked";
        }
        if (!expiresAt.isAfter(now)) {
            return "expired";
        }
        return usesLeft <= 0 ? "used" : "active";
    }
}

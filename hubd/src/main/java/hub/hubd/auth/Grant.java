package hub.hubd.auth;

import hub.hubd.core.Selector;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A role a user holds on every node whose labels match {@code selector}, beyond the nodes it owns
 * (as Teleport's role labels do). Roles add up: a node matched by a viewer and an operator grant
 * is operated.
 *
 * @param role viewer or operator (admins see everything already)
 */
public record Grant(String id, String userId, Selector selector, Role role, Instant createdAt) {
    public Grant {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(userId, "userId");
        Objects.requireNonNull(selector, "selector");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(createdAt, "createdAt");
        if (role == Role.ADMIN) {
            throw new IllegalArgumentException("a grant is viewer or operator");
        }
    }

    /** Whether the grant covers a node with these labels. */
    public boolean covers(Map<String, String> labels) {
        return selector.matches(labels);
    }
}

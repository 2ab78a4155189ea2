package hub.hubd.auth;

import hub.hubd.core.HubException;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The authenticated caller of an API request. Everything it may touch is decided by ids: it owns
 * the nodes whose owner is {@code userId}, and {@code grants} give it roles on nodes by label.
 *
 * @param userId  the user's immutable id; what ownership is recorded as
 * @param user    user name, for messages and display only (names can be reused, ids cannot)
 * @param role    what the user may do on the hub and on the nodes it owns
 * @param tokenId the API token used, for audit logs
 * @param grants  the user's grants when it authenticated
 */
public record Principal(String userId, String user, Role role, String tokenId, List<Grant> grants) {
    public Principal {
        Objects.requireNonNull(userId, "userId");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(role, "role");
        grants = grants == null ? List.of() : List.copyOf(grants);
    }

    public Principal(String userId, String user, Role role, String tokenId) {
        this(userId, user, role, tokenId, List.of());
    }

    /** The same caller with {@code grants}. */
    public Principal withGrants(List<Grant> g) {
        return new Principal(userId, user, role, tokenId, g);
    }

    /** Whether this caller sees every node, not just its own and its granted ones. */
    public boolean seesAllNodes() {
        return role == Role.ADMIN;
    }

    /** Whether this caller has grants, so sees nodes beyond the ones it owns. */
    public boolean hasGrants() {
        return !grants.isEmpty();
    }

    /** Whether this caller owns what is owned by the user id {@code ownerId} (tokens, nodes). */
    public boolean owns(String ownerId) {
        return userId.equals(ownerId);
    }

    /** Whether this caller may see something owned by {@code ownerId} that has no labels (tokens). */
    public boolean maySee(String ownerId) {
        return seesAllNodes() || owns(ownerId);
    }

    /**
     * What this caller may do on a node owned by {@code ownerId} with {@code labels}: admin on all,
     * its own role on the nodes it owns, the highest matching grant's role elsewhere; {@code null}
     * when it may not even see the node.
     */
    public Role roleOn(String ownerId, Map<String, String> labels) {
        if (seesAllNodes()) {
            return Role.ADMIN;
        }
        Role best = owns(ownerId) ? role : null;
        for (Grant g : grants) {
            if ((best == null || g.role().compareTo(best) > 0) && g.covers(labels)) {
                best = g.role();
            }
        }
        return best;
    }

    /** @throws HubException FORBIDDEN unless this caller has at least {@code needed} */
    public void require(Role needed) {
        if (!role.atLeast(needed)) {
            throw HubException.forbidden("this needs the " + needed.wireName() + " role; "
                    + user + " is " + role.wireName());
        }
    }
}

package hub.hubd.auth;

import hub.hubd.core.HubException;
import java.util.Objects;

/**
 * The authenticated caller of an API request.
 *
 * @param user    user name; nodes joined with this user's join tokens are owned by it
 * @param role    what the user may do
 * @param tokenId the API token used, for audit logs
 */
public record Principal(String user, Role role, String tokenId) {
    public Principal {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(role, "role");
    }

    /** Whether this caller sees every node, not just its own. */
    public boolean seesAllNodes() {
        return role == Role.ADMIN;
    }

    /** Whether this caller may see a node owned by {@code owner}. */
    public boolean maySee(String owner) {
        return seesAllNodes() || user.equals(owner);
    }

    /** @throws HubException FORBIDDEN unless this caller has at least {@code needed} */
    public void require(Role needed) {
        if (!role.atLeast(needed)) {
            throw HubException.forbidden("this needs the " + needed.wireName() + " role; "
                    + user + " is " + role.wireName());
        }
    }
}

package hub.hubd.auth;

import hub.hubd.core.HubException;
import java.util.Locale;

/** What a user may do. Each role includes the ones below it. */
public enum Role {
    /** Reads the nodes they own. */
    VIEWER,
    /** Also creates and revokes join tokens, removes and (later) runs commands on their nodes. */
    OPERATOR,
    /** Everything, on every node: users, all tokens, all listeners. */
    ADMIN;

    /** Whether this role includes {@code other}. */
    public boolean atLeast(Role other) {
        return compareTo(other) >= 0;
    }

    /** The lower-case name used in JSON and on the command line. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code admin|operator|viewer}. */
    public static Role parse(String s) {
        for (Role r : values()) {
            if (r.wireName().equals(s)) {
                return r;
            }
        }
        throw HubException.invalid("role must be admin, operator or viewer, not '" + s + "'");
    }
}

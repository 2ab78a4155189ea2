package hub.hubd.registry;

import java.util.Locale;

/** Whether a node has a live stream to this hub. */
public enum NodeStatus {
    ONLINE, OFFLINE;

    /** {@code online} or {@code offline}, as in JSON and flags. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code online|offline}. */
    public static NodeStatus parse(String s) {
        for (NodeStatus v : values()) {
            if (v.wireName().equals(s)) {
                return v;
            }
        }
        throw hub.hubd.core.HubException.invalid("status must be online or offline, not '" + s + "'");
    }
}

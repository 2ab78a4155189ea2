package hub.hubd.registry;

import java.util.function.Predicate;

/**
 * Node names are unique on a hub. A node that joins with a name another node has gets the name
 * followed by {@code -} and the start of its own id ({@code web-1-3f9a}, longer if that is taken too),
 * and the Welcome tells it the name it got. A reconnect that asks for a taken name keeps its old one.
 */
public final class NodeNames {
    private static final int MAX = 255;

    private NodeNames() {
    }

    /** {@code wanted} if free, else the first free {@code wanted-<id prefix>}. */
    public static String unique(String wanted, String nodeId, Predicate<String> taken) {
        if (!taken.test(wanted)) {
            return wanted;
        }
        for (int k = 4; k <= nodeId.length(); k++) {
            String suffix = "-" + nodeId.substring(0, k);
            String base = wanted.length() + suffix.length() > MAX ? wanted.substring(0, MAX - suffix.length()) : wanted;
            if (!taken.test(base + suffix)) {
                return base + suffix;
            }
        }
        return nodeId; // every prefix taken: its id, which no other node's name may be
    }
}

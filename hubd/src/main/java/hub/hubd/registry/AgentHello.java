package hub.hubd.registry;

import java.util.Map;
import java.util.Objects;

/**
 * What an agent says about itself when it connects, independent of the wire format.
 *
 * @param hostname     node hostname
 * @param os           operating system
 * @param arch         CPU architecture
 * @param agentVersion hub-agent version
 * @param name         requested display name, or empty for the hostname
 * @param labels       labels the agent was started with (validated at join)
 */
public record AgentHello(String hostname, String os, String arch, String agentVersion, String name,
        Map<String, String> labels) {
    private static final int MAX_FIELD = 255;

    public AgentHello {
        hostname = clean("hostname", hostname);
        os = clean("os", os);
        arch = clean("arch", arch);
        agentVersion = clean("agent version", agentVersion);
        name = clean("name", name);
        labels = Map.copyOf(Objects.requireNonNullElse(labels, Map.of()));
        if (hostname.isEmpty()) {
            throw hub.hubd.core.HubException.invalid("hello without a hostname");
        }

    }

    /** The same hello asking for another name. */
    public AgentHello withName(String newName) {
        return new AgentHello(hostname, os, arch, agentVersion, newName, labels);
    }

    /** The display name a new node gets. */
    public String displayName() {
        return name.isEmpty() ? hostname : name;
    }

    private static String clean(String what, String s) {
        String v = s == null ? "" : s.strip();
        if (v.length() > MAX_FIELD || v.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw hub.hubd.core.HubException.invalid(what + " is too long or has control characters");
        }
        return v;
    }
}

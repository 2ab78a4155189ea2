package hub.agent;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** Parses {@code HOST:PORT[,HOST:PORT…]}. */
public final class HubAddresses {
    private static final Pattern ADDRESS = Pattern.compile("(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]+):(\\d{1,5})");

    private HubAddresses() {
    }

    /**
     * Parses the list.
     *
     * @throws IllegalArgumentException naming the first bad address
     */
    public static List<String> parse(String list) {
        if (list == null || list.isBlank()) {
            throw new IllegalArgumentException("no hub address: give --hub HOST:PORT (or HUB_AGENT_HUB)");
        }
        List<String> out = new ArrayList<>();
        for (String a : list.split(",")) {
            String s = a.strip();
            var m = ADDRESS.matcher(s);
            if (!m.matches() || Integer.parseInt(m.group(2)) < 1 || Integer.parseInt(m.group(2)) > 65535) {
                throw new IllegalArgumentException("invalid hub address '" + s + "': expected HOST:PORT");
            }
            out.add(s);
        }
        return out;
    }
}

package hub.hubctl;

/**
 * ANSI colors for status words, or none. Tables pad by the plain text and color after, so colored
 * and plain tables line up the same.
 */
final class Colors {
    static final Colors ON = new Colors(true);
    static final Colors OFF = new Colors(false);

    private static final String GREEN = "\033[32m";
    private static final String RED = "\033[31m";
    private static final String YELLOW = "\033[33m";
    private static final String DIM = "\033[2m";
    private static final String BOLD = "\033[1m";
    private static final String RESET = "\033[0m";

    private final boolean on;

    private Colors(boolean on) {
        this.on = on;
    }

    boolean on() {
        return on;
    }

    /** A node or task state, colored by what it means: good, bad, in progress, gone. */
    String status(String s) {
        if (!on || s == null) {
            return s;
        }
        return switch (s) {
            case "online", "exited", "active" -> GREEN + s + RESET;
            case "offline", "failed", "timed_out", "expired", "lagged" -> RED + s + RESET;
            case "queued", "sent", "running" -> YELLOW + s + RESET;
            case "removed", "cancelled", "revoked", "used" -> DIM + s + RESET;
            default -> s;
        };
    }

    /** A warning word (red). */
    String warning(String s) {
        return on ? RED + s + RESET : s;
    }

    /** Per-node prefix colors, as docker compose picks them: cyan, yellow, green, magenta, blue, then bright. */
    private static final String[] NODE = {"\033[36m", "\033[33m", "\033[32m", "\033[35m", "\033[34m",
        "\033[96m", "\033[93m", "\033[92m", "\033[95m", "\033[94m"};

    /** The {@code i}th node's name (prefix of its output lines), in a color of its own. */
    String node(String s, int i) {
        return on ? NODE[Math.floorMod(i, NODE.length)] + s + RESET : s;
    }

    /** Table headers. */
    String header(String s) {
        return on ? BOLD + s + RESET : s;
    }
}

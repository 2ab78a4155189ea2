package hub.hubd.core;

/**
 * Text from outside (an agent's reason, a label key) made safe for one log line: control
 * characters (ESC, CR, LF, NUL…) become {@code \\uXXXX}, so nobody can forge log lines or send
 * escape sequences to an operator's terminal, and it is cut at 300 characters.
 */
public final class LogText {
    static final int MAX = 300;
    /** {@link #MAX}, for tests outside this package. */
    public static final int MAX_FOR_TESTS = MAX;

    private LogText() {
    }

    public static String safe(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder(Math.min(s.length(), MAX) + 16);
        for (int i = 0; i < s.length() && b.length() < MAX; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        if (b.length() >= MAX && s.length() > MAX) {
            b.append("…");
        }
        return b.toString();
    }
}

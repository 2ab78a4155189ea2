package hub.hubctl;

import java.util.List;

/**
 * Label selectors as hubctl takes them: {@code -l} may be given more than once, and all of them must
 * hold, so the parts are joined with commas into one selector in kubectl's grammar ({@code k=v},
 * {@code k!=v}, {@code k in (a,b)}, {@code k notin (a,b)}, {@code k}, {@code !k}). The hub parses it
 * and answers 400 naming what is wrong.
 */
final class Selectors {
    /** The help text of every {@code -l} option. */
    static final String HELP = "k=v, k!=v, 'k in (a,b)', 'k notin (a,b)', k, !k; commas join requirements, "
            + "and -l may be repeated (all must hold), as kubectl's label selectors.";

    private Selectors() {
    }

    /** One selector from the {@code -l} values given, or {@code null} for none. */
    static String join(List<String> parts) {
        if (parts == null || parts.isEmpty()) {
            return null;
        }
        for (String p : parts) {
            if (p.isBlank()) {
                throw HubctlException.usage("empty label selector");
            }
        }
        return String.join(",", parts);
    }
}

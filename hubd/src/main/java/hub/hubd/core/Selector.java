package hub.hubd.core;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A label selector in kubectl's grammar: requirements joined by commas, all of which must hold.
 * {@code k=v} (or {@code k==v}), {@code k!=v} (also true when {@code k} is absent), {@code k in (a,b)},
 * {@code k notin (a,b)} (also true when absent), {@code k} (has the key), {@code !k} (has not).
 * Immutable; {@link #toString()} gives a canonical form (requirements as given, spaces normalised)
 * that two equal selectors share.
 */
public final class Selector {
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,62}");
    private static final Pattern VALUE = Pattern.compile("[A-Za-z0-9._:/@+-]{0,128}");
    /** Longer selectors are refused: they are stored with grants and matched on every event. */
    public static final int MAX_LENGTH = 1024;

    private enum Op { EQ, NE, IN, NOTIN, EXISTS, ABSENT }

    private record Requirement(String key, Op op, Set<String> values) {
        boolean matches(Map<String, String> labels) {
            String v = labels.get(key);
            return switch (op) {
                case EQ, IN -> v != null && values.contains(v);
                case NE, NOTIN -> v == null || !values.contains(v);
                case EXISTS -> v != null;
                case ABSENT -> v == null;
            };
        }

        @Override
        public String toString() {
            return switch (op) {
                case EQ -> key + "=" + values.iterator().next();
                case NE -> key + "!=" + values.iterator().next();
                case IN -> key + " in (" + String.join(",", values) + ")";
                case NOTIN -> key + " notin (" + String.join(",", values) + ")";
                case EXISTS -> key;
                case ABSENT -> "!" + key;
            };
        }
    }

    private final List<Requirement> requirements;

    private Selector(List<Requirement> requirements) {
        this.requirements = List.copyOf(requirements);
    }

    /** Whether every requirement holds for {@code labels}. */
    public boolean matches(Map<String, String> labels) {
        for (Requirement r : requirements) {
            if (!r.matches(labels)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Parses a selector.
     *
     * @throws HubException INVALID, naming what is wrong, for an empty or malformed selector
     */
    public static Selector parse(String text) {
        if (text == null || text.isBlank()) {
            throw HubException.invalid("empty label selector");
        }
        if (text.length() > MAX_LENGTH) {
            throw HubException.invalid("label selector longer than " + MAX_LENGTH + " characters");
        }
        List<Requirement> out = new ArrayList<>();
        for (String part : splitTopLevel(text)) {
            out.add(requirement(part.strip(), text));
        }
        return new Selector(out);
    }

    /** Splits at commas outside parentheses. */
    private static List<String> splitTopLevel(String text) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
                if (depth < 0) {
                    throw HubException.invalid("unbalanced ')' in label selector '" + LogText.safe(text) + "'");
                }
            } else if (c == ',' && depth == 0) {
                parts.add(text.substring(start, i));
                start = i + 1;
            }
        }
        if (depth != 0) {
            throw HubException.invalid("unbalanced '(' in label selector '" + LogText.safe(text) + "'");
        }
        parts.add(text.substring(start));
        return parts;
    }

    private static Requirement requirement(String p, String whole) {
        if (p.isEmpty()) {
            throw HubException.invalid("empty requirement in label selector '" + LogText.safe(whole) + "'");
        }
        if (p.startsWith("!") && !p.contains("=")) {
            return new Requirement(key(p.substring(1).strip(), whole), Op.ABSENT, Set.of());
        }
        int ne = p.indexOf("!=");
        if (ne > 0) {
            return new Requirement(key(p.substring(0, ne).strip(), whole), Op.NE,
                    Set.of(value(p.substring(ne + 2).strip(), whole)));
        }
        int eq = p.indexOf('=');
        if (eq > 0) {
            String v = p.substring(p.startsWith("==", eq) ? eq + 2 : eq + 1).strip();
            return new Requirement(key(p.substring(0, eq).strip(), whole), Op.EQ, Set.of(value(v, whole)));
        }
        int open = p.indexOf('(');
        if (open > 0 && p.endsWith(")")) {
            String[] head = p.substring(0, open).strip().split("\\s+");
            if (head.length == 2 && (head[1].equals("in") || head[1].equals("notin"))) {
                Set<String> values = new LinkedHashSet<>();
                for (String v : p.substring(open + 1, p.length() - 1).split(",", -1)) {
                    values.add(value(v.strip(), whole));
                }
                return new Requirement(key(head[0], whole), head[1].equals("in") ? Op.IN : Op.NOTIN, values);
            }
        }
        if (KEY.matcher(p).matches()) {
            return new Requirement(p, Op.EXISTS, Set.of());
        }
        throw HubException.invalid("cannot parse '" + LogText.safe(p) + "' in label selector: use k=v, k!=v, "
                + "k in (a,b), k notin (a,b), k or !k, joined by commas");
    }

    private static String key(String k, String whole) {
        if (!KEY.matcher(k).matches()) {
            throw HubException.invalid("bad label key '" + LogText.safe(k) + "' in selector '"
                    + LogText.safe(whole) + "': letters, digits and ._/- only, at most 63");
        }
        return k;
    }

    private static String value(String v, String whole) {
        if (!VALUE.matcher(v).matches()) {
            throw HubException.invalid("bad label value '" + LogText.safe(v) + "' in selector '"
                    + LogText.safe(whole) + "': letters, digits and ._:/@+- only, at most 128");
        }
        return v;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Requirement r : requirements) {
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(r);
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Selector s && s.toString().equals(toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }
}

package hub.hubd.core;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Node labels: {@code key=value} pairs, validated once so that they are safe to show, to store
 * and (later) to quote into provisioning scripts.
 */
public final class Labels {
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._/-]{0,62})");
    private static final Pattern VALUE = Pattern.compile("[A-Za-z0-9._:/@+-]{0,128}");
    private static final int MAX_LABELS = 64;

    private Labels() {
    }

    /**
     * Validates and copies {@code labels} into a sorted, unmodifiable map.
     *
     * @throws HubException INVALID naming the first bad key or value
     */
    public static Map<String, String> validated(Map<String, String> labels) {
        if (labels == null || labels.isEmpty()) {
            return Map.of();
        }
        if (labels.size() > MAX_LABELS) {
            throw HubException.invalid("at most " + MAX_LABELS + " labels");
        }
        TreeMap<String, String> out = new TreeMap<>();
        labels.forEach((k, v) -> {
            if (k == null || !KEY.matcher(k).matches()) {
                throw HubException.invalid("invalid label key '" + k
                        + "': letters, digits and ._/- only, starting with a letter or digit, at most 63");
            }
            if (v == null || !VALUE.matcher(v).matches()) {
                throw HubException.invalid("invalid value for label '" + k
                        + "': letters, digits and ._:/@+- only, at most 128");
            }
            out.put(k, v);
        });
        return Collections.unmodifiableMap(out);
    }
}

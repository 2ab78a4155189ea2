package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Small renderers for table cells. */
final class Format {
    private Format() {
    }

    /** {@code 12s ago}, {@code 5m ago}, {@code in 14m}; {@code -} for missing. */
    static String age(JsonNode instant, Instant now) {
        if (instant == null || instant.isNull() || instant.isMissingNode()) {
            return "-";
        }
        Instant t;
        try {
            t = Instant.parse(instant.asText());
        } catch (DateTimeParseException e) {
            return instant.asText();
        }
        Duration d = Duration.between(t, now);
        boolean future = d.isNegative();
        String s = human(d.abs());
        return future ? "in " + s : s + " ago";
    }

    static String human(Duration d) {
        long s = d.getSeconds();
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return s / 60 + "m";
        }
        if (s < 86_400) {
            return s / 3600 + "h" + (s % 3600 >= 60 ? (s % 3600) / 60 + "m" : "");
        }
        return s / 86_400 + "d";
    }

    /** {@code k=v,k2=v2}. */
    static String labels(JsonNode labels) {
        if (labels == null || !labels.isObject() || labels.isEmpty()) {
            return "-";
        }
        List<String> parts = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = labels.fields(); it.hasNext();) {
            var e = it.next();
            parts.add(e.getKey() + "=" + e.getValue().asText());
        }
        return String.join(",", parts);
    }

    /** A text field, or {@code -}. */
    static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? "-" : v.asText();
    }
}

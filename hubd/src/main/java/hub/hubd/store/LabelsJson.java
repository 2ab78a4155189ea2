package hub.hubd.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.core.StoreException;
import java.util.Map;
import java.util.TreeMap;

/** Labels are stored as a JSON object in a TEXT column, portable across SQLite and PostgreSQL. */
final class LabelsJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final TypeReference<TreeMap<String, String>> TYPE = new TypeReference<>() { };

    private LabelsJson() {
    }

    static String write(Map<String, String> labels) {
        try {
            return MAPPER.writeValueAsString(new TreeMap<>(labels));
        } catch (JsonProcessingException e) {
            throw new StoreException("cannot encode labels", e);
        }
    }

    static Map<String, String> read(String json) {
        try {
            return json == null || json.isEmpty() ? Map.of() : MAPPER.readValue(json, TYPE);
        } catch (JsonProcessingException e) {
            throw new StoreException("stored labels are not valid JSON: " + json, e);
        }
    }
}

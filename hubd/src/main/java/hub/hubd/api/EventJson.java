package hub.hubd.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import hub.hubd.events.Envelope;
import hub.hubd.events.EventCodec;

/**
 * Event JSON: {@code seq}, {@code at}, {@code type}, {@code node} (when the event is about one)
 * and the event's own fields; a gap notice is {@code {"type":"gap","from":…,"to":…}}; the end of the
 * replay is {@code {"type":"sync","lastSeq":…}}.
 */
public final class EventJson implements EventCodec {
    private final ObjectMapper mapper;

    /** With the API's JSON settings. */
    public EventJson() {
        this(ApiJson.mapper());
    }

    EventJson(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    @Override
    public String encode(Envelope e) {
        ObjectNode n = mapper.createObjectNode();
        n.put("seq", e.seq());
        n.put("at", e.at().toString());
        n.put("type", e.event().type());
        if (e.event().nodeId() != null) {
            n.put("node", e.event().nodeId());
        }
        ObjectNode fields = mapper.valueToTree(e.event());
        fields.remove("nodeId");
        fields.remove("type");
        n.setAll(fields);
        return write(n);
    }

    @Override
    public String gap(long from, long to) {
        ObjectNode n = mapper.createObjectNode();
        n.put("type", "gap");
        n.put("from", from);
        n.put("to", to);
        return write(n);
    }

    @Override
    public String restartGap(long from, long to) {
        ObjectNode n = mapper.createObjectNode();
        n.put("type", "gap");
        n.put("from", from);
        n.put("to", to);
        n.put("restart", true);
        return write(n);
    }

    @Override
    public String sync(long seq) {
        ObjectNode n = mapper.createObjectNode();
        n.put("type", "sync");
        n.put("lastSeq", seq);
        return write(n);
    }

    private String write(ObjectNode n) {
        try {
            return mapper.writeValueAsString(n);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("event JSON", ex);
        }
    }
}

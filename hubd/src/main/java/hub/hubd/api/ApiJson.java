package hub.hubd.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import hub.hubd.auth.JoinToken;
import hub.hubd.core.HubException;
import hub.hubd.registry.NodeView;
import io.javalin.http.Context;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The API's JSON shapes (field names are part of the contract in DESIGN.md) and its mapper. */
final class ApiJson {
    private ApiJson() {
    }

    @SuppressWarnings("deprecation") // ALLOW_COERCION_OF_SCALARS: still the one switch for all scalar coercion
    static ObjectMapper mapper() {
        ObjectMapper m = new ObjectMapper()
                .registerModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .configure(com.fasterxml.jackson.databind.MapperFeature.ALLOW_COERCION_OF_SCALARS, false);
        // Strict types: "5" is not a number, 5 is not a string, "true" is not a boolean.
        for (var shape : new com.fasterxml.jackson.databind.cfg.CoercionInputShape[] {
            com.fasterxml.jackson.databind.cfg.CoercionInputShape.Integer,
            com.fasterxml.jackson.databind.cfg.CoercionInputShape.Float,
            com.fasterxml.jackson.databind.cfg.CoercionInputShape.Boolean}) {
            m.coercionConfigFor(com.fasterxml.jackson.databind.type.LogicalType.Textual)
                    .setCoercion(shape, com.fasterxml.jackson.databind.cfg.CoercionAction.Fail);
        }
        return m;
    }

    /**
     * Reads the request body as {@code type}; malformed JSON, a body that is not an object, unknown
     * fields and values of the wrong type are a 400 whose detail names the field, never a Java type.
     */
    static <T> T body(Context ctx, ObjectMapper mapper, Class<T> type) {
        String body = ctx.body();
        if (body == null || body.isBlank()) {
            throw HubException.invalid("request body must be a JSON object");
        }
        T value;
        try {
            value = mapper.readValue(body, type);
        } catch (JsonMappingException e) {
            throw HubException.invalid(describe(e));
        } catch (IOException e) {
            throw HubException.invalid("request body is not valid JSON");
        }
        if (value == null) {
            throw HubException.invalid("request body must be a JSON object, not null");
        }
        return value;
    }

    /** What is wrong with a body, in the API's words: the field's path and what it must be. */
    static String describe(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                path.append(path.length() == 0 ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                path.append('[').append(r.getIndex()).append(']');
            }
        }
        if (e instanceof com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException u) {
            return "unknown field '" + u.getPropertyName() + "'";
        }
        String expected = "a value of another type";
        if (e instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException m && m.getTargetType() != null) {
            Class<?> t = m.getTargetType();
            if (t == Integer.class || t == int.class || t == Long.class || t == long.class) {
                expected = "a whole number";
            } else if (t == String.class) {
                expected = "a string";
            } else if (t == Boolean.class || t == boolean.class) {
                expected = "true or false";
            } else if (Map.class.isAssignableFrom(t) || t.isRecord()) {
                expected = "an object";
            } else if (List.class.isAssignableFrom(t) || t.isArray()) {
                expected = "an array";
            }
        }
        return path.length() == 0 ? "request body must be a JSON object"
                : "field '" + path + "' must be " + expected;
    }

    /** A list answer: {@code items}, and {@code next} when {@code ?limit=} cut it short. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Items<T>(List<T> items, String next) {
    }

    /** Node JSON. */
    record NodeJson(String id, String name, String hostname, String status, Instant lastSeen,
            Instant connectedAt, Map<String, String> labels, String os, String arch, String agentVersion,
            String owner, String ownerId, Instant createdAt, String offlineReason, Instant certificateExpiresAt,
            @JsonInclude(JsonInclude.Include.NON_NULL) String hub) {
        /** @param names user names by id, for {@code owner} */
        static NodeJson of(NodeView v, java.util.function.UnaryOperator<String> names) {
            var i = v.info();
            return new NodeJson(i.id(), i.name(), i.hostname(), v.status().wireName(), v.lastSeen(),
                    v.connectedAt(), i.labels(), i.os(), i.arch(), i.agentVersion(), names.apply(i.owner()), i.owner(),
                    i.createdAt(), v.offlineReason(), v.certificateExpiresAt(), v.hub());
        }
    }

    /** Join token JSON; {@code token} only in the answer to its creation. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record JoinTokenJson(String id, String token, Instant expiresAt, int usesLeft,
            Map<String, String> labels, String owner, String ownerId, Instant createdAt, Instant revokedAt,
            String state, String caPin, String agentAddress) {
        static JoinTokenJson of(JoinToken t, String secret, Instant now, java.util.function.UnaryOperator<String> names) {
            return new JoinTokenJson(t.id(), secret, t.expiresAt(), t.usesLeft(), t.labels(), names.apply(t.owner()),
                    t.owner(), t.createdAt(), t.revokedAt(), t.state(now), null, null);
        }

        /** The answer to a creation: the secret, and what an agent needs to join with it. */
        JoinTokenJson withJoinFacts(String pin, String address) {
            return new JoinTokenJson(id, token, expiresAt, usesLeft, labels, owner, ownerId, createdAt, revokedAt,
                    state, pin, address);
        }
    }

    /** Body of {@code POST /api/v1/join-tokens}; every field optional. */
    record CreateJoinToken(String ttl, Integer uses, Map<String, String> labels) {
    }

    /** {@code GET /api/v1/status}. */
    record StatusJson(String version, String hubId, Instant startedAt, int nodesTotal, int nodesOnline,
            String user, String role, int agentPort, HttpApi.TlsJson tls, List<String> advertise) {
    }
}

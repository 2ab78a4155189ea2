package hub.hubd.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.auth.JoinTokens;
import hub.hubd.config.Durations;
import hub.hubd.core.HubException;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.Map;

/** {@code /api/v1/join-tokens}: create (the secret is in this answer only), list, revoke. */
final class JoinTokenRoutes {
    private final JoinTokens tokens;
    private final ObjectMapper mapper;
    private final java.util.function.Supplier<String> caPin;
    private final java.util.function.Supplier<String> agentAddress;
    private final java.util.function.UnaryOperator<String> names;

    /**
     * @param caPin        the pin agents verify the hub with; null on a hub without TLS
     * @param agentAddress where agents connect ({@code HOST:PORT})
     * @param names        user names by id, for {@code owner}
     */
    JoinTokenRoutes(JoinTokens tokens, ObjectMapper mapper, java.util.function.Supplier<String> caPin,
            java.util.function.Supplier<String> agentAddress, java.util.function.UnaryOperator<String> names) {
        this.names = names;
        this.tokens = tokens;
        this.mapper = mapper;
        this.caPin = caPin;
        this.agentAddress = agentAddress;
    }

    void create(Context ctx) {
        String body = ctx.body();
        ApiJson.CreateJoinToken req = body == null || body.isBlank()
                ? new ApiJson.CreateJoinToken(null, null, null)
                : ApiJson.body(ctx, mapper, ApiJson.CreateJoinToken.class);
        Duration ttl;
        try {
            ttl = req.ttl() == null ? null : Durations.parse(req.ttl());
        } catch (IllegalArgumentException e) {
            throw HubException.invalid("ttl: " + e.getMessage());
        }
        var created = tokens.create(HttpApi.principal(ctx), ttl, req.uses() == null ? 1 : req.uses(),
                req.labels() == null ? Map.of() : req.labels());
        ctx.status(201).json(ApiJson.JoinTokenJson.of(created.token(), created.secret(), tokens.now(), names)
                .withJoinFacts(caPin == null ? null : caPin.get(), agentAddress.get()));
    }

    void list(Context ctx) {
        var now = tokens.now();
        var all = tokens.list(HttpApi.principal(ctx)).stream()
                .map(t -> ApiJson.JoinTokenJson.of(t, null, now, names)).toList();
        ctx.json(Paging.page(ctx, all));
    }

    void revoke(Context ctx) {
        var t = tokens.revoke(HttpApi.principal(ctx), ctx.pathParam("id"));
        ctx.json(ApiJson.JoinTokenJson.of(t, null, tokens.now(), names));
    }
}

package hub.hubd.api;

import hub.hubd.audit.AuditEntry;
import hub.hubd.audit.AuditLog;
import hub.hubd.audit.AuditRepository;
import hub.hubd.auth.Principal;
import hub.hubd.auth.Role;
import hub.hubd.config.Durations;
import hub.hubd.core.HubException;
import hub.hubd.core.WarnLimiter;
import hub.hubd.registry.NodeDirectory;
import io.javalin.http.Context;
import io.javalin.router.Endpoint;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The audit trail of the API: every request that changes state (any method but GET, plus the
 * provisioning script, which hands out a join token's installer) is recorded after it is answered,
 * with who, from where, on what, and the status, whether it succeeded or not; a failed
 * authentication is recorded once a minute per address (with a count). {@code GET /api/v1/audit}
 * reads it (admins).
 */
final class AuditRoutes {
    /** Set by a route: the node its request concerned, by id. */
    static final String NODE = "audit.node";
    /** Set by a route: what it did in a few words (a command, a selector and role). */
    static final String DETAIL = "audit.detail";
    private static final Pattern ID = Pattern.compile("[0-9a-z]{16}");

    /** Action names by method and route. */
    private static final Map<String, String> ACTIONS = Map.ofEntries(
            Map.entry("POST /api/v1/join-tokens", "token.create"),
            Map.entry("DELETE /api/v1/join-tokens/{id}", "token.revoke"),
            Map.entry("POST /api/v1/users", "user.create"),
            Map.entry("DELETE /api/v1/users/{name}", "user.remove"),
            Map.entry("POST /api/v1/users/{name}/token", "user.rotate-token"),
            Map.entry("POST /api/v1/users/{name}/grants", "grant.add"),
            Map.entry("DELETE /api/v1/users/{name}/grants", "grant.revoke"),
            Map.entry("DELETE /api/v1/nodes/{node}", "node.remove"),
            Map.entry("POST /api/v1/nodes/{node}/owner", "node.assign"),
            Map.entry("POST /api/v1/nodes/{node}/tasks", "task.create"),
            Map.entry("POST /api/v1/tasks/{id}/cancel", "task.cancel"),
            Map.entry("PUT /api/v1/nodes/{node}/files", "file.write"),
            Map.entry("GET /api/v1/nodes/{node}/files", "file.read"),
            Map.entry("GET /api/v1/nodes/{node}/files/tree", "file.list"),
            Map.entry("POST /api/v1/nodes/{node}/directories", "file.mkdir"),
            Map.entry("POST /api/v1/runs", "run.create"),
            Map.entry("POST /api/v1/runs/{id}/cancel", "run.cancel"),
            Map.entry("DELETE /api/v1/listeners/{id}", "listener.kill"),
            Map.entry("GET " + ProvisioningRoutes.PREFIX + "script", "provisioning.script"));

    private final AuditLog audit;
    private final NodeDirectory nodes;
    private final WarnLimiter authFailures = new WarnLimiter(Duration.ofMinutes(1), System::nanoTime);

    AuditRoutes(AuditLog audit, NodeDirectory nodes) {
        this.audit = audit;
        this.nodes = nodes;
    }

    /** The after-handler on {@code /api/*}. */
    private java.util.function.Function<Context, String> ips = Context::ip;

    /** Where the client's address comes from (a request another hub forwarded names its client). */
    void clientIps(java.util.function.Function<Context, String> f) {
        this.ips = f;
    }

    void after(Context ctx) {
        if (ctx.attribute(ClusterForwarder.FORWARDED) != null) {
            return; // the hub it went to audits it
        }
        int status = ctx.statusCode();
        Principal by = ctx.attribute(HttpApi.PRINCIPAL);
        Endpoint e = ctx.endpoints().lastHttpEndpoint();
        String method = ctx.method().name();
        String action = e == null ? null : ACTIONS.get(method + " " + e.path);
        if (e != null && e.path.equals("/api/v1/tasks/{id}/stdin") && (status == 204 || status == 503
                || status == 409)) {
            return; // a stream of chunks: the task's creation is audited "with stdin", refusals are
        }
        if (action == null && status == 401) {
            String ip = ips.apply(ctx);
            long held = authFailures.allow(ip);
            if (held >= 0) {
                audit.record(new AuditLog.Actor(null, null, null, ip), "auth.failed", method + " " + ctx.path(),
                        null, held > 0 ? held + " more from this address in the last minute" : null, status);
            }
            return;
        }
        if (action == null) {
            if (method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS")) {
                return; // reads are not audited
            }
            action = "http." + method.toLowerCase(java.util.Locale.ROOT); // unknown route or method: still recorded
        }
        String target = e == null ? ctx.path() : target(ctx);
        String ip = ips.apply(ctx);
        AuditLog.Actor who = by == null ? new AuditLog.Actor(null, null, null, ip)
                : new AuditLog.Actor(by.userId(), by.user(), by.tokenId(), ip);
        audit.record(who, action, target, ctx.attribute(NODE), ctx.attribute(DETAIL), status);
    }

    /** The node, id or name the route's path names. */
    private static String target(Context ctx) {
        Map<String, String> p = ctx.pathParamMap();
        for (String k : List.of("node", "id", "name")) {
            if (p.containsKey(k)) {
                return p.get(k);
            }
        }
        return null;
    }

    /**
     * {@code GET /api/v1/audit?since=D|RFC3339&user=NAME&node=NODE&after=SEQ&limit=N} (admins):
     * the latest {@code limit} entries (default 100, at most 1000), or those after {@code after},
     * oldest first; {@code next} is the last seq, to poll with {@code after=}.
     */
    void list(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        by.require(Role.ADMIN);
        Long after = number(ctx, "after");
        Long limit = number(ctx, "limit");
        if (limit != null && (limit < 1 || limit > 1000)) {
            throw HubException.invalid("limit must be between 1 and 1000");
        }
        String node = ctx.queryParam("node");
        String nodeId = null;
        if (node != null) {
            // a removed node's id still names its entries
            nodeId = ID.matcher(node).matches() ? node : nodes.resolve(by, node).info().id();
        }
        List<AuditEntry> items = audit.find(new AuditRepository.Query(after, since(ctx.queryParam("since")),
                ctx.queryParam("user"), nodeId, limit == null ? 100 : limit.intValue()));
        long next = items.isEmpty() ? (after == null ? 0 : after) : items.get(items.size() - 1).seq();
        ctx.json(Map.of("items", items, "next", next));
    }

    private static Long number(Context ctx, String name) {
        String v = ctx.queryParam(name);
        if (v == null) {
            return null;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw HubException.invalid(name + " must be a number, not '" + hub.hubd.core.LogText.safe(v) + "'");
        }
    }

    /** {@code 24h}-style durations back from now, or an RFC 3339 instant. */
    private Long since(String v) {
        if (v == null) {
            return null;
        }
        try {
            return Instant.parse(v).toEpochMilli();
        } catch (DateTimeParseException notAnInstant) {
            try {
                return System.currentTimeMillis() - Durations.parse(v).toMillis();
            } catch (IllegalArgumentException e) {
                throw HubException.invalid("since must be a duration (24h, 7d) or an RFC 3339 time, not '"
                        + hub.hubd.core.LogText.safe(v) + "'");
            }
        }
    }
}

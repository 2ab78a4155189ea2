package hub.hubd.api;

import hub.hubd.cluster.Cluster;
import hub.hubd.cluster.RelayClient;
import hub.hubd.core.HubException;
import hub.hubd.tasks.TaskService;
import io.javalin.http.Context;
import java.util.function.Supplier;

/**
 * The routes other hubs of a cluster call ({@code /internal/v1/…}): only with the cluster's relay
 * secret, never with an API token, and absent (404) outside a cluster. A hub that made a task for a
 * node this hub holds asks it here to send the stored task, or its stored cancel; a hub asked
 * about a run this hub follows passes it on here.
 */
final class InternalRoutes {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();
    private final TaskService tasks;
    private final hub.hubd.runs.RunService runs;
    private final Supplier<Cluster> cluster;

    InternalRoutes(TaskService tasks, hub.hubd.runs.RunService runs, Supplier<Cluster> cluster) {
        this.tasks = tasks;
        this.runs = runs;
        this.cluster = cluster;
    }

    /** Before every internal route: a hub of this cluster, or nothing. */
    void authenticate(Context ctx) {
        Cluster c = cluster.get();
        if (c == null) {
            throw HubException.notFound("not found");
        }
        if (!c.isRelay(ctx.header(RelayClient.RELAY_HEADER))) {
            throw HubException.unauthenticated("internal routes are for the hubs of this cluster");
        }
    }

    /** {@code POST /internal/v1/tasks/{id}/send} {@code {"stdin":bool}}: 204 sent, 409 not held here. */
    void send(Context ctx) {
        String id = ctx.pathParam("id");
        boolean stdin;
        try {
            stdin = JSON.readTree(ctx.body()).path("stdin").asBoolean(false);
        } catch (java.io.IOException e) {
            throw HubException.invalid("the body must be {\"stdin\": true|false}");
        }
        if (!tasks.sendStored(id, stdin)) {
            throw HubException.conflict("task " + id + " is not open, or its node's stream is not on this hub");
        }
        ctx.status(204);
    }

    /** {@code POST /internal/v1/tasks/{id}/cancel}: sends the stored cancel; 204, or 409 not held here. */
    void cancel(Context ctx) {
        String id = ctx.pathParam("id");
        if (!tasks.cancelStored(id)) {
            throw HubException.conflict("task " + id + " has no cancel to send from this hub");
        }
        ctx.status(204);
    }

    /**
     * {@code POST /internal/v1/runs/{id}/{op}} {@code {"by": USER_ID|null, …}}: what a client asked
     * another hub of a run this hub follows (cancel, a copy run's node starting or ending). 204, or
     * the run's refusal; 404 when this hub does not follow the run.
     */
    void run(Context ctx) {
        com.fasterxml.jackson.databind.JsonNode body;
        try {
            body = JSON.readTree(ctx.body());
        } catch (java.io.IOException e) {
            throw HubException.invalid("the body must be a JSON object");
        }
        if (body == null || !body.isObject()) {
            throw HubException.invalid("the body must be a JSON object");
        }
        String by = body.hasNonNull("by") ? body.get("by").asText() : null;
        runs.asked(ctx.pathParam("id"), ctx.pathParam("op"), by, body);
        ctx.status(204);
    }
}

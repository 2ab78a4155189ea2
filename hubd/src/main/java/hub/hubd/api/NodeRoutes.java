package hub.hubd.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.auth.Principal;
import hub.hubd.auth.Users;
import hub.hubd.core.HubException;
import hub.hubd.registry.NodeDirectory;
import io.javalin.http.Context;

/** {@code /api/v1/nodes}: list, show, remove, assign. */
final class NodeRoutes {
    private final NodeDirectory nodes;
    private final Users users;
    private final ObjectMapper mapper;

    NodeRoutes(NodeDirectory nodes, Users users, ObjectMapper mapper) {
        this.nodes = nodes;
        this.users = users;
        this.mapper = mapper;
    }

    /** Body of {@code POST /api/v1/nodes/{node}/owner}. */
    record Assign(String owner) {
    }

    void list(Context ctx) {
        var all = nodes.list(HttpApi.principal(ctx), HttpApi.filter(ctx)).stream()
                .map(v -> ApiJson.NodeJson.of(v, users::nameOf)).toList();
        ctx.json(Paging.page(ctx, all));
    }

    void show(Context ctx) {
        ctx.json(ApiJson.NodeJson.of(nodes.resolve(HttpApi.principal(ctx), ctx.pathParam("node")), users::nameOf));
    }

    void remove(Context ctx) {
        var v = nodes.remove(HttpApi.principal(ctx), ctx.pathParam("node"));
        ctx.attribute(AuditRoutes.NODE, v.info().id());
        ctx.status(204);
    }

    /** {@code POST /api/v1/nodes/{node}/owner {"owner":"USER"}} (admins): the node, now owned by USER. */
    void assign(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        by.require(hub.hubd.auth.Role.ADMIN);
        Assign req = ApiJson.body(ctx, mapper, Assign.class);
        if (req.owner() == null || req.owner().isBlank()) {
            throw HubException.invalid("give owner: the name of the user to own the node");
        }
        ctx.attribute(AuditRoutes.DETAIL, "owner " + req.owner());
        String ownerId = users.idOf(by, req.owner());
        var v = nodes.assign(by, ctx.pathParam("node"), ownerId);
        ctx.attribute(AuditRoutes.NODE, v.info().id());
        ctx.json(ApiJson.NodeJson.of(v, users::nameOf));
    }
}

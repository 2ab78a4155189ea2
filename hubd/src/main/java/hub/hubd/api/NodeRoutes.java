package hub.hubd.api;

import hub.hubd.registry.NodeDirectory;
import io.javalin.http.Context;

/** {@code /api/v1/nodes}: list, show, remove. */
final class NodeRoutes {
    private final NodeDirectory nodes;

    NodeRoutes(NodeDirectory nodes) {
        this.nodes = nodes;
    }

    void list(Context ctx) {
        var all = nodes.list(HttpApi.principal(ctx), HttpApi.filter(ctx)).stream()
                .map(ApiJson.NodeJson::of).toList();
        ctx.json(Paging.page(ctx, all));
    }

    void show(Context ctx) {
        ctx.json(ApiJson.NodeJson.of(nodes.resolve(HttpApi.principal(ctx), ctx.pathParam("node"))));
    }

    void remove(Context ctx) {
        nodes.remove(HttpApi.principal(ctx), ctx.pathParam("node"));
        ctx.status(204);
    }
}

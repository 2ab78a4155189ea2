package hub.hubd.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.auth.Principal;
import hub.hubd.auth.Role;
import hub.hubd.core.HubException;
import hub.hubd.core.Ids;
import hub.hubd.core.Threads;
import hub.hubd.events.CloseCodes;
import hub.hubd.events.Event;
import hub.hubd.events.EventBus;
import hub.hubd.events.Listener;
import hub.hubd.history.HistoryPage;
import hub.hubd.history.HistoryStore;
import hub.hubd.registry.NodeDirectory;
import hub.hubd.registry.NodeView;
import io.javalin.http.Context;
import io.javalin.websocket.WsConfig;
import io.javalin.websocket.WsContext;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Live streams over WebSocket and the listener table: {@code /api/v1/events} (events, resumable
 * with {@code ?after=SEQ}), {@code /api/v1/nodes/{node}/history/follow} (a node's history from an
 * offset, then live), {@code GET|DELETE /api/v1/listeners[/{id}]}. Requests are checked before the
 * upgrade, so a bad one is answered with problem+json, never a socket that closes at once.
 */
final class EventRoutes implements AutoCloseable {
    private static final String SPEC = "hub.ws.spec";

    private final EventBus bus;
    private final NodeDirectory nodes;
    private final hub.hubd.registry.NodeRegistry registry;
    private final java.util.function.UnaryOperator<String> names;
    private final HistoryStore history;
    private final ObjectMapper mapper;
    private final WsPeers peers;
    private final ScheduledExecutorService followPool;
    private final Map<String, Listener> bySession = new ConcurrentHashMap<>();

    /**
     * @param registry for which nodes a user with grants sees (from memory, per event)
     * @param names    user names by id, for the listener table
     */
    EventRoutes(EventBus bus, NodeDirectory nodes, hub.hubd.registry.NodeRegistry registry,
            java.util.function.UnaryOperator<String> names, HistoryStore history, ObjectMapper mapper,
            java.time.Duration pingInterval) {
        this.bus = bus;
        this.nodes = nodes;
        this.registry = registry;
        this.names = names;
        this.history = history;
        this.mapper = mapper;
        this.peers = new WsPeers(pingInterval);
        this.followPool = Executors.newScheduledThreadPool(2, Threads.daemons("history-follow", true));
    }

    /** What an events request asked for, checked before the upgrade. */
    private record EventsSpec(Principal by, String nodeId, hub.hubd.core.Selector selector, Set<String> types,
            Long after, int last) {
    }

    /** What a history follow asked for. */
    private record FollowSpec(Principal by, NodeView node, long after) {
    }

    /** Before the upgrade of {@code /api/v1/events}: parameters and permissions. */
    void checkEvents(Context ctx) {
        refuseWhileStopping();
        Principal by = HttpApi.principal(ctx);
        String node = ctx.queryParam("node");
        String nodeId = node == null ? null : nodes.resolve(by, node).info().id();
        String label = ctx.queryParam("label");
        hub.hubd.core.Selector selector = label == null ? null : hub.hubd.core.Selector.parse(label);
        Set<String> types = null;
        String t = ctx.queryParam("types");
        if (t != null && !t.isBlank()) {
            types = new LinkedHashSet<>(Arrays.asList(t.split(",")));
            for (String type : types) {
                if (!Event.TYPES.contains(type)) {
                    throw HubException.invalid("unknown event type '" + type + "'; known: " + String.join(", ",
                            Event.TYPES));
                }
            }
        }
        String after = ctx.queryParam("after");
        Long afterSeq = after == null ? null : TaskRoutes.number("after", after, 0, Long.MAX_VALUE);
        int last = (int) TaskRoutes.number("last", ctx.queryParam("last") == null ? "0" : ctx.queryParam("last"), 0,
                10_000);
        if (afterSeq != null && last > 0) {
            throw HubException.invalid("give after or last, not both");
        }
        ctx.attribute(SPEC, new EventsSpec(by, nodeId, selector, types, afterSeq, last));
    }

    /** Before the upgrade of {@code …/history/follow}: node, and where to start. */
    private ClusterForwarder forwarder;

    /** In a cluster: follows of nodes another hub holds are piped there. */
    void forwardWith(ClusterForwarder f) {
        this.forwarder = f;
    }

    void checkFollow(Context ctx) {
        refuseWhileStopping();
        Principal by = HttpApi.principal(ctx);
        NodeView node = nodes.resolve(by, ctx.pathParam("node"));
        if (forwarder != null && forwarder.forwardsWs(ctx, node)) {
            return; // the hub holding the node follows it
        }
        String after = ctx.queryParam("after");
        String tail = ctx.queryParam("tail");
        long start;
        if (after != null) {
            start = TaskRoutes.number("after", after, 0, Long.MAX_VALUE);
        } else {
            int n = (int) TaskRoutes.number("tail", tail == null ? "0" : tail, 0, TaskRoutes.MAX_LINES);
            HistoryPage p = history.tail(node.info().id(), n);
            start = p.lines().isEmpty() ? p.nextOffset() : p.lines().get(0).offset() - 1;
        }
        ctx.attribute(SPEC, new FollowSpec(by, node, start));
    }

    private void refuseWhileStopping() {
        if (bus.isClosed()) {
            throw HubException.unavailable("hub is stopping; reconnect in a moment");
        }
    }

    /** A plain GET of a WebSocket endpoint. */
    static void notAnUpgrade(Context ctx) {
        throw HubException.invalid("this endpoint is a WebSocket: connect with an Upgrade: websocket request");
    }

    void events(WsConfig ws) {
        ws.onConnect(ctx -> {
            EventsSpec s = ctx.attribute(SPEC);
            Principal by = s.by();
            java.util.function.Predicate<String> granted = by.hasGrants() ? nodeId -> {
                hub.hubd.registry.NodeInfo i = registry.info(nodeId);
                return i != null && by.roleOn(i.owner(), i.labels()) != null;
            } : null;
            Listener l = bus.subscribe(by.userId(), by.tokenId(), by.seesAllNodes(), granted, s.nodeId(),
                    s.selector(), s.types(), s.after(), s.last(), peers.sink(ctx));
            connected(ctx, l);
        });
        ws.onClose(ctx -> disconnected(ctx));
        ws.onError(ctx -> disconnected(ctx));
    }

    void follow(WsConfig ws) {
        ws.onConnect(ctx -> {
            if (forwarder != null && forwarder.connect(ctx)) {
                return;
            }
            FollowSpec s = ctx.attribute(SPEC);
            HistoryFollower f = new HistoryFollower(Ids.newId(), s.by().userId(), s.by().tokenId(),
                    s.node().info().id(), s.node().info().name(), s.after(), peers.sink(ctx), history, bus,
                    followPool, mapper);
            connected(ctx, f);
            f.start();
        });
        ws.onMessage(ctx -> {
            if (forwarder != null) {
                forwarder.text(ctx, ctx.message());
            }
        });
        ws.onClose(ctx -> {
            if (forwarder == null || !forwarder.closed(ctx)) {
                disconnected(ctx);
            }
        });
        ws.onError(ctx -> {
            if (forwarder == null || !forwarder.closed(ctx)) {
                disconnected(ctx);
            }
        });
    }

    private void connected(WsContext ctx, Listener l) {
        bySession.put(ctx.sessionId(), l);
        peers.add(ctx, reason -> l.end(CloseCodes.SILENT, "silent: " + reason));
    }

    private void disconnected(WsContext ctx) {
        peers.remove(ctx);
        Listener l = bySession.remove(ctx.sessionId());
        if (l instanceof HistoryFollower f) {
            f.disconnected();
        } else if (l != null) {
            bus.disconnected(l);
        }
    }

    /** A row of {@code GET /api/v1/listeners}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record ListenerJson(String id, String kind, String user, String userId, String remoteAddress, String filter,
            Instant connectedAt, int queueDepth, long delivered, long dropped, long lag, Instant lastActivity) {
        static ListenerJson of(Listener.Info i, java.util.function.UnaryOperator<String> names) {
            return new ListenerJson(i.id(), i.kind(), names.apply(i.user()), i.user(), i.remoteAddress(), i.filter(),
                    i.connectedAt(),
                    i.queueDepth(), i.delivered(), i.dropped(), i.lag(), i.lastActivity());
        }
    }

    /** {@code GET /api/v1/listeners}: admins see all, others their own. */
    void list(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        List<ListenerJson> items = bus.listeners().stream()
                .filter(i -> by.seesAllNodes() || by.userId().equals(i.user()))
                .map(i -> ListenerJson.of(i, names)).toList();
        ctx.json(Map.of("items", items));
    }

    /** {@code DELETE /api/v1/listeners/{id}}: admins any, others their own. */
    void kill(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        by.require(Role.VIEWER);
        String id = ctx.pathParam("id");
        Listener l = bus.listener(id).filter(x -> by.seesAllNodes() || by.userId().equals(x.user()))
                .orElseThrow(() -> HubException.notFound("no listener " + id));
        l.end(CloseCodes.KILLED, "closed by " + by.user());
        ctx.status(204);
    }

    @Override
    public void close() {
        peers.close();
        followPool.shutdownNow();
    }
}

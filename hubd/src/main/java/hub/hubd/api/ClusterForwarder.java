package hub.hubd.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import hub.hubd.cluster.Cluster;
import hub.hubd.cluster.Presence;
import hub.hubd.cluster.RelayClient;
import hub.hubd.core.HubException;
import hub.hubd.registry.NodeDirectory;
import hub.hubd.registry.NodeView;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.websocket.WsContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In a cluster, the requests whose live state sits with the hub holding a node's stream (a file
 * transfer, a task's stdin, a terminal session, a history follow) are forwarded to that hub's API,
 * as the client sent them: same method, path, query, body and bearer token (the hub there
 * authenticates and checks access itself), plus the cluster's relay secret and the client's
 * address for its audit log. WebSockets are piped frame by frame. A request that came forwarded is
 * never forwarded again. The forwarding hub does not audit what it forwards: the hub that acts does.
 */
final class ClusterForwarder {
    private static final Logger log = LoggerFactory.getLogger(ClusterForwarder.class);
    /** Set on a request this hub forwarded (the hub id it went to): the audit hook skips it. */
    static final String FORWARDED = "hub.forwardedTo";
    /** Request headers that go along; everything else (hop-by-hop, cookies) stays here. */
    private static final Set<String> REQUEST_HEADERS = Set.of("authorization", "content-type", "accept",
            "user-agent");
    /** Response headers that come back. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "transfer-encoding", "keep-alive",
            "content-length", "date", "server", "upgrade");

    private final Supplier<Cluster> cluster;
    private final NodeDirectory nodes;
    private final ObjectMapper mapper;
    private final Map<String, Pipe> pipes = new ConcurrentHashMap<>();

    ClusterForwarder(Supplier<Cluster> cluster, NodeDirectory nodes, ObjectMapper mapper) {
        this.cluster = cluster;
        this.nodes = nodes;
        this.mapper = mapper;
    }

    /** Whether the request came from another hub of the cluster (with its relay secret). */
    boolean relayed(Context ctx) {
        Cluster c = cluster.get();
        return c != null && c.isRelay(ctx.header(RelayClient.RELAY_HEADER));
    }

    /** The client's address: the forwarding hub's word for it on a relayed request. */
    String clientIp(Context ctx) {
        if (relayed(ctx)) {
            String ip = ctx.header(RelayClient.CLIENT_HEADER);
            if (ip != null && ip.matches("[0-9A-Fa-f:.\\[\\]]{2,47}")) {
                return ip;
            }
        }
        return ctx.ip();
    }

    /** The other hub that holds this node's stream, or null when it is this one, none, or the request was relayed. */
    Presence.HubInfo holder(Context ctx, NodeView node) {
        Cluster c = cluster.get();
        if (c == null || node.hub() == null || node.hub().equals(c.presence().localHub()) || relayed(ctx)) {
            return null;
        }
        Presence.HubInfo h = c.hub(node.hub());
        if (h == null || h.apiUrl().isEmpty()) {
            throw HubException.unavailable("the hub holding node " + node.info().name()
                    + " stopped answering; try again when the node has reconnected");
        }
        return h;
    }

    /** A route on {@code {node}}: forwarded to the hub holding that node, else {@code local}. */
    Handler byNode(Handler local) {
        return byNode(ctx -> nodes.resolve(HttpApi.principal(ctx), ctx.pathParam("node")), local);
    }

    /** A route on some object of a node ({@code nodeOf} finds the node): forwarded, else {@code local}. */
    Handler byNode(Function<Context, NodeView> nodeOf, Handler local) {
        return ctx -> {
            if (cluster.get() == null || relayed(ctx)) {
                local.handle(ctx);
                return;
            }
            Presence.HubInfo h = holder(ctx, nodeOf.apply(ctx));
            if (h == null) {
                local.handle(ctx);
            } else {
                forward(ctx, h);
            }
        };
    }

    private URI target(Presence.HubInfo h, String path, String query, boolean ws) {
        String base = h.apiUrl();
        if (ws) {
            base = base.replaceFirst("^http", "ws");
        }
        return URI.create(base + path + (query == null || query.isEmpty() ? "" : "?" + query));
    }

    /** Sends the request to {@code h} and streams its answer back, status and headers included. */
    private void forward(Context ctx, Presence.HubInfo h) throws IOException {
        Cluster c = cluster.get();
        ctx.attribute(FORWARDED, h.id());
        HttpRequest.Builder b = HttpRequest.newBuilder(target(h, ctx.path(), ctx.queryString(), false));
        ctx.headerMap().forEach((k, v) -> {
            if (REQUEST_HEADERS.contains(k.toLowerCase(Locale.ROOT))) {
                b.header(k, v);
            }
        });
        b.header(RelayClient.RELAY_HEADER, c.relay().secret()).header(RelayClient.CLIENT_HEADER, ctx.ip());
        String method = ctx.method().name();
        long length = ctx.req().getContentLengthLong();
        HttpRequest.BodyPublisher body;
        if (method.equals("GET") || method.equals("HEAD") || length == 0) {
            body = HttpRequest.BodyPublishers.noBody();
        } else {
            InputStream in = ctx.req().getInputStream();
            HttpRequest.BodyPublisher stream = HttpRequest.BodyPublishers.ofInputStream(() -> in);
            body = length > 0 ? HttpRequest.BodyPublishers.fromPublisher(stream, length) : stream;
        }
        HttpResponse<InputStream> r;
        try {
            r = c.relay().http().send(b.method(method, body).build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw HubException.unavailable("the hub holding the node cannot be reached (" + e.getMessage()
                    + "); try again");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw HubException.unavailable("interrupted forwarding to the hub holding the node");
        }
        ctx.status(r.statusCode());
        r.headers().map().forEach((k, v) -> {
            if (!HOP_BY_HOP.contains(k.toLowerCase(Locale.ROOT)) && !k.startsWith(":")) {
                v.forEach(x -> ctx.res().addHeader(k, x));
            }
        });
        r.headers().firstValue("content-length").ifPresent(l -> ctx.res().setHeader("Content-Length", l));
        try (InputStream in = r.body()) {
            OutputStream out = ctx.res().getOutputStream();
            in.transferTo(out);
            out.flush();
        }
    }

    // --- WebSockets ---------------------------------------------------------------------------

    /**
     * Before a WebSocket upgrade: if {@code node} is held by another hub, the connection will be
     * piped there (the caller skips its own checks of the node's live state, which that hub makes).
     *
     * @return whether it will be
     */
    boolean forwardsWs(Context ctx, NodeView node) {
        Presence.HubInfo h = cluster.get() == null ? null : holder(ctx, node);
        if (h == null) {
            return false;
        }
        ctx.attribute(FORWARDED, h.id());
        ctx.attribute(PIPE_TARGET, new PipeTarget(h, ctx.path(), ctx.queryString(), ctx.header("Authorization"),
                ctx.ip()));
        return true;
    }

    private static final String PIPE_TARGET = "hub.pipeTarget";

    private record PipeTarget(Presence.HubInfo hub, String path, String query, String authorization, String clientIp) {
    }

    /** On connect: pipes this connection to the hub it was meant for; false when it is this hub's own. */
    boolean connect(WsContext ctx) {
        PipeTarget t = ctx.attribute(PIPE_TARGET);
        if (t == null) {
            return false;
        }
        Pipe p = new Pipe(ctx);
        pipes.put(ctx.sessionId(), p);
        Cluster c = cluster.get();
        WebSocket.Builder b = c.relay().http().newWebSocketBuilder()
                .header(RelayClient.RELAY_HEADER, c.relay().secret()).header(RelayClient.CLIENT_HEADER, t.clientIp());
        if (t.authorization() != null) {
            b.header("Authorization", t.authorization());
        }
        p.open(b.buildAsync(target(t.hub(), t.path(), t.query(), true), p));
        return true;
    }

    /** A text frame from the client: piped, if this connection is a pipe. */
    boolean text(WsContext ctx, String message) {
        Pipe p = pipes.get(ctx.sessionId());
        if (p == null) {
            return false;
        }
        p.send(ws -> ws.sendText(message, true));
        return true;
    }

    /** A binary frame from the client: piped, if this connection is a pipe. */
    boolean binary(WsContext ctx, ByteBuffer data) {
        Pipe p = pipes.get(ctx.sessionId());
        if (p == null) {
            return false;
        }
        ByteBuffer copy = ByteBuffer.allocate(data.remaining()).put(data.duplicate()).flip();
        p.send(ws -> ws.sendBinary(copy, true));
        return true;
    }

    /** The client went: the pipe's other end is closed; false when this connection was no pipe. */
    boolean closed(WsContext ctx) {
        Pipe p = pipes.remove(ctx.sessionId());
        if (p == null) {
            return false;
        }
        p.send(ws -> ws.sendClose(WebSocket.NORMAL_CLOSURE, "client gone"));
        return true;
    }

    /**
     * One client connection piped to another hub: frames each way in order; the client's frames
     * that come before the other end is open wait for it.
     */
    private final class Pipe implements WebSocket.Listener {
        private final WsContext client;
        private CompletableFuture<WebSocket> tail;
        private final StringBuilder text = new StringBuilder();
        private java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();

        Pipe(WsContext client) {
            this.client = client;
        }

        synchronized void open(CompletableFuture<WebSocket> upstream) {
            tail = upstream;
            upstream.whenComplete((ws, err) -> {
                if (err != null) {
                    refused(err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                            ? err.getCause() : err);
                }
            });
        }

        synchronized void send(Function<WebSocket, CompletableFuture<WebSocket>> frame) {
            tail = tail.thenCompose(ws -> frame.apply(ws).handle((x, err) -> ws));
        }

        /** The other hub refused the upgrade (or could not be reached): told as its problem, then closed. */
        private void refused(Throwable err) {
            ObjectNode m = mapper.createObjectNode();
            m.put("type", "error");
            if (err instanceof WebSocketHandshakeException h) {
                m.put("status", h.getResponse().statusCode());
                Object body = h.getResponse().body();
                try {
                    if (body instanceof String s && !s.isBlank()) {
                        var p = mapper.readTree(s);
                        m.put("title", p.path("title").asText(""));
                        m.put("detail", p.path("detail").asText(""));
                        m.put("problemType", p.path("type").asText(""));
                    }
                } catch (IOException ignored) {
                    // not a problem document: the status says it
                }
            } else {
                m.put("status", 503);
                m.put("title", "Service Unavailable");
                m.put("detail", "the hub holding the node cannot be reached; try again");
            }
            try {
                client.send(mapper.writeValueAsString(m));
            } catch (IOException | RuntimeException e) {
                log.debug("client gone before the refusal", e);
            }
            client.closeSession(1008, "refused");
            pipes.remove(client.sessionId());
        }

        @Override
        public void onOpen(WebSocket ws) {
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                String m = text.toString();
                text.setLength(0);
                client.send(m);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] chunk = new byte[data.remaining()];
            data.get(chunk);
            bytes.write(chunk, 0, chunk.length);
            if (last) {
                client.send(ByteBuffer.wrap(bytes.toByteArray()));
                bytes = new java.io.ByteArrayOutputStream();
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            pipes.remove(client.sessionId());
            client.closeSession(statusCode, reason);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            pipes.remove(client.sessionId());
            client.closeSession(1011, "the hub holding the node went away");
        }
    }

    /** Closes every pipe (hub stopping). */
    void close() {
        for (Pipe p : List.copyOf(pipes.values())) {
            p.client.closeSession(1001, "hub stopping");
        }
        pipes.clear();
    }
}

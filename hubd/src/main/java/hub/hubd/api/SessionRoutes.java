package hub.hubd.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.auth.Principal;
import hub.hubd.auth.Role;
import hub.hubd.core.HubException;
import hub.hubd.registry.NodeDirectory;
import hub.hubd.registry.NodeView;
import hub.hubd.sessions.RecordingStore;
import hub.hubd.sessions.SessionService;
import hub.hubd.tasks.Task;
import hub.hubd.tasks.TaskRepository;
import hub.hubd.tasks.TaskService;
import io.javalin.http.Context;
import io.javalin.websocket.WsConfig;
import io.javalin.websocket.WsContext;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Terminal sessions over the API. {@code /api/v1/nodes/{node}/terminal} (WebSocket) opens one: the
 * client's first frame is a JSON {@code start} (command, user, term, size, locale variables); then
 * binary frames carry the terminal's bytes both ways and JSON frames carry control ({@code resize}
 * up; {@code started}, {@code notice}, {@code exit}, {@code error} down). {@code
 * /api/v1/sessions/{id}/join} (WebSocket) watches a live one. {@code GET /api/v1/sessions[/{id}]}
 * lists them and {@code GET /api/v1/sessions/{id}/recording} pages through a recording.
 *
 * <p>Output goes out in order, without blocking the agent's stream: each client has a queue of at
 * most {@value #MAX_QUEUED_BYTES} bytes; a client slower than its session's output loses output past
 * that (told with a notice naming how much; the recording keeps it) rather than holding the hub's
 * memory.
 */
final class SessionRoutes implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SessionRoutes.class);
    private static final String SPEC = "hub.session.spec";
    private static final String PEER = "hub.session.peer";
    /** Output a client may have queued before further output is skipped for it. */
    static final int MAX_QUEUED_BYTES = 8 * 1024 * 1024;
    /** Largest input frame taken. */
    static final int MAX_INPUT_FRAME = 1024 * 1024;

    private final SessionService sessions;
    private final TaskService tasks;
    private final NodeDirectory nodes;
    private final hub.hubd.registry.NodeRegistry registry;
    private final RecordingStore recordings;
    private final ObjectMapper mapper;
    private final WsPeers peers;
    private final Map<String, WsPeer> bySession = new ConcurrentHashMap<>();

    SessionRoutes(SessionService sessions, TaskService tasks, NodeDirectory nodes,
            hub.hubd.registry.NodeRegistry registry, RecordingStore recordings, ObjectMapper mapper,
            java.time.Duration pingInterval) {
        this.registry = registry;
        this.sessions = sessions;
        this.tasks = tasks;
        this.nodes = nodes;
        this.recordings = recordings;
        this.mapper = mapper;
        this.peers = new WsPeers(pingInterval);
    }

    private ClusterForwarder forwarder;

    /** In a cluster: sessions of nodes another hub holds are piped there. */
    void forwardWith(ClusterForwarder f) {
        this.forwarder = f;
    }

    private record OpenSpec(Principal by, NodeView node) {
    }

    private record JoinSpec(Principal by, String id, boolean readWrite) {
    }

    /** Before the upgrade of {@code /api/v1/nodes/{node}/terminal}: the node, and operator on it. */
    void checkOpen(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        NodeView node = nodes.resolve(by, ctx.pathParam("node"));
        NodeDirectory.require(by, node, Role.OPERATOR);
        if (forwarder != null && forwarder.forwardsWs(ctx, node)) {
            return; // the hub holding the node opens it
        }
        if (node.status() != hub.hubd.registry.NodeStatus.ONLINE) {
            throw HubException.conflict("node " + node.info().name() + " is offline");
        }
        ctx.attribute(SPEC, new OpenSpec(by, node));
    }

    /** Before the upgrade of {@code /api/v1/sessions/{id}/join}. */
    void checkJoin(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        String rw = ctx.queryParam("rw");
        if (rw != null && !rw.equals("true") && !rw.equals("false")) {
            throw HubException.invalid("rw must be true or false");
        }
        boolean readWrite = "true".equals(rw);
        String id = ctx.pathParam("id");
        SessionService.Live l = sessions.live(id);
        if (l == null) {
            Task t = tasks.get(by, id);
            if (t.terminal() != null && !t.state().isFinal() && forwarder != null
                    && forwarder.forwardsWs(ctx, nodes.byId(by, t.nodeId()))) {
                return; // live on the hub holding its node, which checks the rest
            }
            if (t.terminal() == null) {
                throw HubException.notFound("no session " + id);
            }
            throw HubException.conflict("session " + id + " has ended; play its recording with 'hubctl sessions play "
                    + id + "'");
        }
        if (by.role() != Role.ADMIN && !by.userId().equals(l.ownerId())) {
            nodes.byId(by, l.task().nodeId()); // NOT_FOUND first for a node it may not see
            throw HubException.forbidden("joining a session needs admin, or to be the user who opened it");
        }
        if (readWrite && by.role() != Role.ADMIN) {
            throw HubException.forbidden("joining a session read-write (rw=true) needs admin");
        }
        ctx.attribute(SPEC, new JoinSpec(by, id, readWrite));
    }

    void open(WsConfig ws) {
        ws.onConnect(ctx -> {
            ctx.session.setMaxBinaryMessageSize(MAX_INPUT_FRAME);
            if (forwarder != null && forwarder.connect(ctx)) {
                return;
            }
            WsPeer p = new WsPeer(ctx.session, mapper);
            p.spec = ctx.attribute(SPEC);
            connected(ctx, p);
        });
        ws.onMessage(ctx -> {
            if (forwarder != null && forwarder.text(ctx, ctx.message())) {
                return;
            }
            WsPeer p = bySession.get(ctx.sessionId());
            if (p == null) {
                return;
            }
            control(p, ctx.message());
        });
        piped(ws);
    }

    /** Binary frames and the end of a connection: to its pipe, or this hub's session. */
    private void piped(WsConfig ws) {
        ws.onBinaryMessage(ctx -> {
            if (forwarder == null || !forwarder.binary(ctx, ctx.data())) {
                input(ctx.sessionId(), ctx.data());
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

    void join(WsConfig ws) {
        ws.onConnect(ctx -> {
            ctx.session.setMaxBinaryMessageSize(MAX_INPUT_FRAME);
            if (forwarder != null && forwarder.connect(ctx)) {
                return;
            }
            JoinSpec s = ctx.attribute(SPEC);
            WsPeer p = new WsPeer(ctx.session, mapper);
            connected(ctx, p);
            try {
                p.live = sessions.join(s.by(), s.id(), p, s.readWrite());
                p.control(Map.of("type", "joined", "session", s.id(), "node", p.live.node().info().id(),
                        "nodeName", p.live.node().info().name(), "user", p.live.ownerName(),
                        "readWrite", s.readWrite()));
            } catch (HubException e) {
                p.fail(e);
            }
        });
        ws.onMessage(ctx -> {
            if (forwarder != null && forwarder.text(ctx, ctx.message())) {
                return;
            }
            WsPeer p = bySession.get(ctx.sessionId());
            if (p != null) {
                p.fail(HubException.invalid("a joined session takes no control messages"));
            }
        });
        piped(ws);
    }

    private void connected(WsContext ctx, WsPeer p) {
        bySession.put(ctx.sessionId(), p);
        peers.add(ctx, reason -> {
            p.close(1001, "silent: " + reason);
            left(p);
        });
    }

    private void disconnected(WsContext ctx) {
        peers.remove(ctx);
        WsPeer p = bySession.remove(ctx.sessionId());
        if (p != null) {
            left(p);
        }
    }

    private void left(WsPeer p) {
        SessionService.Live l = p.live;
        if (l != null) {
            sessions.left(l, p);
        }
    }

    /** A JSON frame from the client that opened the session: start first, then resizes. */
    private void control(WsPeer p, String text) {
        try {
            JsonNode m;
            try {
                m = mapper.readTree(text);
            } catch (java.io.IOException e) {
                throw HubException.invalid("control frames are JSON objects");
            }
            String type = m == null ? null : m.path("type").asText(null);
            if (p.live == null) {
                if (!"start".equals(type)) {
                    throw HubException.invalid("the first frame must be {\"type\":\"start\", …}");
                }
                start(p, m);
            } else if ("resize".equals(type)) {
                sessions.resize(p.live, p, intField(m, "columns"), intField(m, "rows"));
            } else {
                throw HubException.invalid("unknown control frame type '" + hub.hubd.core.LogText.safe(
                        String.valueOf(type)) + "' (resize)");
            }
        } catch (HubException e) {
            p.fail(e);
        } catch (RuntimeException e) {
            String errorId = hub.hubd.core.Ids.newId();
            log.error("session control frame failed (error id {})", errorId, e);
            p.failInternal(errorId);
        }
    }

    private void start(WsPeer p, JsonNode m) {
        for (var it = m.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!List.of("type", "command", "user", "term", "columns", "rows", "env").contains(f)) {
                throw HubException.invalid("unknown field '" + hub.hubd.core.LogText.safe(f) + "' in start");
            }
        }
        Map<String, String> env = new LinkedHashMap<>();
        JsonNode e = m.path("env");
        if (!e.isMissingNode() && !e.isNull()) {
            if (!e.isObject()) {
                throw HubException.invalid("env must be an object of strings");
            }
            e.fields().forEachRemaining(f -> {
                if (!f.getValue().isTextual()) {
                    throw HubException.invalid("env must be an object of strings");
                }
                env.put(f.getKey(), f.getValue().asText());
            });
        }
        SessionService.Request req = new SessionService.Request(textField(m, "command"), textField(m, "user"),
                textField(m, "term"), m.has("columns") ? intField(m, "columns") : 80,
                m.has("rows") ? intField(m, "rows") : 24, env);
        OpenSpec s = p.spec;
        SessionService.Live l = sessions.open(s.by(), s.node().info().id(), req, p);
        p.live = l;
        p.control(Map.of("type", "started", "session", l.id(), "node", l.node().info().id(),
                "nodeName", l.node().info().name()));
        p.flushEarly();
    }

    private static String textField(JsonNode m, String name) {
        JsonNode v = m.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw HubException.invalid(name + " must be a string");
        }
        return v.asText();
    }

    private static int intField(JsonNode m, String name) {
        JsonNode v = m.get(name);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) {
            throw HubException.invalid(name + " must be a whole number");
        }
        return v.asInt();
    }

    private void input(String wsSession, ByteBuffer data) {
        WsPeer p = bySession.get(wsSession);
        if (p == null || p.live == null) {
            if (p != null) {
                p.fail(HubException.invalid("input before the session started: send start first"));
            }
            return;
        }
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        try {
            sessions.input(p.live, p, bytes);
        } catch (HubException e) {
            if (e.kind() == HubException.Kind.FORBIDDEN) {
                p.notice(e.getMessage()); // a read-only watcher typed: say so, stay
            } else {
                p.fail(e);
            }
        }
    }

    /** A session as the API shows it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record SessionJson(String id, String node, String nodeName, String user, String runAs, String command,
            String term, String state, boolean live, Integer watchers, Integer exitCode, String error,
            Instant startedAt, Instant endedAt) {
    }

    private SessionJson json(Task t) {
        return json(t, elsewhere(List.of(t)));
    }

    /**
     * A session's JSON: live when this hub holds it, or (a cluster) when it has not ended and its
     * node's stream is on another hub, which holds the session (its watchers are counted there).
     */
    private SessionJson json(Task t, Map<String, hub.hubd.registry.NodeView> elsewhere) {
        SessionService.Live l = sessions.live(t.id());
        hub.hubd.registry.NodeInfo info = registry.info(t.nodeId()); // null once removed: the id stays
        String nodeName = info == null ? null : info.name();
        boolean live = l != null || elsewhere.containsKey(t.nodeId()) && !t.state().isFinal();
        return new SessionJson(t.id(), t.nodeId(), nodeName, t.owner(), t.runAs(), t.command(), t.terminal().term(),
                t.state().wireName(), live, l == null ? null : l.watchers(), t.exitCode(), t.error(),
                t.startedAt() == null ? t.createdAt() : t.startedAt(), t.finishedAt());
    }

    /** In a cluster, the nodes of these unfinished sessions that another hub holds (one presence read). */
    private Map<String, hub.hubd.registry.NodeView> elsewhere(List<Task> page) {
        if (!nodes.clustered()) {
            return Map.of();
        }
        List<String> ids = page.stream().filter(t -> !t.state().isFinal() && sessions.live(t.id()) == null
                && registry.session(t.nodeId()).isEmpty()).map(Task::nodeId).distinct().toList();
        if (ids.isEmpty()) {
            return Map.of();
        }
        Map<String, hub.hubd.registry.NodeView> out = new java.util.HashMap<>(nodes.liveViews(ids));
        out.values().removeIf(v -> v.status() != hub.hubd.registry.NodeStatus.ONLINE || v.hub() == null);
        return out;
    }

    /** {@code GET /api/v1/sessions?node=&limit=&before=}: newest first. */
    void list(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        int limit = (int) TaskRoutes.number("limit", ctx.queryParam("limit") == null ? "50" : ctx.queryParam("limit"),
                1, 500);
        TaskRepository.Position before = null;
        String b = ctx.queryParam("before");
        if (b != null) {
            Task t = tasks.get(by, b);
            before = TaskRepository.Position.of(t);
        }
        List<Task> page = tasks.sessions(by, ctx.queryParam("node"), before, limit + 1);
        List<SessionJson> items = new ArrayList<>();
        var elsewhere = elsewhere(page);
        for (int i = 0; i < Math.min(limit, page.size()); i++) {
            items.add(json(page.get(i), elsewhere));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("items", items);
        if (page.size() > limit) {
            body.put("next", page.get(limit - 1).id());
        }
        ctx.json(body);
    }

    /** {@code GET /api/v1/sessions/{id}}. */
    void show(Context ctx) {
        ctx.json(json(session(HttpApi.principal(ctx), ctx.pathParam("id"))));
    }

    private Task session(Principal by, String id) {
        Task t = tasks.get(by, id);
        if (t.terminal() == null) {
            throw HubException.notFound("no session " + id + " (task " + id + " is not a terminal session)");
        }
        return t;
    }

    /** One recorded item as the API shows it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record ItemJson(String kind, long seq, long atMs, String data) {
    }

    /**
     * {@code GET /api/v1/sessions/{id}/recording?after=CURSOR&maxBytes=N&input=true}: items in time
     * order, base64 data; {@code next} to continue from, {@code end} once the session has ended and
     * everything was given. Input needs admin (it may hold what was typed at a password prompt).
     */
    void recording(Context ctx) {
        Principal by = HttpApi.principal(ctx);
        Task t = session(by, ctx.pathParam("id"));
        boolean withInput = "true".equals(ctx.queryParam("input"));
        if (withInput) {
            by.require(Role.ADMIN);
        }
        RecordingStore.Position after = cursor(ctx.queryParam("after"));
        long maxBytes = TaskRoutes.number("maxBytes", ctx.queryParam("maxBytes") == null ? "1048576"
                : ctx.queryParam("maxBytes"), 1, 8L * 1024 * 1024);
        List<RecordingStore.Item> items = recordings.after(t.id(), after, maxBytes, 1000, withInput);
        Base64.Encoder b64 = Base64.getEncoder();
        List<ItemJson> out = new ArrayList<>(items.size());
        for (RecordingStore.Item i : items) {
            out.add(new ItemJson(i.kind().wireName(), i.sequence(), i.atMillis(), b64.encodeToString(i.data())));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("session", t.id());
        body.put("items", out);
        RecordingStore.Position next = items.isEmpty() ? after : RecordingStore.Position.of(items.get(items.size() - 1));
        body.put("next", cursor(next));
        body.put("end", items.isEmpty() && t.state().isFinal());
        body.put("state", t.state().wireName());
        ctx.json(body);
    }

    static String cursor(RecordingStore.Position p) {
        return p.atMillis() == Long.MIN_VALUE ? "0" : p.atMillis() + "." + p.kind() + "." + p.sequence();
    }

    static RecordingStore.Position cursor(String s) {
        if (s == null || s.equals("0")) {
            return RecordingStore.Position.START;
        }
        String[] parts = s.split("\\.");
        try {
            if (parts.length == 3) {
                return new RecordingStore.Position(Long.parseLong(parts[0]), Integer.parseInt(parts[1]),
                        Long.parseLong(parts[2]));
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw HubException.invalid("after must be a cursor from an earlier page's next");
    }

    @Override
    public void close() {
        peers.close();
    }

    /**
     * A session's client on a WebSocket: frames go out one at a time in order (the next when Jetty
     * has written the one before), from a queue bounded in bytes.
     */
    private final class WsPeer implements SessionService.Peer {
        private final Session ws;
        private final ObjectMapper mapper;
        volatile OpenSpec spec;
        volatile SessionService.Live live;
        // guarded by this
        private final ArrayDeque<Object> queue = new ArrayDeque<>();
        private long queuedBytes;
        private boolean sending;
        private long skipped;
        private boolean closing;
        /** Output that arrived before the started frame was queued (the agent can be quick). */
        private List<byte[]> early = new ArrayList<>();

        WsPeer(Session ws, ObjectMapper mapper) {
            this.ws = ws;
            this.mapper = mapper;
        }

        @Override
        public void output(byte[] data) {
            synchronized (this) {
                if (early != null && live == null && spec != null) {
                    early.add(data);
                    return;
                }
                if (closing) {
                    return;
                }
                if (queuedBytes + data.length > MAX_QUEUED_BYTES) {
                    skipped += data.length;
                    return;
                }
                if (skipped > 0) {
                    enqueue(text(Map.of("type", "notice", "message", skipped + " bytes of output were skipped: this "
                            + "client read slower than the session wrote (the recording has them)")));
                    skipped = 0;
                }
                enqueue(ByteBuffer.wrap(data));
            }
        }

        /** Sends what arrived before {@code started} was sent. */
        void flushEarly() {
            List<byte[]> e;
            synchronized (this) {
                e = early;
                early = null;
            }
            if (e != null) {
                e.forEach(this::output);
            }
        }

        @Override
        public void notice(String text) {
            control(Map.of("type", "notice", "message", text));
        }

        @Override
        public void ended(String state, Integer exitCode, String error) {
            flushEarly();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", "exit");
            m.put("state", state);
            if (exitCode != null) {
                m.put("exitCode", exitCode);
            }
            if (error != null) {
                m.put("error", error);
            }
            control(m);
            close(1000, "session ended");
        }

        void control(Map<String, ?> m) {
            synchronized (this) {
                if (!closing) {
                    enqueue(text(m));
                }
            }
        }

        private String text(Map<String, ?> m) {
            try {
                return mapper.writeValueAsString(m);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        /** A refusal after the upgrade: an error frame (the problem's fields), then close. */
        void fail(HubException e) {
            Problem p = ApiErrors.problem(e);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", "error");
            m.put("status", p.status());
            m.put("title", p.title());
            m.put("detail", p.detail());
            m.put("problemType", p.type());
            control(m);
            close(1008, p.title());
        }

        void failInternal(String errorId) {
            control(Map.of("type", "error", "status", 500, "title", "Internal Server Error",
                    "detail", "internal error; see the hub's log for error id " + errorId, "errorId", errorId));
            close(1011, "internal error");
        }

        /** Closes once what is queued has gone (a client that does not read is cut after 2 s). */
        void close(int code, String reason) {
            synchronized (this) {
                if (closing) {
                    return;
                }
                closing = true;
                queue.add(new int[] {code});
                closeReason = reason;
                if (!sending) {
                    next();
                }
            }
        }

        private String closeReason;

        private void enqueue(Object frame) {
            queue.add(frame);
            if (frame instanceof ByteBuffer b) {
                queuedBytes += b.remaining();
            }
            if (!sending) {
                next();
            }
        }

        /** Sends the next frame; holds this. */
        private void next() {
            Object f = queue.poll();
            if (f == null) {
                sending = false;
                return;
            }
            sending = true;
            Callback cb = Callback.from(() -> sent(f), err -> {
                synchronized (this) {
                    queue.clear();
                    queuedBytes = 0;
                    sending = false;
                    closing = true;
                }
            });
            try {
                if (f instanceof ByteBuffer b) {
                    ws.sendBinary(b, cb);
                } else if (f instanceof String s) {
                    ws.sendText(s, cb);
                } else {
                    ws.close(((int[]) f)[0], closeReason, Callback.NOOP);
                    sending = false;
                }
            } catch (RuntimeException e) {
                queue.clear();
                sending = false;
            }
        }

        private void sent(Object f) {
            synchronized (this) {
                if (f instanceof ByteBuffer b) {
                    queuedBytes -= b.limit();
                }
                next();
            }
        }
    }
}

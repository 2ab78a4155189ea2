package hub.hubd.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.auth.ApiTokens;
import hub.hubd.auth.JoinTokens;
import hub.hubd.auth.Principal;
import hub.hubd.events.EventBus;
import hub.hubd.registry.NodeDirectory;
import hub.hubd.registry.NodeRegistry;
import hub.hubd.registry.NodeStatus;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.json.JavalinJackson;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Instant;
import java.util.function.BooleanSupplier;

/**
 * The embedded HTTP API (Javalin on Jetty): health, metrics and {@code /api/v1}. Handlers are
 * small and call the core; failures are mapped once, in {@link ApiErrors}.
 */
public final class HttpApi implements AutoCloseable {
    static final String PRINCIPAL = "hub.principal";

    /** Facts about this hub for {@code /api/v1/status}. */
    public record HubInfo(String version, String hubId, Instant startedAt, int agentPort) {
    }

    /** What {@code /api/v1/status} says about TLS: {@code mode} is generated, provided or off. */
    record TlsJson(String mode, String caPin, Instant servingCertificateExpiresAt) {
    }

    private final Javalin app;
    private final ObjectMapper mapper = ApiJson.mapper();
    private final ApiTokens apiTokens;
    private final JoinTokens joinTokens;
    private final NodeDirectory nodes;
    private final NodeRegistry registry;
    private final PrometheusMeterRegistry metrics;
    /** How long a client may take to send a request line and headers (or a TLS handshake). */
    static final java.time.Duration HEADER_DEADLINE = java.time.Duration.ofSeconds(10);
    private HeaderDeadline headerDeadline;
    /** How long a keep-alive connection may sit with no request. */
    static final java.time.Duration IDLE_TIMEOUT = java.time.Duration.ofSeconds(30);
    private final BooleanSupplier ready;
    /** How long requests in flight get to end when the hub stops. */
    static final java.time.Duration STOP_TIMEOUT = java.time.Duration.ofSeconds(5);
    private final InFlight inFlight = new InFlight();
    private final EventRoutes eventRoutes;
    private final SessionRoutes sessionRoutes;
    private final hub.hubd.tls.HubTls tls;
    private final java.util.List<String> advertise;
    private volatile HubInfo info;
    private final ClusterForwarder forwarder;
    /** This hub's cluster, or null for one hub. */
    private volatile hub.hubd.cluster.Cluster cluster;
    private volatile String bindHost;
    private volatile int bindPort;

    public HttpApi(ApiTokens apiTokens, hub.hubd.auth.Users users, JoinTokens joinTokens, NodeDirectory nodes,
            NodeRegistry registry,
            hub.hubd.tasks.TaskService tasks, hub.hubd.history.HistoryStore history, EventBus events,
            java.time.Duration wsPingInterval, hub.hubd.provisioning.AgentArtifact agentArtifact,
            PrometheusMeterRegistry metrics, BooleanSupplier ready, hub.hubd.tls.HubTls tls,
            java.util.List<String> advertise, hub.hubd.audit.AuditLog audit, hub.hubd.runs.RunService runs,
            hub.hubd.tasks.RawOutput rawOutput, hub.hubd.sessions.SessionService sessions,
            hub.hubd.sessions.RecordingStore recordings, hub.hubd.files.FileRelay files) {
        this.tls = tls;
        this.advertise = java.util.List.copyOf(advertise);
        this.apiTokens = apiTokens;
        this.joinTokens = joinTokens;
        this.nodes = nodes;
        this.registry = registry;
        this.metrics = metrics;
        this.ready = ready;
        ApiErrors errors = new ApiErrors(mapper);
        io.micrometer.core.instrument.Gauge.builder("hub_http_requests_in_flight", inFlight, InFlight::count)
                .description("HTTP requests being handled (WebSocket sessions not counted)").register(metrics);
        NodeRoutes nodeRoutes = new NodeRoutes(nodes, users, mapper);
        JoinTokenRoutes tokenRoutes = new JoinTokenRoutes(joinTokens, mapper, tls == null ? null : tls::caPin,
                () -> this.advertise.get(0) + ":" + (this.info == null ? 0 : this.info.agentPort()), users::nameOf);
        UserRoutes userRoutes = new UserRoutes(users, mapper);
        ProvisioningRoutes provisioning = new ProvisioningRoutes(joinTokens, agentArtifact, tls, this.advertise,
                () -> this.info == null ? 0 : this.info.agentPort(), this::port);
        provisioning.clusterAgents(() -> this.cluster == null ? java.util.List.of() : this.cluster.agentAddresses());
        TaskRoutes taskRoutes = new TaskRoutes(tasks, nodes, history, rawOutput, mapper);
        this.forwarder = new ClusterForwarder(() -> this.cluster, nodes, mapper);
        ClusterForwarder fwd = this.forwarder;
        AuditRoutes auditRoutes = new AuditRoutes(audit, nodes);
        auditRoutes.clientIps(fwd::clientIp);
        RunRoutes runRoutes = new RunRoutes(runs, mapper);
        this.eventRoutes = new EventRoutes(events, nodes, registry, users::nameOf, history, mapper, wsPingInterval);
        eventRoutes.forwardWith(fwd);
        this.sessionRoutes = new SessionRoutes(sessions, tasks, nodes, registry, recordings, mapper, wsPingInterval);
        sessionRoutes.forwardWith(fwd);
        FileRoutes fileRoutes = new FileRoutes(files, nodes, mapper, runs);
        InternalRoutes internal = new InternalRoutes(tasks, runs, () -> this.cluster);
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.jsonMapper(new JavalinJackson(mapper, false));
            cfg.http.maxRequestSize = 1024 * 1024;
            cfg.http.prefer405over404 = true;
            // On stop, requests in flight get up to 5 s; idle keep-alive connections (hubctl, scripts)
            // are closed after 200 ms instead of Jetty's 1 s per connector, which made every SIGTERM
            // wait about 2 s for clients that had nothing more to say.
            cfg.jetty.modifyServer(server -> {
                server.setStopTimeout(STOP_TIMEOUT.toMillis());
                server.setErrorHandler(new ProblemErrorHandler(mapper));
                this.headerDeadline = new HeaderDeadline(server, HEADER_DEADLINE, metrics);
                server.addEventListener(new org.eclipse.jetty.util.component.LifeCycle.Listener() {
                    @Override
                    public void lifeCycleStarted(org.eclipse.jetty.util.component.LifeCycle event) {
                        for (var c : server.getConnectors()) {
                            if (c instanceof org.eclipse.jetty.server.AbstractConnector ac) {
                                ac.setShutdownIdleTimeout(200);
                                ac.setIdleTimeout(IDLE_TIMEOUT.toMillis());
                            }
                        }
                    }
                });
            });
            if (tls != null) {
                cfg.jetty.addConnector((server, http) -> tlsConnector(server, http, tls));
            }
            cfg.routes.before(inFlight::started);
            cfg.routes.after(inFlight::ended);
            cfg.routes.exception(Exception.class, errors::handle);
            // Javalin answers its own HTTP exceptions (unknown route, 405) unless mapped exactly.
            cfg.routes.exception(io.javalin.http.HttpResponseException.class, errors::handle);
            cfg.routes.get("/healthz", ctx -> ctx.json(java.util.Map.of("status", "ok")));
            cfg.routes.get("/readyz", this::readyz);
            cfg.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                    .result(this.metrics.scrape()));
            cfg.routes.before("/internal/*", internal::authenticate);
            cfg.routes.post("/internal/v1/tasks/{id}/send", internal::send);
            cfg.routes.post("/internal/v1/tasks/{id}/cancel", internal::cancel);
            cfg.routes.post("/internal/v1/runs/{id}/{op}", internal::run);
            cfg.routes.before("/api/*", this::authenticate);
            cfg.routes.before("/api/*", HttpApi::requireJsonBody);
            cfg.routes.get("/api/v1/status", this::status);
            cfg.routes.get("/api/v1/nodes", nodeRoutes::list);
            cfg.routes.get("/api/v1/nodes/{node}", nodeRoutes::show);
            cfg.routes.delete("/api/v1/nodes/{node}", nodeRoutes::remove);
            cfg.routes.post("/api/v1/nodes/{node}/owner", nodeRoutes::assign);
            cfg.routes.post("/api/v1/join-tokens", tokenRoutes::create);
            cfg.routes.get("/api/v1/join-tokens", tokenRoutes::list);
            cfg.routes.delete("/api/v1/join-tokens/{id}", tokenRoutes::revoke);
            cfg.routes.post("/api/v1/nodes/{node}/tasks", taskRoutes::create);
            cfg.routes.get("/api/v1/nodes/{node}/tasks", taskRoutes::list);
            cfg.routes.get("/api/v1/tasks/{id}", taskRoutes::show);
            cfg.routes.post("/api/v1/tasks/{id}/cancel", taskRoutes::cancel);
            cfg.routes.get("/api/v1/tasks/{id}/output", taskRoutes::output);
            cfg.routes.get("/api/v1/tasks/{id}/raw", taskRoutes::raw);
            cfg.routes.post("/api/v1/tasks/raw", taskRoutes::rawPages);
            cfg.routes.post("/api/v1/tasks/{id}/stdin", fwd.byNode(ctx -> {
                Principal by = principal(ctx);
                return nodes.byId(by, tasks.get(by, ctx.pathParam("id")).nodeId());
            }, taskRoutes::stdin));
            cfg.routes.get("/api/v1/nodes/{node}/history", taskRoutes::history);
            cfg.routes.post("/api/v1/runs", runRoutes::create);
            cfg.routes.get("/api/v1/runs", runRoutes::list);
            cfg.routes.get("/api/v1/runs/{id}", runRoutes::show);
            cfg.routes.post("/api/v1/runs/{id}/cancel", runRoutes::cancel);
            cfg.routes.get("/api/v1/nodes/{node}/last-task", taskRoutes::lastTask);
            cfg.routes.get(ProvisioningRoutes.PREFIX + "script", provisioning::script);
            cfg.routes.get(ProvisioningRoutes.PREFIX + "agent", provisioning::agent);
            cfg.routes.post("/api/v1/users", userRoutes::create);
            cfg.routes.get("/api/v1/users", userRoutes::list);
            cfg.routes.get("/api/v1/users/{name}", userRoutes::get);
            cfg.routes.delete("/api/v1/users/{name}", userRoutes::remove);
            cfg.routes.post("/api/v1/users/{name}/grants", userRoutes::grant);
            cfg.routes.delete("/api/v1/users/{name}/grants", userRoutes::revoke);
            cfg.routes.post("/api/v1/users/{name}/token", userRoutes::rotateToken);
            cfg.routes.get("/api/v1/audit", auditRoutes::list);
            cfg.routes.after("/api/*", auditRoutes::after);
            cfg.routes.get("/api/v1/listeners", eventRoutes::list);
            cfg.routes.delete("/api/v1/listeners/{id}", eventRoutes::kill);
            // WebSockets: authenticated and checked before the upgrade (a bad request gets problem+json)
            cfg.routes.wsBeforeUpgrade("/api/*", this::authenticate);
            cfg.routes.wsBeforeUpgrade("/api/v1/events", eventRoutes::checkEvents);
            cfg.routes.ws("/api/v1/events", eventRoutes::events);
            cfg.routes.get("/api/v1/events", EventRoutes::notAnUpgrade);
            cfg.routes.wsBeforeUpgrade("/api/v1/nodes/{node}/history/follow", eventRoutes::checkFollow);
            cfg.routes.ws("/api/v1/nodes/{node}/history/follow", eventRoutes::follow);
            cfg.routes.get("/api/v1/nodes/{node}/history/follow", EventRoutes::notAnUpgrade);
            cfg.routes.wsBeforeUpgrade("/api/v1/nodes/{node}/terminal", sessionRoutes::checkOpen);
            cfg.routes.ws("/api/v1/nodes/{node}/terminal", sessionRoutes::open);
            cfg.routes.get("/api/v1/nodes/{node}/terminal", EventRoutes::notAnUpgrade);
            cfg.routes.wsBeforeUpgrade("/api/v1/sessions/{id}/join", sessionRoutes::checkJoin);
            cfg.routes.ws("/api/v1/sessions/{id}/join", sessionRoutes::join);
            cfg.routes.get("/api/v1/sessions/{id}/join", EventRoutes::notAnUpgrade);
            cfg.routes.put("/api/v1/nodes/{node}/files", fwd.byNode(fileRoutes::write));
            cfg.routes.get("/api/v1/nodes/{node}/files", fwd.byNode(fileRoutes::read));
            cfg.routes.get("/api/v1/nodes/{node}/files/partial", fwd.byNode(fileRoutes::partial));
            cfg.routes.get("/api/v1/nodes/{node}/files/tree", fwd.byNode(fileRoutes::tree));
            cfg.routes.post("/api/v1/nodes/{node}/directories", fwd.byNode(fileRoutes::mkdir));
            cfg.routes.get("/api/v1/transfers/{id}", fileRoutes::transfer);
            cfg.routes.get("/api/v1/sessions", sessionRoutes::list);
            cfg.routes.get("/api/v1/sessions/{id}", sessionRoutes::show);
            cfg.routes.get("/api/v1/sessions/{id}/recording", sessionRoutes::recording);
        });
    }

    /**
     * HTTPS on the API port: TLS 1.2/1.3 from the hub's (replaceable) serving key, so a renewed or
     * reloaded certificate is used from the next handshake on. No client certificates: people and
     * tools authenticate with API tokens. Jetty's SNI host check is off: the certificate names are
     * the client's to verify, and a hub reached by an address it does not certify must still answer
     * a client that chose not to verify it (curl with a pinned key).
     */
    private org.eclipse.jetty.server.Connector tlsConnector(org.eclipse.jetty.server.Server server,
            org.eclipse.jetty.server.HttpConfiguration http, hub.hubd.tls.HubTls t) {
        var ssl = new org.eclipse.jetty.util.ssl.SslContextFactory.Server();
        ssl.setSslContext(hub.tls.HubTrust.serverContext(t.serverKeys()));
        ssl.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        ssl.setSniRequired(false);
        var secure = new org.eclipse.jetty.server.SecureRequestCustomizer(false, false, -1, false);
        http.addCustomizer(secure);
        var connector = new org.eclipse.jetty.server.ServerConnector(server,
                new org.eclipse.jetty.server.SslConnectionFactory(ssl, "http/1.1"),
                new org.eclipse.jetty.server.HttpConnectionFactory(http));
        connector.setHost(bindHost);
        connector.setPort(bindPort);
        return connector;
    }

    /** Binds and starts serving; {@code info} feeds {@code /api/v1/status}. */
    /** Makes this API one hub's of a cluster: internal routes, and requests forwarded to the hub holding a node. */
    public void cluster(hub.hubd.cluster.Cluster c) {
        this.cluster = c;
    }

    public void start(String bind, int port, HubInfo info) {
        this.info = info;
        this.bindHost = bind;
        this.bindPort = port;
        app.start(bind, port);
    }

    /** The bound port. */
    public int port() {
        return app.port();
    }

    static Principal principal(Context ctx) {
        return ctx.attribute(PRINCIPAL);
    }

    /** A request with a body must say it is JSON (stdin: octet-stream): 415 otherwise, before anything reads it. */
    private static void requireJsonBody(Context ctx) {
        String method = ctx.method().name();
        if (!method.equals("POST") && !method.equals("PUT") && !method.equals("PATCH")) {
            return;
        }
        String type = ctx.contentType();
        long length = ctx.contentLength();
        if (length == 0 && (type == null || type.isBlank())) {
            return; // no body at all (cancel, rotate-token)
        }
        String base = type == null ? "" : type.split(";", 2)[0].strip().toLowerCase(java.util.Locale.ROOT);
        boolean file = method.equals("PUT") && ctx.path().endsWith("/files") && ctx.path().startsWith("/api/v1/nodes/");
        if (file || ctx.path().endsWith("/stdin") && ctx.path().startsWith("/api/v1/tasks/")) {
            if (!base.equals("application/octet-stream")) {
                throw new io.javalin.http.HttpResponseException(415, "send " + (file ? "the file" : "stdin")
                        + " as application/octet-stream, not "
                        + (type == null || type.isBlank() ? "without a Content-Type" : "'" + type + "'"));
            }
            return;
        }
        if (!base.equals("application/json")) {
            throw new io.javalin.http.HttpResponseException(415, "send the body as application/json, not "
                    + (type == null || type.isBlank() ? "without a Content-Type" : "'" + type + "'"));
        }
    }

    private void authenticate(Context ctx) {
        if (ctx.path().startsWith(ProvisioningRoutes.PREFIX)) {
            return; // a join token (the script) or nothing (the public agent artifact)
        }
        ctx.attribute(PRINCIPAL, apiTokens.authenticate(ctx.header("Authorization")));
    }

    private void readyz(Context ctx) {
        if (ready.getAsBoolean()) {
            ctx.json(java.util.Map.of("status", "ready"));
        } else {
            new ApiErrors(mapper).write(ctx, ApiErrors.problem("not-ready", 503,
                    "hub is starting or stopping", null));
        }
    }

    private void status(Context ctx) {
        Principal p = principal(ctx);
        HubInfo i = info;
        TlsJson t = tls == null ? new TlsJson("off", null, null)
                : new TlsJson(tls.mode(), tls.caPin(), tls.servingExpiresAt());
        int total;
        int online;
        if (p.seesAllNodes() && !nodes.clustered()) {
            total = registry.size();
            online = registry.onlineCount();
        } else {
            // Only what the caller may see: one query of its nodes, merged with live state.
            var mine = nodes.list(p, new NodeDirectory.Filter(null, null));
            total = mine.size();
            online = (int) mine.stream().filter(v -> v.status() == NodeStatus.ONLINE).count();
        }
        ctx.json(new ApiJson.StatusJson(i.version(), i.hubId(), i.startedAt(), total, online, p.user(),
                p.role().wireName(), i.agentPort(), t, advertise));
    }

    /** {@code ?status=} and {@code ?label=} as a directory filter. */
    static NodeDirectory.Filter filter(Context ctx) {
        String status = ctx.queryParam("status");
        String label = ctx.queryParam("label");
        return new NodeDirectory.Filter(status == null ? null : NodeStatus.parse(status),
                label == null ? null : hub.hubd.core.Selector.parse(label));
    }

    @Override
    public void close() {
        forwarder.close();
        eventRoutes.close();
        sessionRoutes.close();
        try {
            app.stop();
        } catch (RuntimeException e) {
            // Jetty stopped anyway; what was still running was cut off. The rest of the hub must
            // still stop (node writes flushed, database closed), so this is said, not thrown.
            org.slf4j.LoggerFactory.getLogger(HttpApi.class).warn(
                    "HTTP stopped with {} request(s) still running after {} s, cut off: {} ({})", inFlight.count(),
                    STOP_TIMEOUT.toSeconds(), inFlight.describe(8), e.toString());
        }
        if (headerDeadline != null) {
            headerDeadline.close();
        }
    }
}

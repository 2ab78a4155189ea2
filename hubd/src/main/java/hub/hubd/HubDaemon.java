package hub.hubd;

import hub.hubd.api.EventJson;
import hub.hubd.api.HttpApi;
import hub.hubd.auth.ApiTokens;
import hub.hubd.auth.JoinTokens;
import hub.hubd.auth.Users;
import hub.hubd.config.HubConfig;
import hub.hubd.core.Ids;
import hub.hubd.grpc.AgentGrpcServer;
import hub.hubd.events.EventBus;
import hub.hubd.history.HistoryStore;
import hub.hubd.redis.RedisConnection;
import hub.hubd.store.JdbcHistoryStore;
import hub.hubd.store.JdbcTaskRepository;
import hub.hubd.tasks.TaskIngest;
import hub.hubd.tasks.TaskService;
import hub.hubd.registry.LivenessMonitor;
import hub.hubd.registry.NodeDirectory;
import hub.hubd.registry.NodeJoiner;
import hub.hubd.registry.NodeRegistry;
import hub.hubd.registry.OfflineReason;
import hub.hubd.registry.WriteBehindWriter;
import hub.hubd.store.Database;
import hub.hubd.store.JdbcJoinTokenRepository;
import hub.hubd.store.JdbcNodeRepository;
import hub.hubd.store.JdbcUserRepository;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: builds the whole hub from a {@link HubConfig} with constructors, starts
 * it in dependency order and stops it in reverse. Nothing else in hubd news up a component.
 */
public final class HubDaemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HubDaemon.class);

    private final HubConfig config;
    private final String hubId = Ids.newId();
    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Database db;
    private final NodeRegistry registry;
    private final WriteBehindWriter writer;
    private final LivenessMonitor liveness;
    private final NodeJoiner joiner;
    private final RedisConnection redis;
    private final TaskIngest ingest;
    private final AgentGrpcServer grpc;
    private final HttpApi http;
    private final hub.hubd.audit.AuditLog audit;
    private final hub.hubd.runs.RunService runs;
    private final TaskService tasks;
    /** Removes long-offline nodes ({@code --node-expiry}); null when off. */
    private final java.util.concurrent.ScheduledExecutorService expiry;
    private final EventBus events;
    private final hub.hubd.tasks.RawOutput rawOutput;
    private final hub.hubd.sessions.SessionService sessions;
    private final hub.hubd.files.FileRelay files;
    private final hub.hubd.store.JdbcRecordingStore recordings;
    private final hub.hubd.tls.HubTls tls;
    /** This hub as one of several, or null for a single hub. */
    private final hub.hubd.cluster.Cluster cluster;
    /** The cluster's event stream, or null for one hub. */
    private final hub.hubd.cluster.ClusterEvents clusterEvents;
    private volatile boolean ready;
    private volatile boolean closed;

    private final DataDirLock lock;

    private HubDaemon(HubConfig config) {
        this.config = config;
        Clock clock = Clock.systemUTC();
        createDataDir(config.dataDir());
        this.lock = DataDirLock.take(config.dataDir());
        if (config.dbUrl() == null || config.dbUrl().isBlank()) {
            DataDirLock.privateDatabase(config.dataDir().resolve("hub.db"));
        }
        try {
            this.tls = config.tls().plaintext() ? null : hub.hubd.tls.HubTls.start(new hub.hubd.tls.HubTls.Settings(
                    config.tlsDir(), config.advertise(), config.tls().certFile(), config.tls().keyFile(),
                    config.tls().clientCaFile(), config.tls().nodeCertTtl(), config.tls().checkInterval()), clock);
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
        if (tls == null) {
            log.warn("TLS is OFF (--insecure-plaintext): API tokens, join tokens, node credentials and task output "
                    + "cross the network in clear text. Use this in a lab only.");
        }
        try {
            this.db = Database.open(config.effectiveDbUrl());
        } catch (RuntimeException e) {
            closeTls();
            lock.close();
            throw e;
        }
        try {
            var userRepo = new JdbcUserRepository(db);
            var nodeRepo = new JdbcNodeRepository(db);
            var grants = hub.hubd.auth.Grants.of(userRepo.grants());
            var apiTokens = new ApiTokens(userRepo, clock, grants);
            this.registry = new NodeRegistry(clock, System::nanoTime, config.heartbeatInterval());
            HubConfig.Events ev = config.events();
            this.events = new EventBus(new EventBus.Options(ev.ringSize(), ev.ringAge(), ev.queue()), clock,
                    new EventJson(), registry::info, metrics, previousLastSeq(config.dataDir()));
            registry.publishTo(events);
            var joinTokens = new JoinTokens(new JdbcJoinTokenRepository(db), clock, events);
            apiTokens.bootstrapAdmin(config.dataDir().resolve("admin.token"));
            boolean clustered = config.cluster().enabled();
            registry.load(nodeRepo.loadAll(), clustered);
            this.writer = new WriteBehindWriter(registry, nodeRepo, metrics);
            this.liveness = new LivenessMonitor(registry, metrics);
            this.joiner = new NodeJoiner(nodeRepo, registry, tls == null, clock, metrics);
            this.redis = config.usesRedis()
                    ? new RedisConnection(config.redisUrl(), config.cluster().redisConfig(),
                            config.cluster().redisPrefix()) : null;
            this.cluster = clustered ? new hub.hubd.cluster.Cluster(redis.client(), redis.prefix(), hubId, registry,
                    nodeRepo, userRepo, grants, events, clock, presenceTtl(config.heartbeatInterval()),
                    tls == null ? null : tls.trustAnchor(), metrics) : null;
            if (cluster != null && tls != null) {
                cluster.requireCa(tls.caPin());
            }
            if (cluster != null) {
                this.clusterEvents = new hub.hubd.cluster.ClusterEvents(redis.client(), redis.prefix(), hubId, events,
                        cluster.presence(), ev.ringSize(), metrics);
                cluster.eventsCarryPresence();
                cluster.heartbeats(events);
            } else {
                this.clusterEvents = null;
            }
            hub.hubd.core.Exclusive exclusive = cluster != null ? cluster : hub.hubd.core.Exclusive.LOCAL;
            HistoryStore history = redis != null
                    ? redis.historyStore(config.historyMaxLines(), config.historyMaxBytes())
                    : new JdbcHistoryStore(db, config.historyMaxLines(), config.historyMaxBytes());
            // A removed node loses its history, and its unfinished tasks fail (ingest is built
            // below; a node can only be removed through the API, which starts after this).
            this.rawOutput = new hub.hubd.tasks.RawOutput(new hub.hubd.store.JdbcTaskOutputStore(db), clock,
                    config.taskOutput().retention(), config.taskOutput().maxBytesPerNode(), metrics);
            NodeDirectory directory = new NodeDirectory(nodeRepo, registry, nodeId -> {
                nodeRemoved(history, nodeId);
                if (cluster != null) {
                    cluster.nodeRemoved(nodeId);
                }
            });
            if (cluster != null) {
                directory.locateWith(cluster.presence());
            }
            JdbcTaskRepository taskRepo = new JdbcTaskRepository(db);
            TaskService tasks = this.tasks = new TaskService(taskRepo, directory, registry, history, clock, events, metrics);
            this.ingest = new TaskIngest(history, taskRepo, tasks, clock, metrics, events, rawOutput);
            if (cluster != null) {
                cluster.tasks(tasks);
                rawOutput.resyncEvery(Duration.ofSeconds(10)); // readers release through any hub
            }
            this.files = new hub.hubd.files.FileRelay(registry, metrics);
            if (cluster != null) {
                files.share(cluster.transferOutcomes()); // a copy's outcome is read on any hub
            }
            this.grpc = new AgentGrpcServer(config.bind(), config.grpcPort(), registry, joiner, ingest, files, hubId,
                    tls, metrics);
            var users = new Users(userRepo, clock, new Users.Revocations() {
                @Override
                public void tokensRevoked(java.util.List<String> tokenIds, String reason) {
                    tokenIds.forEach(t -> events.endForToken(t, reason));
                    if (cluster != null) {
                        cluster.tokensRevoked(tokenIds, reason);
                    }
                }

                @Override
                public void userRemoved(String userId, String reason) {
                    events.endForUser(userId, reason);
                    if (cluster != null) {
                        cluster.userChanged(userId, true, reason);
                    }
                }

                @Override
                public void nodesReassigned(java.util.List<String> nodeIds, String ownerId) {
                    directory.reassigned(nodeIds, ownerId);
                    if (cluster != null) {
                        nodeIds.forEach(id -> cluster.nodeOwner(id, ownerId));
                    }
                }

                @Override
                public void grantsChanged(String userId, String reason) {
                    events.endForUser(userId, hub.hubd.events.CloseCodes.ACCESS_CHANGED, reason);
                    if (cluster != null) {
                        cluster.userChanged(userId, false, reason);
                    }
                }
            }, grants);
            this.audit = new hub.hubd.audit.AuditLog(new hub.hubd.store.JdbcAuditRepository(db), clock,
                    config.auditRetention(), metrics);
            var auditLog = this.audit;
            this.expiry = config.nodeExpiry().isZero() ? null : startExpiry(directory, auditLog, clock,
                    config.nodeExpiry(), exclusive);
            audit.exclusive(exclusive);
            if (cluster != null) {
                audit.sequences(floor -> cluster.next("audit", floor)); // one audit table, several writers
            }
            joiner.onJoined((node, from) -> {
                if (cluster != null) {
                    cluster.nodeJoined(node.id());
                }
                auditLog.recordLater(new hub.hubd.audit.AuditLog.Actor(
                    node.view().info().owner(), users.nameOf(node.view().info().owner()), null, from),
                    "node.join", node.view().info().name(), node.id(),
                    "labels " + node.view().info().labels(), 200);
            });
            this.runs = new hub.hubd.runs.RunService(new hub.hubd.store.JdbcRunRepository(db), directory, tasks, clock,
                    userId -> userRepo.findById(userId).map(u -> new hub.hubd.auth.Principal(u.id(), u.name(), u.role(),
                            null, grants.of(u.id()))));
            var recordings = new hub.hubd.store.JdbcRecordingStore(db);
            this.recordings = recordings;
            this.sessions = new hub.hubd.sessions.SessionService(tasks, directory, registry, recordings, audit, clock,
                    config.sessions(), metrics);
            ingest.terminals(sessions);
            sessions.exclusive(exclusive);
            if (cluster != null) {
                cluster.handlers(new hub.hubd.cluster.Cluster.Handlers() {
                    @Override
                    public void nodeRemoved(String nodeId) {
                        ingest.nodeRemoved(nodeId);
                        sessions.nodeRemoved(nodeId);
                    }

                    @Override
                    public void tokensRevoked(java.util.List<String> tokenIds, String reason) {
                        tokenIds.forEach(t -> events.endForToken(t, reason));
                    }

                    @Override
                    public void userChanged(String userId, boolean removed, String reason) {
                        if (removed) {
                            events.endForUser(userId, reason);
                        } else {
                            events.endForUser(userId, hub.hubd.events.CloseCodes.ACCESS_CHANGED, reason);
                        }
                    }
                });
            }
            this.http = new HttpApi(apiTokens, users, joinTokens, directory, registry, tasks, history, events,
                    ev.pingInterval(), hub.hubd.provisioning.AgentArtifact.of(config.agentArtifact()), metrics,
                    () -> ready, tls, config.advertise(), audit, runs, rawOutput, sessions, recordings, files);
            http.cluster(cluster);
            new JvmMemoryMetrics().bindTo(metrics);
            new JvmThreadMetrics().bindTo(metrics);
            Gauge.builder("hub_nodes_online", registry, NodeRegistry::onlineCount).register(metrics);
            Gauge.builder("hub_nodes_known", registry, NodeRegistry::size).register(metrics);
        } catch (RuntimeException e) {
            closeRedis();
            db.close();
            closeTls();
            lock.close();
            throw e;
        }
    }

    /** How long a hub of a cluster keeps its nodes without renewing its lease: 3 heartbeats, at least 1 s. */
    static Duration presenceTtl(Duration heartbeat) {
        Duration three = heartbeat.multipliedBy(3);
        return three.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : three;
    }

    /** This hub's id: new at each start, so a restarted hub is never taken for the one that stopped. */
    public String hubId() {
        return hubId;
    }

    private void closeTls() {
        if (tls != null) {
            tls.close();
        }
    }

    /** The hub's TLS material, or {@code null} with {@code --insecure-plaintext} (tests, diagnostics). */
    public hub.hubd.tls.HubTls tls() {
        return tls;
    }

    private void nodeRemoved(HistoryStore history, String nodeId) {
        history.delete(nodeId);
        ingest.nodeRemoved(nodeId);
        rawOutput.nodeRemoved(nodeId);
        sessions.nodeRemoved(nodeId);
    }

    private void closeRedis() {
        if (redis != null) {
            redis.close();
        }
    }

    /**
     * Builds and starts a hub. On failure everything already started is stopped again.
     *
     * @throws RuntimeException when the database cannot be opened or a port cannot be bound
     */
    public static HubDaemon start(HubConfig config) {
        HubDaemon d = new HubDaemon(config);
        try {
            if (d.clusterEvents != null) {
                d.clusterEvents.start(); // before any agent connects: its events go through the cluster
            }
            d.writer.start();
            d.rawOutput.start();
            d.sessions.start();
            d.liveness.start();
            d.joiner.start();
            d.grpc.start();
            // Runs a stop left running go on once their agents had time to reconnect. The last
            // stop's Drain asked the fleet to come back spread over a window sized to it: a node of
            // a resumed run is taken for offline only once that window and two heartbeats have
            // passed (online ones start as soon as there is room), or it would report late
            // reconnecters offline.
            Duration grace = d.registry.reconnectWindow().plus(config.heartbeatInterval().multipliedBy(2));
            if (d.cluster != null) {
                d.cluster.runs(d.runs, grace); // claimed as the hub joins, or as it finds a hub lost
            } else {
                d.runs.resume(grace);
            }
            d.http.start(config.bind(), config.httpPort(),
                    new HttpApi.HubInfo(version(), d.hubId, Instant.now(), d.grpc.port()));
            if (d.cluster != null) {
                String host = config.advertise().get(0);
                String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
                d.cluster.start(h + ":" + d.grpc.port(), (d.tls == null ? "http://" : "https://") + h + ":"
                        + d.http.port());
            }
            d.ready = true;
            log.info("hubd {} ready: agents on {}:{}, {} on {}:{}, data in {}", version(), config.bind(),
                    d.grpc.port(), d.tls == null ? "HTTP (plain text)" : "HTTPS", config.bind(), d.http.port(),
                    config.dataDir().toAbsolutePath());
            return d;
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    /** hubd's version, from the jar manifest ({@code dev} when run from classes). */
    public static String version() {
        String v = HubDaemon.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    public int grpcPort() {
        return grpc.port();
    }

    public int httpPort() {
        return http.port();
    }

    public HubConfig config() {
        return config;
    }

    /** The event bus, for tests and diagnostics. */
    public EventBus events() {
        return events;
    }

    /** The live registry, for tests and diagnostics. */
    public NodeRegistry registry() {
        return registry;
    }

    /** The bootstrap admin's API token, read from the data dir. */
    public String adminToken() {
        try {
            return Files.readString(config.dataDir().resolve("admin.token")).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Every so often (half the expiry, at most a minute) removes the nodes offline for longer than
     * {@code after}, each as an audit entry {@code node.expire}.
     */
    private static java.util.concurrent.ScheduledExecutorService startExpiry(NodeDirectory directory,
            hub.hubd.audit.AuditLog audit, java.time.Clock clock, java.time.Duration after,
            hub.hubd.core.Exclusive exclusive) {
        var s = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                hub.hubd.core.Threads.daemons("node-expiry", false));
        long every = Math.max(1000, Math.min(60_000, after.toMillis() / 2));
        s.scheduleWithFixedDelay(() -> exclusive.run("node-expiry", () -> {
            try {
                for (var v : directory.expire(clock.instant().minus(after))) {
                    log.info("removed node {} ({}): offline for longer than {}", hub.hubd.core.LogText.safe(
                            v.info().name()), v.info().id(), after);
                    audit.record(hub.hubd.audit.AuditLog.Actor.HUB, "node.expire", v.info().name(), v.info().id(),
                            "offline since " + v.lastSeen(), 200);
                }
            } catch (hub.hubd.core.StoreException e) {
                hub.hubd.core.StoreFaults.report(log, "removing expired nodes", e, null);
            } catch (RuntimeException e) {
                log.error("removing expired nodes failed", e);
            }
        }), every, every, java.util.concurrent.TimeUnit.MILLISECONDS);
        return s;
    }

    /**
     * Stops the hub: not ready, every online node marked offline ({@code hub restart}) and told
     * to drain, gRPC closed within the grace period, HTTP stopped, pending node writes flushed,
     * database closed. Safe to call twice.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        ready = false;
        Duration grace = config.shutdownGrace();
        sessions.close(); // clients told, agents asked to end them, before the streams drain
        files.close(); // transfers in progress fail; their clients resume against the next hub
        java.util.List<String> others = cluster != null ? cluster.otherHubs() : java.util.List.of();
        int drained = registry.drainAll(OfflineReason.HUB_RESTART, others);
        log.info("stopping: asked {} agents to drain{}", drained, others.isEmpty() ? "" : " to " + others);
        liveness.close();
        if (clusterEvents != null) {
            clusterEvents.close(); // the drain's offline events reach the other hubs' subscribers
        }
        if (cluster != null) {
            cluster.close(); // the drain's releases written and the lease dropped: other hubs see it now
        }
        if (expiry != null) {
            expiry.shutdownNow();
        }
        grpc.shutdown(grace);
        joiner.close();
        events.close();
        recordLastSeq(config.dataDir(), events.lastSeq());
        http.close();
        runs.close();
        tasks.close();
        audit.close();
        ingest.close();
        rawOutput.close();
        closeRedis();
        writer.close();
        if (!writer.flush(grace)) {
            log.warn("stopping with {} node writes not flushed (database unavailable)", registry.dirtyCount());
        }
        db.close();
        closeTls();
        metrics.close();
        lock.close();
        log.info("stopped");
    }

    /** Where a clean stop records the last event sequence, so listeners resuming across it are told the truth. */
    private static final String LAST_SEQ_FILE = "events.last-seq";

    /**
     * The last event sequence of the previous run, if it stopped cleanly (-1 otherwise). The record
     * is removed once read: after a crash of this run, the next one must not trust it.
     */
    private static long previousLastSeq(Path dataDir) {
        Path f = dataDir.resolve(LAST_SEQ_FILE);
        try {
            if (!Files.exists(f)) {
                return -1;
            }
            String text = Files.readString(f).trim();
            Files.delete(f);
            return Long.parseLong(text);
        } catch (IOException | NumberFormatException e) {
            log.warn("ignoring {}: {}", f, e.getMessage());
            return -1;
        }
    }

    private static void recordLastSeq(Path dataDir, long seq) {
        try {
            Files.writeString(dataDir.resolve(LAST_SEQ_FILE), seq + "\n");
        } catch (IOException e) {
            log.warn("cannot record the last event sequence: {}", e.getMessage());
        }
    }

    private static void createDataDir(Path dir) {
        try {
            if (!Files.isDirectory(dir)) {
                // The database holds token hashes and the admin token file sits here: owner only.
                Files.createDirectories(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create data dir " + dir + ": " + e.getMessage(), e);
        }
    }
}

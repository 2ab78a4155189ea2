package hub.hubd.cluster;

import hub.hubd.auth.Grants;
import hub.hubd.auth.UserRepository;
import hub.hubd.core.Exclusive;
import hub.hubd.core.LogText;
import hub.hubd.core.StoreException;
import hub.hubd.core.StoreFaults;
import hub.hubd.core.Threads;
import hub.hubd.events.Event;
import hub.hubd.events.EventPublisher;
import hub.hubd.registry.NodeInfo;
import hub.hubd.registry.NodeRegistry;
import hub.hubd.registry.NodeRepository;
import hub.hubd.registry.OfflineReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.redisson.api.RLock;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.client.RedisException;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This hub as one of several on a shared PostgreSQL and Redis: its presence (which nodes it
 * holds), the sweep of hubs that were lost, a bus on which hubs tell each other what changed in
 * memory (a node removed or given away, grants, revoked tokens), the periodic reconcile with the
 * database that repairs a missed message, and the locks that keep the singletons (expiry,
 * retention, the lost-hub sweep) to one hub at a time.
 *
 * <p>Threads: one for presence rounds and sweeps (Redis only), one for database work (adopting
 * nodes, marking lost ones offline, reconciling), so a slow database never delays a lease.
 */
public final class Cluster implements Exclusive, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Cluster.class);
    /** How often the node set and grants are read again from the database. */
    static final Duration RECONCILE_EVERY = Duration.ofSeconds(30);

    private final RedissonClient redis;
    private final String prefix;
    private final Presence presence;
    private final NodeRegistry registry;
    private final NodeRepository nodes;
    private final UserRepository users;
    private final Grants grants;
    private final EventPublisher events;
    private final Clock clock;
    private final RTopic bus;
    private final ScheduledExecutorService timer;
    private final ExecutorService dbWork;
    private final Counter lostNodes;
    private volatile Handlers handlers = Handlers.NONE;
    private final RelayClient relay;
    private volatile hub.hubd.tasks.TaskService tasks;
    /** The live hubs by id, read again when one is missing or the copy is a second old. */
    private volatile Map<String, Presence.HubInfo> hubInfos = Map.of();
    private volatile long hubInfosAtMillis;
    private volatile boolean closed;
    private int busListener = -1;

    /** What this hub does when another tells it of a change. */
    public interface Handlers {
        Handlers NONE = new Handlers() {
        };

        /** Another hub removed the node: it is forgotten here (after the registry forgot it). */
        default void nodeRemoved(String nodeId) {
        }

        /** Another hub revoked these API tokens. */
        default void tokensRevoked(List<String> tokenIds, String reason) {
        }

        /** Another hub removed the user, or changed its grants. */
        default void userChanged(String userId, boolean removed, String reason) {
        }
    }

    /**
     * @param ttl the presence lease: a hub silent this long is lost, and its nodes go offline
     */
    public Cluster(RedissonClient redis, String prefix, String hubId, NodeRegistry registry, NodeRepository nodes,
            UserRepository users, Grants grants, EventPublisher events, Clock clock, Duration ttl,
            java.security.cert.X509Certificate ca, MeterRegistry metrics) {
        this.redis = redis;
        this.prefix = prefix;
        this.registry = registry;
        this.nodes = nodes;
        this.users = users;
        this.grants = grants;
        this.events = events;
        this.clock = clock;
        this.presence = new Presence(redis, prefix, new Presence.HubInfo(hubId, "", ""), clock, ttl,
                registry::heldIds, metrics);
        this.bus = redis.getTopic(prefix + "bus", StringCodec.INSTANCE);
        this.relay = new RelayClient(ca, relaySecret(redis, prefix));
        this.timer = Executors.newSingleThreadScheduledExecutor(Threads.daemons("cluster-presence", false));
        this.dbWork = Executors.newSingleThreadExecutor(Threads.daemons("cluster-db", false));
        this.lostNodes = Counter.builder("hub_cluster_lost_nodes_total")
                .description("nodes this hub marked offline because the hub holding them was lost").register(metrics);
        Gauge.builder("hub_cluster_hubs", this, c -> c.liveHubCount()).description("hubs of the cluster with a lease")
                .register(metrics);
        registry.onPresence(new NodeRegistry.PresenceListener() {
            @Override
            public void held(String nodeId) {
                if (!eventsCarryPresence) {
                    presence.held(nodeId);
                } // else the node's online event takes its presence entry, in the same script
            }

            @Override
            public void released(String nodeId) {
                presence.released(nodeId);
            }
        });
        registry.adoptWith(this::adopt);
    }

    private volatile int liveHubs;
    private volatile boolean eventsCarryPresence;

    /** The cluster's events write a node's presence with its online event ({@link ClusterEvents}). */
    public void eventsCarryPresence() {
        this.eventsCarryPresence = true;
    }

    private int liveHubCount() {
        return liveHubs;
    }

    /**
     * Refuses a hub whose CA is not the cluster's: agents pin one CA, and a node certificate signed
     * by one hub must be accepted by every other. The first hub's pin is the cluster's.
     *
     * @throws IllegalStateException when this hub's CA differs
     */
    public void requireCa(String pin) {
        var b = redis.<String>getBucket(prefix + "ca-pin", StringCodec.INSTANCE);
        if (!b.setIfAbsent(pin)) {
            String cluster = b.get();
            if (cluster != null && !cluster.equals(pin)) {
                throw new IllegalStateException("this hub's CA (" + pin + ") is not the cluster's (" + cluster
                        + "): every hub of a cluster needs the same CA. Copy tls/ca.crt and tls/ca.key from the "
                        + "data dir of a hub of the cluster into this hub's, and delete its tls/hub.crt and "
                        + "tls/hub.key, before starting it");
            }
        }
    }

    /** The cluster's relay secret: made by the first hub, read by the others. */
    private static String relaySecret(RedissonClient redis, String prefix) {
        var b = redis.<String>getBucket(prefix + "relay-secret", StringCodec.INSTANCE);
        b.setIfAbsent(hub.hubd.core.Ids.newSecret("hubrelay_"));
        return b.get();
    }

    /** The client for hub-to-hub calls, with the cluster's secret. */
    public RelayClient relay() {
        return relay;
    }

    /** Whether {@code header} carries the cluster's relay secret (compared in constant time). */
    public boolean isRelay(String header) {
        return header != null && java.security.MessageDigest.isEqual(
                header.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                relay.secret().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** A live hub by id, or null when it has no lease. */
    public Presence.HubInfo hub(String id) {
        Map<String, Presence.HubInfo> m = hubInfos;
        if (!m.containsKey(id) || clock.millis() - hubInfosAtMillis > 1000) {
            Map<String, Presence.HubInfo> fresh = new java.util.HashMap<>();
            presence.liveHubs().forEach(h -> fresh.put(h.id(), h));
            hubInfos = m = fresh;
            hubInfosAtMillis = clock.millis();
        }
        return m.get(id);
    }

    /**
     * Sends the tasks this hub makes for nodes other hubs hold through those hubs, and tells the
     * others when a task ends here.
     */
    public void tasks(hub.hubd.tasks.TaskService t) {
        this.tasks = t;
        t.remote(new hub.hubd.tasks.TaskService.Remote() {
            @Override
            public Map<String, hub.hubd.registry.NodeSession> sessions(java.util.Collection<String> nodeIds) {
                Map<String, hub.hubd.registry.NodeSession> out = new java.util.HashMap<>();
                presence.holders(nodeIds).forEach((node, hubId) -> {
                    if (!hubId.equals(presence.localHub())) {
                        Presence.HubInfo h = hub(hubId);
                        if (h != null && !h.apiUrl().isEmpty()) {
                            out.put(node, new RemoteSession(h, relay));
                        }
                    }
                });
                return out;
            }

            @Override
            public void ended(String nodeId, String taskId, hub.hubd.tasks.TaskState state, Integer exitCode,
                    String error) {
                send("task-ended " + taskId + " " + state.name() + " " + (exitCode == null ? "-" : exitCode)
                        + " " + (error == null ? "" : error));
            }
        });
    }

    private volatile hub.hubd.runs.RunService runs;
    private volatile Duration runsDelay = Duration.ZERO;

    /**
     * Follows runs one hub at a time: the hub that makes a run follows it, recorded in Redis
     * ({@code runs}: run id to hub id) before the run is stored; the runs of a hub that was lost
     * (and of this hub's last start) are taken over by the hub that next claims them, under the
     * cluster lock; what clients ask of a run on another hub is passed to the one following it.
     *
     * @param delay how long a run taken over waits before starting more nodes (their agents
     *              reconnect meanwhile)
     */
    public void runs(hub.hubd.runs.RunService r, Duration delay) {
        this.runs = r;
        this.runsDelay = delay;
        var owners = redis.<String, String>getMap(prefix + "runs", StringCodec.INSTANCE);
        r.owners(new hub.hubd.runs.RunService.Owners() {
            @Override
            public void own(String runId) {
                owners.fastPut(runId, presence.localHub());
            }

            @Override
            public void ended(String runId) {
                try {
                    owners.fastRemove(runId);
                } catch (RedisException e) { // a stale entry is dropped by the next claim
                    log.warn("run {}: cannot drop its follower entry: {}", runId, e.getMessage());
                }
            }

            @Override
            public boolean ask(String runId, String op, String byId, Map<String, Object> fields) {
                String hubId = owners.get(runId);
                Presence.HubInfo h = hubId == null || hubId.equals(presence.localHub()) ? null : hub(hubId);
                if (h == null || h.apiUrl().isEmpty()) {
                    return false;
                }
                Map<String, Object> body = new java.util.HashMap<>(fields);
                body.put("by", byId);
                String json;
                try {
                    json = JSON.writeValueAsString(body);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
                relay.call(h.apiUrl(), "/internal/v1/runs/" + runId + "/" + op, json);
                return true;
            }

            @Override
            public boolean follows(String runId) {
                return presence.localHub().equals(owners.get(runId));
            }

            @Override
            public void follow(String taskId, String nodeId) {
                var t = tasks;
                if (t != null) {
                    t.follow(taskId, nodeId);
                }
            }
        });
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    /**
     * Takes over the runs no live hub follows (their hub was lost, or it was this hub's previous
     * start), under the cluster lock so one hub takes each. Database thread.
     */
    void claimRuns() {
        var r = runs;
        if (r == null || closed) {
            return;
        }
        try {
            run("runs", () -> {
                List<String> unfinished = r.unfinishedIds();
                var owners = redis.<String, String>getMap(prefix + "runs", StringCodec.INSTANCE);
                Map<String, String> all = owners.readAllMap();
                java.util.Set<String> live = new java.util.HashSet<>();
                presence.liveHubs().forEach(h -> live.add(h.id()));
                live.add(presence.localHub());
                List<String> mine = new java.util.ArrayList<>();
                for (String id : unfinished) {
                    String o = all.get(id);
                    if (o == null || !live.contains(o)) {
                        owners.fastPut(id, presence.localHub());
                        mine.add(id);
                    }
                }
                java.util.Set<String> open = new java.util.HashSet<>(unfinished);
                all.forEach((id, o) -> {
                    if (!open.contains(id) && !live.contains(o)) {
                        owners.fastRemove(id); // a lost hub's entry for a run that ended
                    }
                });
                if (!mine.isEmpty()) {
                    r.adopt(mine, runsDelay);
                }
            });
        } catch (StoreException | RedisException e) {
            StoreFaults.failed(log, "taking over the runs of lost hubs (retried)", e instanceof StoreException se ? se
                    : new StoreException(e.getMessage(), e));
        }
    }

    private volatile boolean heartbeatsWantedElsewhere;

    /**
     * Heartbeat events are published only while someone subscribes to them; in a cluster, a hub
     * whose subscriber wants them says so in Redis ({@code heartbeat-listeners}: hub id scored by
     * when the entry ends), so every hub publishes its nodes' heartbeats then.
     */
    public void heartbeats(hub.hubd.events.EventBus bus) {
        var z = redis.<String>getScoredSortedSet(prefix + "heartbeat-listeners", StringCodec.INSTANCE);
        long every = Math.max(100, presence.ttl().toMillis() / 3);
        timer.scheduleWithFixedDelay(() -> {
            try {
                long now = clock.millis();
                boolean here = bus.heartbeatsWantedHere();
                if (here) {
                    z.add(now + presence.ttl().toMillis() * 3, presence.localHub());
                } else {
                    z.remove(presence.localHub());
                }
                z.removeRangeByScore(0, true, now, true);
                heartbeatsWantedElsewhere = z.size() > (here ? 1 : 0);
            } catch (RedisException e) {
                log.debug("heartbeat listeners not read: {}", e.getMessage());
            }
        }, 0, every, TimeUnit.MILLISECONDS);
        bus.heartbeatsWantedElsewhere(() -> heartbeatsWantedElsewhere);
    }

    /** Transfer outcomes in Redis ({@code transfer:ID}, expiring), readable on every hub. */
    public hub.hubd.files.FileRelay.Outcomes transferOutcomes() {
        return new hub.hubd.files.FileRelay.Outcomes() {
            @Override
            public void put(hub.hubd.files.FileRelay.Finished f, Duration keep) {
                try {
                    redis.<String>getBucket(prefix + "transfer:" + f.id(), StringCodec.INSTANCE)
                            .set(JSON.writeValueAsString(f), keep);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public java.util.Optional<hub.hubd.files.FileRelay.Finished> get(String id) {
                String json;
                try {
                    json = redis.<String>getBucket(prefix + "transfer:" + id, StringCodec.INSTANCE).get();
                } catch (RedisException e) {
                    return java.util.Optional.empty();
                }
                try {
                    return json == null ? java.util.Optional.empty()
                            : java.util.Optional.of(JSON.readValue(json, hub.hubd.files.FileRelay.Finished.class));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    log.warn("transfer {}: its shared outcome is not readable: {}", LogText.safe(id), e.getMessage());
                    return java.util.Optional.empty();
                }
            }
        };
    }

    /** Where this hub acts on what other hubs tell it. */
    public void handlers(Handlers h) {
        this.handlers = h;
    }

    /** This hub's presence: where each node's stream is held. */
    public Presence presence() {
        return presence;
    }

    /**
     * Joins: announces where agents and API clients reach this hub, and starts the presence rounds,
     * the lost-hub sweep, the bus and the reconcile.
     */
    public void start(String grpcAddress, String apiUrl) {
        presence.announce(new Presence.HubInfo(presence.localHub(), grpcAddress, apiUrl));
        if (!presence.flush()) {
            log.warn("cannot write this hub's presence yet; retrying every round");
        }
        busListener = bus.addListener(String.class, (channel, msg) -> dbWork.execute(() -> onMessage(msg)));
        dbWork.execute(this::claimRuns); // what this hub's last start, or a lost hub, left running
        timer.scheduleWithFixedDelay(this::round, 50, 50, TimeUnit.MILLISECONDS);
        long sweepEvery = Math.max(100, presence.ttl().toMillis() / 3);
        timer.scheduleWithFixedDelay(this::sweepLost, sweepEvery, sweepEvery, TimeUnit.MILLISECONDS);
        long reconcile = RECONCILE_EVERY.toMillis();
        timer.scheduleWithFixedDelay(() -> dbWork.execute(this::reconcile), reconcile, reconcile,
                TimeUnit.MILLISECONDS);
        log.info("joined cluster as hub {} (agents: {}, API: {}); presence lease {}", presence.localHub(),
                grpcAddress, apiUrl, presence.ttl());
    }

    private void round() {
        if (!closed && presence.due()) {
            presence.flush();
        }
    }

    /** One sweep of lost hubs, under the cluster-wide lock. */
    private void sweepLost() {
        if (closed) {
            return;
        }
        try {
            run("lost-hubs", () -> {
                Presence.Lost lost = presence.sweep();
                liveHubs = presence.liveHubs().size();
                if (!lost.isEmpty()) {
                    log.warn("hubs {} stopped renewing their presence: {} of their nodes go offline ({})",
                            lost.hubs(), lost.nodeToHub().size(), OfflineReason.HUB_LOST);
                    dbWork.execute(() -> markLost(lost));
                    dbWork.execute(this::claimRuns);
                }
            });
        } catch (StoreException | RedisException e) {
            StoreFaults.failed(log, "sweeping lost hubs (retried)", e instanceof StoreException se ? se
                    : new StoreException(e.getMessage(), e));
        }
    }

    private void markLost(Presence.Lost lost) {
        try {
            nodes.markOffline(lost.nodeToHub().keySet(), OfflineReason.HUB_LOST);
        } catch (StoreException e) {
            StoreFaults.failed(log, "marking the nodes of a lost hub offline (presence already says so)", e);
        }
        for (String id : lost.nodeToHub().keySet()) {
            NodeInfo info = registry.info(id);
            if (info != null && registry.session(id).isEmpty()) {
                events.publish(new Event.NodeOffline(id, info.owner(), info.name(), OfflineReason.HUB_LOST));
            }
            lostNodes.increment();
        }
    }

    /** Looks up a node another hub let in and adds it to the registry. */
    private CompletableFuture<Boolean> adopt(String nodeId) {
        return CompletableFuture.supplyAsync(() -> {
            var r = nodes.load(nodeId);
            r.ifPresent(registry::adopt);
            return r.isPresent();
        }, dbWork);
    }

    /** Reads the node set and the grants again: repairs whatever a lost bus message left stale. */
    void reconcile() {
        if (closed) {
            return;
        }
        try {
            var readAt = clock.instant();
            int changed = registry.reconcile(nodes.loadAll(), readAt);
            grants.replaceAll(users.grants());
            reconcileTasks();
            claimRuns();
            if (changed > 0) {
                log.info("reconciled with the database: {} nodes adopted or forgotten", changed);
            }
        } catch (StoreException e) {
            StoreFaults.failed(log, "reconciling with the database (retried)", e);
        }
    }

    // --- the bus ------------------------------------------------------------------------------

    /** Tells the other hubs that the node was removed here. */
    public void nodeRemoved(String nodeId) {
        send("node-removed " + nodeId);
    }

    /** Tells the other hubs that the node now belongs to {@code ownerId}. */
    public void nodeOwner(String nodeId, String ownerId) {
        send("node-owner " + nodeId + " " + ownerId);
    }

    /** Tells the other hubs that the node joined here (so it can reconnect to any of them at once). */
    public void nodeJoined(String nodeId) {
        send("node-joined " + nodeId);
    }

    /** Tells the other hubs that these tokens were revoked. */
    public void tokensRevoked(List<String> tokenIds, String reason) {
        if (!tokenIds.isEmpty()) {
            send("tokens-revoked " + String.join(",", tokenIds) + " " + reason);
        }
    }

    /** Tells the other hubs that the user was removed ({@code removed}) or its grants changed. */
    public void userChanged(String userId, boolean removed, String reason) {
        send((removed ? "user-removed " : "user-grants ") + userId + " " + reason);
    }

    private void send(String body) {
        try {
            bus.publishAsync(presence.localHub() + " " + body);
        } catch (RedisException e) {
            log.warn("cannot tell the other hubs ({}): they catch up within {}", e.getMessage(), RECONCILE_EVERY);
        }
    }

    private void onMessage(String msg) {
        String[] p = msg.split(" ", 4);
        if (p.length < 3 || p[0].equals(presence.localHub())) {
            return;
        }
        try {
            switch (p[1]) {
                case "node-removed" -> {
                    registry.forget(p[2], "node removed");
                    handlers.nodeRemoved(p[2]);
                }
                case "node-owner" -> {
                    if (p.length > 3) {
                        registry.setOwner(p[2], p[3]);
                    }
                }
                case "node-joined" -> nodes.load(p[2]).ifPresent(registry::adopt);
                case "task-ended" -> taskEnded(p[2], p.length > 3 ? p[3] : "");
                case "tokens-revoked" -> handlers.tokensRevoked(List.of(p[2].split(",")), p.length > 3 ? p[3] : "");
                case "user-removed", "user-grants" -> {
                    grants.replaceAll(users.grants());
                    handlers.userChanged(p[2], p[1].equals("user-removed"), p.length > 3 ? p[3] : "");
                }
                default -> log.debug("ignoring cluster message {}", LogText.safe(p[1]));
            }
        } catch (StoreException e) {
            StoreFaults.failed(log, "applying another hub's change (the reconcile repairs it)", e);
        }
    }

    private void taskEnded(String taskId, String rest) {
        var t = tasks;
        if (t == null) {
            return;
        }
        String[] r = rest.split(" ", 3);
        hub.hubd.tasks.TaskState state;
        try {
            state = hub.hubd.tasks.TaskState.valueOf(r[0]);
        } catch (IllegalArgumentException e) {
            return;
        }
        Integer exit = r.length > 1 && !r[1].equals("-") ? Integer.valueOf(r[1]) : null;
        String error = r.length > 2 && !r[2].isEmpty() ? r[2] : null;
        t.finishedElsewhere(taskId, state, exit, error);
    }

    /** Tasks sent through another hub whose end message was lost: their end, from the database. */
    private void reconcileTasks() {
        var t = tasks;
        if (t == null) {
            return;
        }
        int checked = 0;
        for (String id : t.sentElsewhere()) {
            if (checked++ >= 1000) {
                break;
            }
            t.find(id).filter(x -> x.state().isFinal()).ifPresent(x ->
                    t.finishedElsewhere(x.id(), x.state(), x.exitCode(), x.error()));
        }
    }

    // --- singletons ---------------------------------------------------------------------------

    /**
     * Runs {@code work} if no other hub of the cluster runs {@code job} now: a Redisson lock with a
     * lease, so a hub that dies holding it lets go within the lease.
     */
    @Override
    public boolean run(String job, Runnable work) {
        RLock lock = redis.getLock(prefix + "lock:" + job);
        boolean got;
        try {
            got = lock.tryLock(0, Math.max(10_000, presence.ttl().toMillis() * 3), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (RedisException e) {
            log.warn("cannot take the cluster lock for {} ({}): skipped this round", job, e.getMessage());
            return false;
        }
        if (!got) {
            return false;
        }
        try {
            work.run();
            return true;
        } finally {
            if (lock.isHeldByCurrentThread()) {
                lock.unlock();
            }
        }
    }

    private static final String COUNTER_NEXT = hub.hubd.redis.RedisScripts.load("/redis/counter-next.lua");

    /**
     * The next value of the cluster-wide counter {@code name}, above {@code floor}.
     *
     * @throws RedisException when Redis is unreachable
     */
    public long next(String name, long floor) {
        String key = prefix + "counter:" + name;
        Long v = redis.getScript(StringCodec.INSTANCE).eval(key, org.redisson.api.RScript.Mode.READ_WRITE,
                COUNTER_NEXT, org.redisson.api.RScript.ReturnType.LONG, List.of(key), Long.toString(floor));
        return v;
    }

    /** Every live hub's agent address, this hub's first: what provisioning scripts connect to. */
    public List<String> agentAddresses() {
        List<String> out = new java.util.ArrayList<>();
        String self = presence.self().grpcAddress();
        if (!self.isEmpty()) {
            out.add(self);
        }
        try {
            out.addAll(otherHubs());
        } catch (RuntimeException e) {
            log.warn("provisioning lists this hub only: {}", e.getMessage());
        }
        return out;
    }

    /** The other live hubs' agent addresses: where a draining hub sends its agents. */
    public List<String> otherHubs() {
        try {
            return presence.liveHubs().stream().filter(h -> !h.id().equals(presence.localHub()))
                    .map(Presence.HubInfo::grpcAddress).filter(a -> !a.isEmpty()).toList();
        } catch (StoreException e) {
            return List.of();
        }
    }

    /**
     * Leaves the cluster: the releases of the drain are written and the lease dropped, so other
     * hubs see this hub's nodes offline at once, not after the lease.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        timer.shutdown();
        try {
            timer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (busListener >= 0) {
            bus.removeListener(busListener);
        }
        presence.leave();
        dbWork.shutdown();
    }
}

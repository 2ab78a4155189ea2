package hub.hubd.cluster;

import hub.hubd.core.StoreException;
import hub.hubd.core.StoreFaults;
import hub.hubd.redis.RedisScripts;
import hub.hubd.registry.NodeLocator;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.redisson.api.BatchOptions;
import org.redisson.api.RBatch;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.RedisException;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which hub holds each node's stream, in Redis: a lease per hub (a sorted set of hub id to expiry)
 * and one hash of node id to hub id. A hub renews its lease and applies the streams it took and
 * lost since the last round in one script call, so the cost is one round trip per hub per round,
 * whatever the number of nodes. A node is online when its entry names a hub whose lease runs; the
 * nodes of a hub whose lease ran out are released by {@link #sweep}, atomically, so each is
 * reported lost by exactly one hub.
 *
 * <p>Thread safety: {@link #held}/{@link #released} from any thread; {@link #flush} from one.
 */
public final class Presence implements NodeLocator {
    private static final Logger log = LoggerFactory.getLogger(Presence.class);
    private static final String REFRESH = RedisScripts.load("/redis/presence-refresh.lua");
    private static final String SWEEP = RedisScripts.load("/redis/presence-sweep.lua");
    private static final String READ = RedisScripts.load("/redis/presence-read.lua");
    /** Node changes per script call: bounds one call's size in a reconnect storm. */
    private static final int CHANGES_PER_CALL = 2000;

    /** A hub of the cluster: where agents and API clients reach it. */
    public record HubInfo(String id, String grpcAddress, String apiUrl) {
        String encode() {
            return grpcAddress + " " + apiUrl;
        }

        static HubInfo decode(String id, String text) {
            int sp = text.indexOf(' ');
            return sp < 0 ? new HubInfo(id, text, "") : new HubInfo(id, text.substring(0, sp), text.substring(sp + 1));
        }
    }

    /** What a sweep found: the hubs that were lost and the nodes each had held. */
    public record Lost(List<String> hubs, Map<String, String> nodeToHub) {
        public boolean isEmpty() {
            return hubs.isEmpty();
        }
    }

    private final RedissonClient redis;
    private final List<Object> keys;
    private final String base;
    private final String hubsKey;
    private final String infoKey;
    private final String nodesKey;
    private volatile HubInfo self;
    private final Clock clock;
    private final Duration ttl;
    /** Node id to true (took its stream) or false (lost it), since the last flush. */
    private final ConcurrentHashMap<String, Boolean> pending = new ConcurrentHashMap<>();
    private final Supplier<Collection<String>> heldNow;
    private final Counter flushFailures;
    private volatile boolean reassert;
    private volatile long nextRenewMillis;
    private boolean renewedOnce;

    /**
     * @param prefix  the cluster's key prefix ({@code hub:NAME:})
     * @param ttl     how long a lease lasts without renewal: a hub silent this long is lost
     * @param heldNow the nodes whose streams this hub holds, to write again after its lease was lost
     */
    public Presence(RedissonClient redis, String prefix, HubInfo self, Clock clock, Duration ttl,
            Supplier<Collection<String>> heldNow, MeterRegistry metrics) {
        this.redis = redis;
        // One hash tag: the three keys live in one Redis Cluster slot, as the scripts need.
        this.base = prefix + "presence:{" + prefix + "}:";
        this.hubsKey = base + "hubs";
        this.infoKey = base + "hubinfo";
        this.nodesKey = base + "nodes";
        this.keys = List.of(hubsKey, infoKey, nodesKey);
        this.self = self;
        this.clock = clock;
        this.ttl = ttl;
        this.heldNow = heldNow;
        this.flushFailures = Counter.builder("hub_cluster_presence_failures_total")
                .description("presence rounds that failed (Redis unreachable): retried next round").register(metrics);
    }

    /** What the cluster's keys in presence's Redis Cluster slot start with (the events share it). */
    String keyBase() {
        return base;
    }

    String hubsKey() {
        return hubsKey;
    }

    String nodesKey() {
        return nodesKey;
    }

    @Override
    public String localHub() {
        return self.id();
    }

    /** Says where agents and API clients reach this hub (once its listeners are bound). */
    public void announce(HubInfo info) {
        if (!info.id().equals(self.id())) {
            throw new IllegalArgumentException("announcing another hub");
        }
        this.self = info;
    }

    /** This hub. */
    public HubInfo self() {
        return self;
    }

    /** How long a silent hub keeps its nodes. */
    public Duration ttl() {
        return ttl;
    }

    /** This hub took the node's stream (written with the next round). */
    public void held(String nodeId) {
        pending.put(nodeId, Boolean.TRUE);
    }

    /** This hub lost the node's stream (its entry goes, unless another hub has taken it). */
    public void released(String nodeId) {
        pending.put(nodeId, Boolean.FALSE);
    }

    /** Whether a round is due: changes are waiting, or the lease needs renewing. */
    boolean due() {
        return !pending.isEmpty() || reassert || clock.millis() >= nextRenewMillis;
    }

    /**
     * One round: renews the lease and writes the pending changes. Changes that could not be written
     * stay pending (unless newer ones replaced them).
     *
     * @return whether Redis took the round
     */
    public boolean flush() {
        Map<String, Boolean> changes = new LinkedHashMap<>();
        if (reassert) {
            for (String id : heldNow.get()) {
                changes.put(id, Boolean.TRUE);
            }
        }
        for (var it = pending.entrySet().iterator(); it.hasNext();) {
            var e = it.next();
            changes.put(e.getKey(), e.getValue());
            it.remove();
        }
        boolean wasReassert = reassert;
        try {
            List<Map.Entry<String, Boolean>> list = new ArrayList<>(changes.entrySet());
            long had = 1;
            int from = 0;
            do {
                int to = Math.min(list.size(), from + CHANGES_PER_CALL);
                List<Object> args = new ArrayList<>(3 + 2 * (to - from));
                args.add(self.id());
                args.add(Long.toString(ttl.toMillis()));
                args.add(self.encode());
                for (var e : list.subList(from, to)) {
                    args.add(e.getValue() ? "+" : "-");
                    args.add(e.getKey());
                }
                Long r = redis.getScript(StringCodec.INSTANCE).eval(hubsKey, RScript.Mode.READ_WRITE, REFRESH,
                        RScript.ReturnType.LONG, keys, args.toArray());
                if (from == 0) {
                    had = r == null ? 0 : r;
                }
                from = to;
            } while (from < list.size());
            nextRenewMillis = clock.millis() + Math.max(50, ttl.toMillis() / 3);
            if (had == 0 && renewedOnce) {
                // A sweeper took this hub for lost (it stalled past its lease): write its nodes again.
                log.warn("this hub's presence lease had run out; writing its {} nodes again", heldNow.get().size());
                reassert = true;
            } else if (wasReassert) {
                reassert = false;
            }
            renewedOnce = true;
            return true;
        } catch (RedisException | StoreException e) {
            changes.forEach(pending::putIfAbsent);
            flushFailures.increment();
            StoreFaults.failed(log, "renewing this hub's presence (retried)", new StoreException(e.getMessage(), e));
            return false;
        }
    }

    @Override
    public Map<String, String> holders(Collection<String> nodeIds) {
        if (nodeIds.isEmpty()) {
            return Map.of();
        }
        List<String> ids = List.copyOf(nodeIds);
        List<Object> where = read(ids.toArray());
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < ids.size() && i < where.size(); i++) {
            String hub = String.valueOf(where.get(i));
            if (!hub.isEmpty()) {
                out.put(ids.get(i), hub);
            }
        }
        return out;
    }

    /** The hubs whose lease runs, this one included. */
    public List<HubInfo> liveHubs() {
        List<Object> pairs = read();
        List<HubInfo> out = new ArrayList<>();
        for (int i = 0; i + 1 < pairs.size(); i += 2) {
            out.add(HubInfo.decode(String.valueOf(pairs.get(i)), String.valueOf(pairs.get(i + 1))));
        }
        out.sort(java.util.Comparator.comparing(HubInfo::id));
        return out;
    }

    private List<Object> read(Object... nodeIds) {
        try {
            List<Object> r = redis.getScript(StringCodec.INSTANCE).eval(hubsKey, RScript.Mode.READ_ONLY, READ,
                    RScript.ReturnType.LIST, keys, nodeIds);
            return r == null ? List.of() : r;
        } catch (RedisException e) {
            throw new StoreException("redis error reading presence: " + e.getMessage(), e);
        }
    }

    /** Releases the nodes of hubs whose lease ran out; each lost node is reported to one caller only. */
    public Lost sweep() {
        List<Object> out;
        try {
            out = redis.getScript(StringCodec.INSTANCE).eval(hubsKey, RScript.Mode.READ_WRITE, SWEEP,
                    RScript.ReturnType.LIST, keys);
        } catch (RedisException e) {
            throw new StoreException("redis error sweeping lost hubs: " + e.getMessage(), e);
        }
        if (out == null || out.isEmpty()) {
            return new Lost(List.of(), Map.of());
        }
        List<String> hubs = new ArrayList<>();
        Map<String, String> nodes = new LinkedHashMap<>();
        int i = 0;
        for (; i < out.size() && !"".equals(String.valueOf(out.get(i))); i++) {
            hubs.add(String.valueOf(out.get(i)));
        }
        for (i++; i + 1 < out.size(); i += 2) {
            nodes.put(String.valueOf(out.get(i)), String.valueOf(out.get(i + 1)));
        }
        return new Lost(hubs, nodes);
    }

    /**
     * Leaves the cluster on a clean stop: writes what is pending (the releases of a drain), then
     * drops this hub's lease so nobody waits for it to run out.
     */
    public void leave() {
        flush();
        try {
            RBatch batch = redis.createBatch(BatchOptions.defaults());
            batch.getScoredSortedSet(hubsKey, StringCodec.INSTANCE).removeAsync(self.id());
            batch.getMap(infoKey, StringCodec.INSTANCE).fastRemoveAsync(self.id());
            batch.execute();
        } catch (RedisException e) {
            log.warn("could not leave the cluster's presence (its lease runs out in {}): {}", ttl, e.getMessage());
        }
    }
}

package hub.hubd.cluster;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import hub.hubd.core.Threads;
import hub.hubd.events.Event;
import hub.hubd.events.EventBus;
import hub.hubd.redis.RedisScripts;
import hub.hubd.registry.OfflineReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.redisson.api.RScript;
import org.redisson.api.RStream;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamMessageId;
import org.redisson.api.stream.StreamReadArgs;
import org.redisson.client.RedisException;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event bus of a cluster: every hub publishes its events to one Redis stream, where a script
 * gives each the next cluster-wide sequence, and every hub reads that stream into its own bus. So
 * a subscriber on any hub gets every hub's events, in one order, with the same sequences: it can
 * resume with {@code after=SEQ} on another hub. At start a hub fills its ring from the stream's
 * tail, so a resume works on a hub that just started too. Node events are checked against
 * presence in the same script: a node that moves is seen offline (on the hub it left) before it
 * is online again, and a late offline from a hub the node already left is dropped.
 *
 * <p>Threads: one publisher (batches of up to {@value #BATCH} events per round trip), one reader.
 * {@link #offer} never blocks: past {@value #OUTBOX} waiting events new ones are dropped and counted.
 */
public final class ClusterEvents implements EventBus.Relay, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterEvents.class);
    private static final String PUBLISH = RedisScripts.load("/redis/events-publish.lua");
    static final int BATCH = 500;
    static final int OUTBOX = 100_000;

    private final RedissonClient redis;
    private final String hubId;
    private final List<Object> keys;
    private final String streamKey;
    private final long keep;
    private final EventBus bus;
    private final Presence presence;
    private final ObjectMapper json = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private final Map<String, Class<? extends Event>> types = new HashMap<>();
    private final BlockingQueue<Event> outbox = new ArrayBlockingQueue<>(OUTBOX);
    private final Thread publisher;
    private final Thread reader;
    private final Counter dropped;
    private final Counter failures;
    private volatile boolean closed;
    private StreamMessageId lastRead;

    /** @param keep about how many events the stream keeps (the ring size of the hubs) */
    @SuppressWarnings("unchecked")
    public ClusterEvents(RedissonClient redis, String prefix, String hubId, EventBus bus, Presence presence, int keep,
            MeterRegistry metrics) {
        this.redis = redis;
        this.hubId = hubId;
        this.bus = bus;
        this.presence = presence;
        this.keep = Math.max(1000, keep);
        String base = presence.keyBase();
        this.streamKey = base + "events";
        this.keys = List.of(base + "event-seq", streamKey, presence.hubsKey(), presence.nodesKey());
        for (Class<?> c : Event.class.getPermittedSubclasses()) {
            types.put(c.getSimpleName(), (Class<? extends Event>) c);
        }
        this.publisher = new Thread(this::publishLoop, "cluster-events-out");
        this.reader = new Thread(this::readLoop, "cluster-events-in");
        publisher.setDaemon(true);
        reader.setDaemon(true);
        this.dropped = Counter.builder("hub_cluster_events_dropped_total")
                .description("events not published to the cluster: its outbox was full").register(metrics);
        this.failures = Counter.builder("hub_cluster_events_failures_total")
                .description("rounds publishing or reading the cluster's events that failed (retried)")
                .register(metrics);
    }

    /**
     * Fills the bus's ring from the stream's tail and starts publishing and reading: from here on
     * this hub's events go through the cluster.
     */
    public void start() {
        RStream<String, String> stream = redis.getStream(streamKey, StringCodec.INSTANCE);
        Map<StreamMessageId, Map<String, String>> tail;
        try {
            tail = stream.rangeReversed((int) Math.min(Integer.MAX_VALUE, keep), StreamMessageId.MAX,
                    StreamMessageId.MIN);
        } catch (RedisException e) {
            throw new IllegalStateException("cannot read the cluster's events from Redis: " + e.getMessage(), e);
        }
        List<Map.Entry<StreamMessageId, Map<String, String>>> entries = new ArrayList<>(tail.entrySet());
        java.util.Collections.reverse(entries);
        long before = entries.isEmpty() ? currentSeq() : seqOf(entries.get(0).getValue()) - 1;
        bus.relayThrough(this, before);
        for (var e : entries) {
            deliver(e.getValue());
        }
        lastRead = entries.isEmpty() ? null : entries.get(entries.size() - 1).getKey();
        if (lastRead == null) {
            // Nothing yet: read from the start (an empty stream holds nothing older).
            lastRead = new StreamMessageId(0, 0);
        }
        log.info("cluster events: {} recent events loaded, sequence {}", entries.size(), bus.lastSeq());
        reader.start();
        publisher.start();
    }

    private long currentSeq() {
        String s = redis.<String>getBucket(keys.get(0).toString(), StringCodec.INSTANCE).get();
        return s == null ? System.currentTimeMillis() * 1000 : Long.parseLong(s);
    }

    private static long seqOf(Map<String, String> fields) {
        return Long.parseLong(fields.get("s"));
    }

    /** Takes an event of this hub for the cluster; never blocks. */
    @Override
    public void offer(Event event) {
        if (closed || !outbox.offer(event)) {
            dropped.increment();
            if (event instanceof Event.NodeOnline on) {
                presence.held(on.nodeId()); // its presence must not be lost with the event
            }
        }
    }

    private void publishLoop() {
        List<Event> batch = new ArrayList<>(BATCH);
        long backoff = 50;
        while (true) {
            try {
                if (batch.isEmpty()) {
                    Event first = outbox.poll(200, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        if (closed) {
                            return;
                        }
                        continue;
                    }
                    batch.add(first);
                    outbox.drainTo(batch, BATCH - 1);
                }
                publish(batch);
                batch.clear();
                backoff = 50;
            } catch (InterruptedException e) {
                return;
            } catch (RedisException | IllegalStateException e) {
                failures.increment();
                log.warn("publishing {} events to the cluster failed (retried in {} ms): {}", batch.size(), backoff,
                        e.getMessage());
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    return;
                }
                backoff = Math.min(2000, backoff * 2);
                if (closed && backoff >= 2000) {
                    log.warn("stopping with {} events not published to the cluster", batch.size() + outbox.size());
                    return;
                }
            }
        }
    }

    private void publish(List<Event> batch) {
        List<Object> args = new ArrayList<>(2 + batch.size() * 5);
        args.add(hubId);
        args.add(Long.toString(keep));
        for (Event e : batch) {
            String payload = encode(e);
            if (e instanceof Event.NodeOnline on) {
                args.add("on");
                args.add(on.nodeId());
                args.add(payload);
                args.add(encode(new Event.NodeOffline(on.nodeId(), on.owner(), on.name(), OfflineReason.HUB_LOST)));
                args.add(encode(new Event.NodeOffline(on.nodeId(), on.owner(), on.name(), OfflineReason.REPLACED)));
            } else if (e instanceof Event.NodeOffline off && !OfflineReason.HUB_LOST.equals(off.reason())) {
                args.add("off");
                args.add(off.nodeId());
                args.add(payload);
            } else {
                args.add("any");
                args.add(e.nodeId() == null ? "" : e.nodeId());
                args.add(payload);
            }
        }
        redis.getScript(StringCodec.INSTANCE).eval(streamKey, RScript.Mode.READ_WRITE, PUBLISH,
                RScript.ReturnType.LONG, keys, args.toArray());
    }

    private String encode(Event e) {
        ObjectNode n = json.createObjectNode();
        n.put("k", e.getClass().getSimpleName());
        n.set("v", json.valueToTree(e));
        return n.toString();
    }

    private void readLoop() {
        RStream<String, String> stream = redis.getStream(streamKey, StringCodec.INSTANCE);
        long backoff = 50;
        while (!closed) {
            try {
                Map<StreamMessageId, Map<String, String>> got = stream.read(StreamReadArgs.greaterThan(lastRead)
                        .count(BATCH).timeout(Duration.ofSeconds(1)));
                if (got != null) {
                    for (var e : got.entrySet()) {
                        deliver(e.getValue());
                        lastRead = e.getKey();
                    }
                }
                backoff = 50;
            } catch (RedisException e) {
                if (closed) {
                    return;
                }
                failures.increment();
                log.warn("reading the cluster's events failed (retried in {} ms): {}", backoff, e.getMessage());
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    return;
                }
                backoff = Math.min(2000, backoff * 2);
            }
        }
    }

    private void deliver(Map<String, String> fields) {
        try {
            long seq = seqOf(fields);
            Instant at = Instant.ofEpochMilli(Long.parseLong(fields.get("t")));
            JsonNode n = json.readTree(fields.get("e"));
            Class<? extends Event> type = types.get(n.path("k").asText());
            if (type == null) {
                log.debug("ignoring an event of unknown kind {}", n.path("k").asText());
                return;
            }
            bus.deliver(seq, at, json.treeToValue(n.get("v"), type));
        } catch (java.io.IOException | RuntimeException e) {
            log.warn("ignoring a malformed event in the cluster's stream: {}", e.toString());
        }
    }

    /** Publishes what is waiting (a stopping hub's last offline events), then stops reading. */
    @Override
    public void close() {
        closed = true;
        try {
            publisher.join(3000);
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

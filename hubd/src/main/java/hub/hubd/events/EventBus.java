package hub.hubd.events;

import hub.hubd.core.Ids;
import hub.hubd.core.Threads;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fans events out to live subscribers. A new subscription first gets what it asked to replay (a
 * gap notice first when some of it is no longer kept), then a sync notice, then live events. {@link #publish} assigns the next sequence, keeps the event
 * in a ring for resuming, and offers it to the bounded queue of each matching subscription, found
 * through indexes (by node, by owner, admins): no scan of all subscribers, no I/O, no waiting, no
 * exception to the caller. A subscription whose queue is full is closed as lagged with the
 * sequence to resume from; one whose send fails is removed at once.
 *
 * <p>Sequences increase across restarts: they start from the hub's start time in microseconds, so
 * a client resuming with a sequence from before a restart is told about the gap.
 *
 * <p>Publishing holds one short lock (sequence, ring, offers) so every subscriber sees events in
 * sequence order; writers never take it.
 */
public final class EventBus implements EventPublisher, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventBus.class);

    /** Types a subscription gets when it names none: all but heartbeats. */
    public static final Set<String> DEFAULT_TYPES;

    static {
        Set<String> t = new LinkedHashSet<>(Event.TYPES);
        t.remove("node.heartbeat");
        DEFAULT_TYPES = Set.copyOf(t);
    }

    /**
     * @param ringSize      events kept for {@code after=} resumes
     * @param ringAge       and for at most this long
     * @param queueCapacity events a subscription may have waiting before it is closed as lagged
     */
    public record Options(int ringSize, Duration ringAge, int queueCapacity) {
        /** Characters of task output the ring keeps at most, whatever its size: output events are big. */
        static final long RING_OUTPUT_CHARS = 16L * 1024 * 1024;

        public Options {
            if (ringSize < 1 || queueCapacity < 1 || ringAge.isNegative() || ringAge.isZero()) {
                throw new IllegalArgumentException("event ring size, age and queue capacity must be positive");
            }
        }

        public static Options defaults() {
            return new Options(10_000, Duration.ofMinutes(5), 1024);
        }
    }

    private final Options options;
    private final Clock clock;
    /** The sequence before this run's first event. */
    private long startSeq;
    /** The previous run's last sequence, or -1 when it was not recorded (a crash). */
    private long previousLastSeq;
    private final EventCodec codec;
    private final Function<String, ? extends NodeFacts> nodeFacts;
    private final ThreadPoolExecutor writers;
    private final ScheduledThreadPoolExecutor timers;
    private final ReentrantLock lock = new ReentrantLock();
    // guarded by lock:
    private final Envelope[] ring;
    private int ringNext;
    private int ringCount;
    private long ringOutputChars;
    private long lastSeq;
    private final Map<String, Set<Subscription>> byNode = new HashMap<>();
    private final Map<String, Set<Subscription>> byUser = new HashMap<>();
    private final Set<Subscription> admins = new LinkedHashSet<>();
    /** Non-admin subscriptions whose user has grants: asked per node event (grants are few). */
    private final Set<Subscription> granted = new LinkedHashSet<>();
    private final Map<String, List<Runnable>> watchers = new HashMap<>();
    // not guarded:
    private volatile long lastSeqVisible;
    private final Map<String, Listener> listeners = new ConcurrentHashMap<>();
    private final AtomicInteger heartbeatSubscribers = new AtomicInteger();
    private final Counter published;
    private final Counter delivered;
    private final Counter dropped;
    private final Counter laggedCloses;
    private volatile boolean closed;
    private volatile boolean stopping;

    /** What the bus needs to know of a node to route its events: its owner (a user id) and labels. */
    public interface NodeFacts {
        String owner();

        Map<String, String> labels();
    }

    /**
     * @param nodeFacts a node's owner and labels from an in-memory index (the registry), or
     *                  {@code null} for an unknown node; never blocks
     */
    public EventBus(Options options, Clock clock, EventCodec codec, Function<String, ? extends NodeFacts> nodeFacts,
            MeterRegistry metrics) {
        this(options, clock, codec, nodeFacts, metrics, -1);
    }

    /**
     * @param previousLastSeq the last sequence of the hub's previous run, if it stopped cleanly and
     *                        recorded it; -1 when unknown. A client resuming at it missed nothing.
     */
    public EventBus(Options options, Clock clock, EventCodec codec, Function<String, ? extends NodeFacts> nodeFacts,
            MeterRegistry metrics, long previousLastSeq) {
        this.options = options;
        this.clock = clock;
        this.codec = codec;
        this.nodeFacts = nodeFacts;
        this.ring = new Envelope[options.ringSize()];
        // Past the previous run's last sequence even if the clock went back or it published more
        // than a thousand events per millisecond on average.
        this.lastSeq = Math.max(clock.millis() * 1000, previousLastSeq + 1);
        this.startSeq = lastSeq;
        this.previousLastSeq = previousLastSeq;
        this.lastSeqVisible = lastSeq;
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        // At most one task per subscription is queued (its scheduled flag), so the queue is bounded
        // by the number of listeners.
        this.writers = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                Threads.daemons("event-writer", true));
        this.timers = new ScheduledThreadPoolExecutor(1, Threads.daemons("event-timer", false));
        timers.setRemoveOnCancelPolicy(true);
        Gauge.builder("hub_event_listeners", listeners, Map::size).description("Live event listeners")
                .register(metrics);
        this.published = Counter.builder("hub_events_published").description("Events published").register(metrics);
        this.delivered = Counter.builder("hub_events_delivered").description("Events sent to listeners")
                .register(metrics);
        this.dropped = Counter.builder("hub_events_dropped")
                .description("Events not delivered because their listener lagged or was closed").register(metrics);
        this.laggedCloses = Counter.builder("hub_event_lagged_closes")
                .description("Listeners closed because their queue was full").register(metrics);
    }

    /** Above this many events a second the bus lingers: subscribers send at its ticks. */
    static final int LINGER_ABOVE_PER_SECOND = 200;
    /**
     * How long a busy bus gathers events into a subscriber's next frame, at least: every frame costs
     * a socket write, so with many listeners the ticks spread out to keep the frames of all of them
     * near {@link #FRAMES_PER_SECOND} ({@link #lingerMillis}).
     */
    static final long LINGER_MILLIS = 10;
    /** The longest a busy bus lingers, however many listen. */
    static final long MAX_LINGER_MILLIS = 50;
    /** The frames a second a busy bus aims at over all its listeners (about a core's writes here). */
    static final int FRAMES_PER_SECOND = 40_000;

    /** The tick for {@code listeners}: 10 ms up to 400 of them, then longer, up to 50 ms. */
    static long lingerMillis(int listeners) {
        return Math.max(LINGER_MILLIS, Math.min(MAX_LINGER_MILLIS, 1000L * listeners / FRAMES_PER_SECOND));
    }

    private final java.util.concurrent.atomic.AtomicLong windowStartMillis = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger windowEvents = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean lingering;
    private final java.util.concurrent.ConcurrentLinkedQueue<Subscription> atTick =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    private volatile java.util.concurrent.ScheduledFuture<?> ticker;
    private final java.util.concurrent.atomic.AtomicLong framesBuilt = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong framesShared = new java.util.concurrent.atomic.AtomicLong();

    /** Whether the bus is busy enough that subscribers send at its ticks rather than at once. */
    boolean lingering() {
        return lingering;
    }

    /** Counts a publish in the current 100 ms window and decides whether the bus lingers. */
    private void countRate() {
        long now = clock.millis();
        long start = windowStartMillis.get();
        if (now - start >= 100 && windowStartMillis.compareAndSet(start, now)) {
            int n = windowEvents.getAndSet(0);
            lingering = n * 10 > LINGER_ABOVE_PER_SECOND;
            if (lingering && ticker == null) {
                synchronized (atTick) {
                    if (ticker == null) {
                        ticker = timers.schedule(this::tick, lingerMillis(listeners.size()), TimeUnit.MILLISECONDS);
                    }
                }
            }
        }
        windowEvents.incrementAndGet();
    }

    /** The subscription sends at the next tick (once, however often it is asked). */
    void atNextTick(Subscription s) {
        if (s.awaitingTick.compareAndSet(false, true)) {
            atTick.offer(s);
        }
        if (ticker == null) { // the ticks stopped as it was offered: nobody else will send it
            sendWaiting();
        }
    }

    private void sendWaiting() {
        Subscription s;
        while ((s = atTick.poll()) != null) {
            s.awaitingTick.set(false);
            s.schedule();
        }
    }

    /**
     * Every subscription that waited sends now; the next tick is set from the listeners there are
     * then. A quiet bus stops lingering and its ticks end.
     */
    private void tick() {
        sendWaiting();
        if (clock.millis() - windowStartMillis.get() > 200) { // nothing published for a while
            lingering = false;
        }
        synchronized (atTick) {
            if (lingering) {
                try {
                    ticker = timers.schedule(this::tick, lingerMillis(listeners.size()), TimeUnit.MILLISECONDS);
                    return;
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    lingering = false; // the bus is stopping
                }
            }
            ticker = null; // before the last sendWaiting: see atNextTick
        }
        sendWaiting();
    }

    void countFrameBuilt() {
        framesBuilt.incrementAndGet();
    }

    void countFrameShared() {
        framesShared.incrementAndGet();
    }

    /** Frames built once and sent to several subscribers: how many were built, and how many reused. */
    public long[] sharedFrames() {
        return new long[] {framesBuilt.get(), framesShared.get()};
    }

    /** Whether the bus has stopped (the hub is stopping): new subscriptions are refused. */
    public boolean isClosed() {
        return stopping;
    }

    EventCodec codec() {
        return codec;
    }

    /** The sequence of the last event published. */
    public long lastSeq() {
        return lastSeqVisible;
    }

    @Override
    public boolean wants(String type) {
        return !"node.heartbeat".equals(type) || heartbeatSubscribers.get() > 0 || heartbeatsElsewhere.getAsBoolean();
    }

    private volatile java.util.function.BooleanSupplier heartbeatsElsewhere = () -> false;

    /** A cluster: whether a subscriber on another hub wants heartbeats (they are published then too). */
    public void heartbeatsWantedElsewhere(java.util.function.BooleanSupplier s) {
        this.heartbeatsElsewhere = s;
    }

    /** Whether a subscriber on this hub wants heartbeat events. */
    public boolean heartbeatsWantedHere() {
        return heartbeatSubscribers.get() > 0;
    }

    /** Where a hub of a cluster sends its events: they come back, sequenced, through {@link #deliver}. */
    public interface Relay {
        /** Takes an event; never blocks, never throws. */
        void offer(Event event);
    }

    private volatile Relay relay;

    /**
     * Makes this bus one hub's of a cluster: its events go to {@code r}, and the bus delivers what
     * the cluster's stream gives back ({@link #deliver}). {@code seqBefore} is the sequence before
     * the first event the stream still holds: a resume from before it is told of the gap.
     */
    public void relayThrough(Relay r, long seqBefore) {
        lock.lock();
        try {
            this.lastSeq = seqBefore;
            this.startSeq = seqBefore;
            this.previousLastSeq = seqBefore;
            this.lastSeqVisible = seqBefore;
            this.relay = r;
        } finally {
            lock.unlock();
        }
    }

    /** Publishes an event: returns at once, never throws. */
    @Override
    public void publish(Event event) {
        if (closed) {
            return;
        }
        Relay r = relay;
        if (r != null) {
            r.offer(event);
            return;
        }
        dispatch(event, -1, null);
    }

    /**
     * An event of the cluster's stream, with the sequence and time the cluster gave it: delivered
     * as a local one is. One already delivered (a sequence not above the last) is ignored.
     */
    public void deliver(long seq, java.time.Instant at, Event event) {
        if (!closed) {
            dispatch(event, seq, at);
        }
    }

    private void dispatch(Event event, long givenSeq, java.time.Instant givenAt) {
        countRate();
        try {
            NodeFacts node = event.nodeId() != null ? nodeFacts.apply(event.nodeId()) : null;
            String owner = event.owner() != null ? event.owner() : node != null ? node.owner() : null;
            // the labels the event is selected by: the node's when it happened (a removed node's, as they were)
            Map<String, String> labels = event instanceof Event.NodeRemoved r ? r.labels()
                    : node != null ? node.labels() : null;
            boolean keep = !(event instanceof Event.NodeHeartbeat);
            List<Subscription> lagged = null;
            lock.lock();
            try {
                if (givenSeq >= 0 && givenSeq <= lastSeq) {
                    return;
                }
                lastSeq = givenSeq >= 0 ? givenSeq : lastSeq + 1;
                Envelope env = new Envelope(lastSeq, givenAt != null ? givenAt : clock.instant(), event, labels);
                lastSeqVisible = lastSeq;
                if (keep) {
                    keep(env);
                }
                lagged = offer(byNode.get(event.nodeId()), env, lagged);
                if (owner != null) {
                    lagged = offer(byUser.get(owner), env, lagged);
                }
                lagged = offer(admins, env, lagged);
                if (event.nodeId() != null && !granted.isEmpty()) {
                    lagged = offerGranted(event.nodeId(), owner, env, lagged);
                }
                if (event instanceof Event.TaskOutput) {
                    List<Runnable> w = watchers.get(event.nodeId());
                    if (w != null) {
                        w.forEach(Runnable::run);
                    }
                }
                if (lagged != null) {
                    for (Subscription s : lagged) {
                        unindex(s);
                    }
                }
            } finally {
                lock.unlock();
            }
            published.increment();
            if (lagged != null) {
                for (Subscription s : lagged) {
                    laggedCloses.increment();
                    s.droppedOne();
                    s.terminate(CloseCodes.LAGGED, "lagged: queue of " + options.queueCapacity() + " full");
                }
            }
        } catch (RuntimeException e) {
            log.error("publishing {} failed", event.type(), e);
        }
    }

    /** Adds to the ring, evicting the oldest when it is full by count or by output size. Lock held. */
    private void keep(Envelope env) {
        if (ringCount == ring.length) {
            evictOldest();
        }
        ring[ringNext] = env;
        ringNext = (ringNext + 1) % ring.length;
        ringCount++;
        ringOutputChars += outputChars(env);
        while (ringOutputChars > Options.RING_OUTPUT_CHARS && ringCount > 1) {
            evictOldest();
        }
    }

    private void evictOldest() {
        int oldest = (ringNext - ringCount + ring.length) % ring.length;
        ringOutputChars -= outputChars(ring[oldest]);
        ring[oldest] = null;
        ringCount--;
    }

    private static long outputChars(Envelope e) {
        if (e.event() instanceof Event.TaskOutput o) {
            if (o.lines() instanceof TextLines t) {
                return t.chars();
            }
            long n = 0;
            for (String l : o.lines()) {
                n += l.length() + 1;
            }
            return n;
        }
        return 0;
    }

    /** Lock held: to subscriptions that see the node through a grant (not its owner's: offered already). */
    private List<Subscription> offerGranted(String nodeId, String owner, Envelope env, List<Subscription> lagged) {
        for (Subscription s : granted) {
            if (!s.spec.user().equals(owner) && s.wants(env) && s.spec.granted().test(nodeId) && !s.offer(env)) {
                if (lagged == null) {
                    lagged = new ArrayList<>(2);
                }
                lagged.add(s);
            }
        }
        return lagged;
    }

    private static List<Subscription> offer(Collection<Subscription> subs, Envelope env, List<Subscription> lagged) {
        if (subs == null) {
            return lagged;
        }
        for (Subscription s : subs) {
            if (s.wants(env) && !s.offer(env)) {
                if (lagged == null) {
                    lagged = new ArrayList<>(2);
                }
                lagged.add(s);
            }
        }
        return lagged;
    }

    /**
     * Subscribes. With {@code after}, first replays the kept events after it (a gap notice first
     * when some were no longer kept), then live ones; none twice, none missing.
     *
     * @param user    the subscriber's user id: it sees what that id owns
     * @param tokenId the API token it used (a revoked token ends the subscription)
     * @param admin   whether it may see every node
     * @param granted which other nodes (by id) it may see through grants, or {@code null} for none;
     *                called under the bus's lock, so it must answer from memory
     * @param nodeId  only this node (the caller checked the user may see it), or {@code null}
     * @param selector only events about a node whose labels matched it when they happened, or {@code null}
     * @param types   event types, or {@code null} for {@link #DEFAULT_TYPES}
     * @param after   resume after this sequence, or {@code null}
     * @param last    without {@code after}: first replay up to this many of the latest kept events
     */
    public Listener subscribe(String user, String tokenId, boolean admin, java.util.function.Predicate<String> granted,
            String nodeId, hub.hubd.core.Selector selector, Set<String> types, Long after, int last, Sink sink) {
        Set<String> wanted = types == null || types.isEmpty() ? DEFAULT_TYPES : Set.copyOf(types);
        Subscription.Spec spec = new Subscription.Spec(user, tokenId, admin, admin ? null : granted, nodeId, selector,
                wanted, after, last);
        Subscription s = new Subscription(Ids.newId(), spec, sink, options.queueCapacity(), this, writers, timers,
                clock);
        if (stopping) {
            sink.close(CloseCodes.GOING_AWAY, "hub is stopping");
            return s;
        }
        lock.lock();
        try {
            String gap = null;
            List<Envelope> replay = new ArrayList<>();
            if (after == null && last > 0) {
                long cutoff = clock.millis() - options.ringAge().toMillis();
                for (int i = ringCount - 1; i >= 0 && replay.size() < last; i--) {
                    Envelope e = ring[(ringNext - ringCount + i + ring.length) % ring.length];
                    if (e.at().toEpochMilli() >= cutoff && s.wants(e) && visible(spec, e)) {
                        replay.add(e);
                    }
                }
                java.util.Collections.reverse(replay);
            }
            if (after != null) {
                long oldestKept = lastSeq + 1;
                long cutoff = clock.millis() - options.ringAge().toMillis();
                for (int i = 0; i < ringCount; i++) {
                    Envelope e = ring[(ringNext - ringCount + i + ring.length) % ring.length];
                    if (e.at().toEpochMilli() < cutoff) {
                        continue;
                    }
                    if (oldestKept > lastSeq) {
                        oldestKept = e.seq();
                    }
                    if (e.seq() > after && s.wants(e) && visible(spec, e)) {
                        replay.add(e);
                    }
                }
                gap = gapNotice(after, oldestKept);
            }
            s.prepare(gap, replay, codec.sync(lastSeq), lastSeq, lastSeq);
            listeners.put(s.id, s); // listed before it can be ended, so its end always unlists it
            index(s);
        } finally {
            lock.unlock();
        }
        if (wanted.contains("node.heartbeat")) {
            heartbeatSubscribers.incrementAndGet();
        }
        s.schedule();
        return s;
    }

    /**
     * What a resume after {@code after} cannot get, as gap notices (one per line), or null. Sequences
     * are contiguous within a run and jump at a restart, so a resume from an earlier run is told
     * exactly what that run published after it (when the run recorded its last sequence at a clean
     * stop; nothing when the client had it all), and what this run no longer keeps. Lock held.
     */
    private String gapNotice(long after, long oldestKept) {
        List<String> notices = new ArrayList<>(2);
        long from = after;
        if (after < startSeq) {
            if (previousLastSeq < 0) {
                notices.add(codec.restartGap(after + 1, startSeq));
            } else if (after < previousLastSeq) {
                notices.add(codec.gap(after + 1, previousLastSeq));
            }
            from = startSeq;
        }
        if (from + 1 < oldestKept && from < lastSeq) {
            notices.add(codec.gap(from + 1, oldestKept - 1));
        }
        return notices.isEmpty() ? null : String.join("\n", notices);
    }

    private boolean visible(Subscription.Spec spec, Envelope e) {
        Event ev = e.event();
        if (spec.nodeId() != null) {
            return spec.nodeId().equals(ev.nodeId());
        }
        if (spec.admin()) {
            return true;
        }
        NodeFacts node = ev.owner() == null && ev.nodeId() != null ? nodeFacts.apply(ev.nodeId()) : null;
        String owner = ev.owner() != null ? ev.owner() : node != null ? node.owner() : null;
        return spec.user().equals(owner)
                || (spec.granted() != null && ev.nodeId() != null && spec.granted().test(ev.nodeId()));
    }

    private void index(Subscription s) {
        Subscription.Spec spec = s.spec;
        if (spec.nodeId() != null) {
            byNode.computeIfAbsent(spec.nodeId(), k -> new LinkedHashSet<>()).add(s);
        } else if (spec.admin()) {
            admins.add(s);
        } else {
            byUser.computeIfAbsent(spec.user(), k -> new LinkedHashSet<>()).add(s);
            if (spec.granted() != null) {
                granted.add(s);
            }
        }
    }

    /** Lock held. */
    private boolean unindex(Subscription s) {
        Subscription.Spec spec = s.spec;
        if (spec.nodeId() != null) {
            return removeFrom(byNode, spec.nodeId(), s);
        } else if (spec.admin()) {
            return admins.remove(s);
        }
        granted.remove(s);
        return removeFrom(byUser, spec.user(), s);
    }

    private static boolean removeFrom(Map<String, Set<Subscription>> index, String key, Subscription s) {
        Set<Subscription> set = index.get(key);
        if (set == null || !set.remove(s)) {
            return false;
        }
        if (set.isEmpty()) {
            index.remove(key);
        }
        return true;
    }

    /** Removes a subscription and closes it (failed send, killed, revoked). Idempotent. */
    void drop(Subscription s, int code, String reason) {
        lock.lock();
        try {
            unindex(s);
        } finally {
            lock.unlock();
        }
        s.terminate(code, reason);
    }

    /** A subscription's close was sent: forget it and tell admins (and its user). */
    void ended(Subscription s, String reason) {
        if (listeners.remove(s.id) == null) {
            return;
        }
        if (s.spec.types().contains("node.heartbeat")) {
            heartbeatSubscribers.decrementAndGet();
        }
        if (!stopping && s.closeCode() != CloseCodes.NORMAL) { // the hub dropped it, not its peer
            publish(new Event.ListenerDropped(s.id, s.spec.user(), reason, s.lastDelivered()));
        }
    }

    /** The peer closed the connection (or it broke): remove the listener at once. */
    public void disconnected(Listener l) {
        if (l instanceof Subscription s) {
            drop(s, CloseCodes.NORMAL, "peer closed");
            listeners.remove(s.id);
        } else {
            listeners.remove(l.info().id());
        }
    }

    void countDelivered(int n) {
        delivered.increment(n);
    }

    void countDropped(int n) {
        dropped.increment(n);
    }

    /**
     * Calls {@code onOutput} whenever a node's task output is published (inside publish: it must only
     * flag work for another thread). Returns the handle that stops it.
     */
    public AutoCloseable watchOutput(String nodeId, Runnable onOutput) {
        lock.lock();
        try {
            watchers.computeIfAbsent(nodeId, k -> new CopyOnWriteArrayList<>()).add(onOutput);
        } finally {
            lock.unlock();
        }
        return () -> {
            lock.lock();
            try {
                List<Runnable> w = watchers.get(nodeId);
                if (w != null) {
                    w.remove(onOutput);
                    if (w.isEmpty()) {
                        watchers.remove(nodeId);
                    }
                }
            } finally {
                lock.unlock();
            }
        };
    }

    /** Adds a listener that is not a subscription (a history follower) to the table. */
    public void register(Listener l) {
        listeners.put(l.info().id(), l);
    }

    /** Removes a listener added with {@link #register}. */
    public void unregister(Listener l) {
        listeners.remove(l.info().id());
    }

    /** The listener table. */
    public List<Listener.Info> listeners() {
        List<Listener.Info> out = new ArrayList<>(listeners.size());
        for (Listener l : listeners.values()) {
            out.add(l.info());
        }
        out.sort(java.util.Comparator.comparing(Listener.Info::connectedAt).thenComparing(Listener.Info::id));
        return out;
    }

    /** A listener by id. */
    public Optional<Listener> listener(String id) {
        return Optional.ofNullable(listeners.get(id));
    }

    /** Ends every listener that authenticated with {@code tokenId}. */
    public int endForToken(String tokenId, String reason) {
        int n = 0;
        for (Listener l : List.copyOf(listeners.values())) {
            if (tokenId.equals(l.tokenId())) {
                l.end(CloseCodes.REVOKED, reason);
                n++;
            }
        }
        return n;
    }

    /** Ends every listener of the user with id {@code user}, for good (it was removed). */
    public int endForUser(String user, String reason) {
        return endForUser(user, CloseCodes.REVOKED, reason);
    }

    /** Ends every listener of the user with id {@code user} with {@code code}. */
    public int endForUser(String user, int code, String reason) {
        int n = 0;
        for (Listener l : List.copyOf(listeners.values())) {
            if (user.equals(l.user())) {
                l.end(code, reason);
                n++;
            }
        }
        return n;
    }

    /** How long a stop waits for listeners to be sent what they have queued (a stalled one is not waited for longer). */
    static final Duration CLOSE_FLUSH = Duration.ofSeconds(1);

    /** Waits until no subscription has events queued or a frame in flight, at most {@code max}. */
    private void awaitWritten(Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        try {
            while (System.nanoTime() < deadline) {
                boolean busy = false;
                for (Listener l : listeners.values()) {
                    if (l instanceof Subscription s && s.busy()) {
                        busy = true;
                        break;
                    }
                }
                if (!busy) {
                    return;
                }
                Thread.sleep(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Closes every listener ("hub is stopping", with its resume point) once what they have queued
     * is written, and stops the writers.
     */
    @Override
    public void close() {
        stopping = true;
        awaitWritten(CLOSE_FLUSH);
        for (Listener l : List.copyOf(listeners.values())) {
            l.end(CloseCodes.GOING_AWAY, "hub is stopping");
        }
        closed = true;
        writers.shutdown();
        timers.shutdown();
        try {
            if (!writers.awaitTermination(2, TimeUnit.SECONDS)) {
                writers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            writers.shutdownNow();
        }
    }
}

package hub.hubd.events;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One subscriber's bounded queue and its writer. The bus offers events (never waiting); the writer
 * runs on the shared writer pool, sends what is queued as one frame (newline-separated JSON
 * objects) and waits for that frame to be written before it sends the next, so a stalled peer
 * holds no thread: its queue fills and the bus closes it as lagged. The close is sent after the
 * frame in flight, so the resume sequence in its reason is exact.
 */
final class Subscription implements Listener {
    static final int MAX_FRAME_EVENTS = 256;
    static final int MAX_FRAME_CHARS = 256 * 1024;

    final String id;
    final Spec spec;
    final Sink sink;
    private final Instant connectedAt;
    private final ConcurrentLinkedQueue<Envelope> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final int capacity;
    private final long typeMask;
    /** Subscribers with the same key receive the same events (admins of the same types); -1: none alike. */
    private final long shareKey;
    /** Waits for the bus's next linger tick (set while the bus is busy). */
    final AtomicBoolean awaitingTick = new AtomicBoolean();
    private final java.util.ArrayList<Envelope> taken = new java.util.ArrayList<>();
    private final ArrayDeque<Envelope> replay = new ArrayDeque<>();
    private final EventBus bus;
    private final Executor writers;
    private final ScheduledExecutorService timers;
    private final Clock clock;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final AtomicBoolean sending = new AtomicBoolean();
    private final AtomicBoolean closeSent = new AtomicBoolean();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile String prefix; // a gap notice to send before the replay
    private volatile String syncNotice; // sent once the replay is done
    private volatile long floor; // live events at or below it were already replayed
    private volatile long lastDelivered;
    private volatile long lastActivityMillis;
    private volatile boolean closed;
    private volatile int closeCode;
    private volatile String closeReason;

    /**
     * What a subscriber asked for.
     *
     * @param user    the id of the user who subscribed
     * @param tokenId the API token it used
     * @param admin   whether it sees every node
     * @param granted the other nodes (by id) it sees through grants, or {@code null}
     * @param nodeId  only this node's events, or {@code null}
     * @param selector only events about a node whose labels matched it when they happened, or {@code null}
     * @param types   the event types it wants
     * @param after   resume after this sequence, or {@code null}
     * @param last    without {@code after}: replay this many of the most recent kept events first
     */
    record Spec(String user, String tokenId, boolean admin, java.util.function.Predicate<String> granted,
            String nodeId, hub.hubd.core.Selector selector, Set<String> types, Long after, int last) {
        String describe() {
            StringBuilder sb = new StringBuilder();
            sb.append(nodeId != null ? "node=" + nodeId : admin ? "all nodes"
                    : granted != null ? "own and granted nodes" : "own nodes");
            if (selector != null) {
                sb.append(" label=").append(selector);
            }
            if (!types.equals(EventBus.DEFAULT_TYPES)) {
                sb.append(" types=").append(String.join(",", types));
            }
            return sb.toString();
        }
    }

    Subscription(String id, Spec spec, Sink sink, int capacity, EventBus bus, Executor writers,
            ScheduledExecutorService timers, Clock clock) {
        this.timers = timers;
        this.id = id;
        this.spec = spec;
        this.sink = sink;
        this.capacity = capacity;
        long mask = 0;
        for (String t : spec.types()) {
            mask |= Envelope.typeBit(t);
        }
        this.typeMask = mask;
        // What it receives is decided by its types alone: its frames may be shared with others alike.
        this.shareKey = spec.admin() && spec.nodeId() == null && spec.selector() == null ? mask : -1;
        this.bus = bus;
        this.writers = writers;
        this.clock = clock;
        this.connectedAt = clock.instant();
        this.lastActivityMillis = connectedAt.toEpochMilli();
        this.lastDelivered = spec.after() == null ? 0 : spec.after();
    }

    /** Set by the bus, under its lock, before the subscription is visible to publishers. */
    void prepare(String gapNotice, Iterable<Envelope> replayed, String sync, long floor, long lastSeq) {
        this.prefix = gapNotice;
        this.syncNotice = sync;
        for (Envelope e : replayed) {
            replay.add(e);
        }
        this.floor = floor;
        if (spec.after() == null) {
            this.lastDelivered = lastSeq;
        }
    }

    boolean wants(Envelope e) {
        return (typeMask & e.typeBit()) != 0 && (spec.selector() == null
                || e.labels() != null && spec.selector().matches(e.labels()));
    }

    /** Queues a live event; false if the queue is full (the bus then closes this as lagged). Never blocks. */
    boolean offer(Envelope e) {
        if (closed) {
            return true;
        }
        if (queued.incrementAndGet() > capacity) {
            queued.decrementAndGet();
            return false;
        }
        queue.offer(e);
        if (bus.lingering()) {
            bus.atNextTick(this); // a busy bus sends fewer, larger frames, built once for many
        } else {
            schedule();
        }
        return true;
    }

    void schedule() {
        if (closed || !scheduled.compareAndSet(false, true)) {
            return;
        }
        try {
            writers.execute(() -> {
                scheduled.set(false);
                drain();
            });
        } catch (RejectedExecutionException e) {
            scheduled.set(false); // the bus is stopping
        }
    }

    /** Sends what is waiting as one frame, unless a frame is still in flight. Writer pool only. */
    private void drain() {
        if (closed || !sending.compareAndSet(false, true)) {
            return;
        }
        StringBuilder frame = new StringBuilder();
        String gap = prefix;
        if (gap != null) {
            frame.append(gap).append('\n');
            prefix = null;
        }
        if (gap == null && replay.isEmpty() && syncNotice == null && shareKey >= 0) {
            drainShared();
            return;
        }
        int events = 0;
        long last = 0;
        while (events < MAX_FRAME_EVENTS && frame.length() < MAX_FRAME_CHARS) {
            Envelope e = replay.pollFirst();
            if (e == null && syncNotice != null) {
                frame.append(syncNotice).append('\n');
                syncNotice = null;
                continue;
            }
            if (e == null) {
                e = queue.poll();
                if (e == null) {
                    break;
                }
                if (closed) {
                    // terminate() is emptying the queue at the same time: what it removed lay before
                    // this event, so sending it would skip them past the resume point. Not sent.
                    dropped.incrementAndGet();
                    bus.countDropped(1);
                    break;
                }
                queued.decrementAndGet();
                if (e.seq() <= floor) {
                    continue; // already sent in the replay
                }
            }
            frame.append(e.json(bus.codec())).append('\n');
            last = e.seq();
            events++;
        }
        if (frame.length() == 0) {
            nothingToSend();
            return;
        }
        int count = events;
        long lastSeq = last;
        try {
            sink.send(frame.toString(), () -> sent(count, lastSeq), this::failed);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    /**
     * A live frame of a subscriber whose events others receive alike: the events are taken first,
     * then the frame that ends with the last of them is reused if another subscriber made it for
     * the same run (under a busy bus, all of them drain at the same tick), else made and left there.
     */
    private void drainShared() {
        taken.clear();
        int chars = 0;
        while (taken.size() < MAX_FRAME_EVENTS && chars < MAX_FRAME_CHARS) {
            Envelope e = queue.poll();
            if (e == null) {
                break;
            }
            if (closed) {
                dropped.incrementAndGet(); // see drain: terminate() is emptying the queue
                bus.countDropped(1);
                break;
            }
            queued.decrementAndGet();
            if (e.seq() <= floor) {
                continue;
            }
            taken.add(e);
            chars += e.json(bus.codec()).length() + 1;
        }
        if (taken.isEmpty()) {
            nothingToSend();
            return;
        }
        Envelope first = taken.get(0);
        Envelope lastEvent = taken.get(taken.size() - 1);
        int count = taken.size();
        Envelope.Frame f = lastEvent.frame(shareKey, first.seq(), count);
        if (f == null) {
            StringBuilder sb = new StringBuilder(chars);
            for (Envelope e : taken) {
                sb.append(e.json(bus.codec())).append('\n');
            }
            String text = sb.toString();
            f = new Envelope.Frame(shareKey, first.seq(), count, text,
                    java.nio.ByteBuffer.wrap(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)).asReadOnlyBuffer());
            lastEvent.frame(f);
            bus.countFrameBuilt();
        } else {
            bus.countFrameShared();
        }
        taken.clear();
        long lastSeq = lastEvent.seq();
        try {
            sink.send(f.text(), f.utf8(), () -> sent(count, lastSeq), this::failed);
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    /** A drain found nothing to send: lets the next one run, or closes a closed one now idle. */
    private void nothingToSend() {
        sending.set(false);
        if (closed) {
            closeIfIdle();
        } else {
            next();
        }
    }

    private void sent(int count, long lastSeq) {
        delivered.addAndGet(count);
        bus.countDelivered(count);
        if (lastSeq > 0) {
            lastDelivered = lastSeq;
        }
        lastActivityMillis = clock.millis();
        sending.set(false);
        if (closed) {
            closeIfIdle();
        } else {
            next();
        }
    }

    /**
     * After a frame, or a drain with nothing to send: on a busy bus, the next frame waits for the
     * bus's tick (what comes meanwhile joins it; with nothing left to send it waits for the next
     * offer, which asks for the tick itself); on a quiet one a drain runs now. Scheduling a drain at once whenever the
     * queue looked empty let every subscriber send a frame per event or two under load: 1,000
     * subscribers made ~100 frames a second each whatever the tick, and saturated the hub's core.
     */
    private void next() {
        if (!bus.lingering()) {
            schedule();
        } else if (!queue.isEmpty() || !replay.isEmpty() || syncNotice != null || prefix != null) {
            bus.atNextTick(this); // the replay is this drain's own (same chain of writes): safe to look at
        }
    }

    private void failed(Throwable t) {
        sending.set(false);
        bus.drop(this, CloseCodes.SEND_FAILED, "send failed: " + t.getMessage());
    }

    /**
     * Stops taking events and closes the peer once no frame is in flight. Idempotent; returns at
     * once. Called by the bus (which has already unindexed it).
     */
    void terminate(int code, String reason) {
        if (closed) {
            return;
        }
        closeCode = code;
        closeReason = reason;
        closed = true;
        // Emptied by polling, not by the count: a writer may be taking events at this moment, and
        // everything it takes from now on is dropped by it (see drain), so each event is counted once.
        int left = replay.size();
        while (queue.poll() != null) {
            left++;
        }
        queued.set(0);
        if (left > 0) {
            dropped.addAndGet(left);
            bus.countDropped(left);
        }
        try {
            writers.execute(this::closeIfIdle);
            // A frame stuck in flight (a peer that stopped reading) must not keep it open forever.
            timers.schedule(this::closeNow, CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            closeNow();
        }
    }

    /** How long a close waits for the frame in flight. */
    static final long CLOSE_GRACE_MILLIS = 2000;

    /** The close reason, completed with the exact resume sequence for a lagged close. */
    String closeReasonWithResume() {
        return closeCode == CloseCodes.LAGGED || closeCode == CloseCodes.GOING_AWAY
                ? closeReason + "; resume with after=" + lastDelivered : closeReason;
    }

    private void closeIfIdle() {
        if (!sending.get()) {
            closeNow();
        }
    }

    private void closeNow() {
        if (!closeSent.compareAndSet(false, true)) {
            return;
        }
        String reason = closeReasonWithResume();
        bus.ended(this, reason); // the bookkeeping first: nothing the socket does can keep it listed
        try {
            sink.close(closeCode, reason.length() > 120 ? reason.substring(0, 120) : reason);
        } catch (RuntimeException e) {
            // the peer is gone already
        }
    }

    /** Counts one event dropped because the queue was full (the one that did not fit). */
    void droppedOne() {
        dropped.incrementAndGet();
        bus.countDropped(1);
    }

    /** Whether events are waiting or a frame is in flight. */
    boolean busy() {
        return !closed && (queued.get() > 0 || sending.get() || prefix != null || syncNotice != null);
    }

    int closeCode() {
        return closeCode;
    }

    long lastDelivered() {
        return lastDelivered;
    }

    @Override
    public Info info() {
        return new Info(id, "events", spec.user(), sink.remoteAddress(), spec.describe(), connectedAt,
                Math.max(0, queued.get()),
                delivered.get(), dropped.get(), Math.max(0, bus.lastSeq() - lastDelivered),
                Instant.ofEpochMilli(lastActivityMillis));
    }

    @Override
    public String user() {
        return spec.user();
    }

    @Override
    public String tokenId() {
        return spec.tokenId();
    }

    @Override
    public void end(int code, String reason) {
        bus.drop(this, code, reason);
    }
}

package hub.hubd.api;

import hub.hubd.core.StoreFaults;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.events.CloseCodes;
import hub.hubd.events.EventBus;
import hub.hubd.events.Listener;
import hub.hubd.events.Sink;
import hub.hubd.history.HistoryLine;
import hub.hubd.history.HistoryPage;
import hub.hubd.history.HistoryStore;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a node's history over a WebSocket: reads the store after the last offset sent whenever
 * the node's output is published (and every few seconds, for lines another hub stored), and sends
 * the lines, a gap notice first when lines it asked for were trimmed. The store is the source, so a
 * slow follower never loses lines to a queue: it only falls behind, and is told of a gap if the
 * store trims what it had not read yet. One frame in flight at a time.
 */
final class HistoryFollower implements Listener {
    private static final Logger log = LoggerFactory.getLogger(HistoryFollower.class);
    static final int PAGE = 1000;

    private final String id;
    private final String user;
    private final String tokenId;
    private final String nodeId;
    private final String nodeName;
    private final Sink sink;
    private final HistoryStore store;
    private final EventBus bus;
    private final ScheduledExecutorService pool;
    private final ObjectMapper mapper;
    private final Instant connectedAt = Instant.now();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final AtomicBoolean sending = new AtomicBoolean();
    private final AtomicBoolean more = new AtomicBoolean(true);
    private final AtomicLong delivered = new AtomicLong();
    private volatile long next;
    private volatile long lastActivityMillis = System.currentTimeMillis();
    private volatile boolean ended;
    private AutoCloseable watch;
    private ScheduledFuture<?> backstop;

    HistoryFollower(String id, String user, String tokenId, String nodeId, String nodeName, long after, Sink sink,
            HistoryStore store, EventBus bus, ScheduledExecutorService pool, ObjectMapper mapper) {
        this.id = id;
        this.user = user;
        this.tokenId = tokenId;
        this.nodeId = nodeId;
        this.nodeName = nodeName;
        this.next = after;
        this.sink = sink;
        this.store = store;
        this.bus = bus;
        this.pool = pool;
        this.mapper = mapper;
    }

    void start() {
        bus.register(this);
        watch = bus.watchOutput(nodeId, this::poke);
        backstop = pool.scheduleWithFixedDelay(this::poke, 2, 2, TimeUnit.SECONDS);
        poke();
    }

    /** New lines may be there: read them soon. Cheap; called inside the bus's publish. */
    void poke() {
        more.set(true);
        if (!ended && scheduled.compareAndSet(false, true)) {
            pool.execute(() -> {
                scheduled.set(false);
                drain();
            });
        }
    }

    private void drain() {
        if (ended || !more.get() || !sending.compareAndSet(false, true)) {
            return;
        }
        more.set(false);
        HistoryPage page;
        try {
            page = store.after(nodeId, next, PAGE);
        } catch (RuntimeException e) {
            StoreFaults.failed(log, "history follow of node " + nodeId + " (retrying)", e);
            sending.set(false);
            more.set(true); // the backstop tries again
            return;
        }
        if (page.lines().isEmpty() && page.gap() == null) {
            sending.set(false);
            if (more.get()) {
                poke();
            }
            return;
        }
        StringBuilder frame = new StringBuilder();
        try {
            if (page.gap() != null) {
                frame.append(mapper.writeValueAsString(new Gap("gap", page.gap().from(), page.gap().to()))).append('\n');
            }
            for (HistoryLine l : page.lines()) {
                frame.append(mapper.writeValueAsString(new Line("line", l.offset(), l.taskId(), l.stream(), l.text(),
                        l.at()))).append('\n');
            }
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("history JSON", e);
        }
        int n = page.lines().size();
        long nextOffset = page.nextOffset();
        boolean full = n == PAGE;
        sink.send(frame.toString(), () -> {
            next = nextOffset;
            delivered.addAndGet(n);
            lastActivityMillis = System.currentTimeMillis();
            sending.set(false);
            if (full) {
                more.set(true);
            }
            if (more.get()) {
                poke();
            }
        }, t -> end(CloseCodes.SEND_FAILED, "send failed: " + t.getMessage()));
    }

    /** A gap notice. */
    record Gap(String type, long from, long to) {
    }

    /** A history line. */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    record Line(String type, long offset, String taskId, String stream, String text, Instant at) {
    }

    /** The peer went away. */
    void disconnected() {
        stop();
    }

    private boolean stop() {
        if (ended) {
            return false;
        }
        ended = true;
        bus.unregister(this);
        if (backstop != null) {
            backstop.cancel(false);
        }
        try {
            if (watch != null) {
                watch.close();
            }
        } catch (Exception e) {
            log.debug("unwatching failed", e);
        }
        return true;
    }

    @Override
    public Info info() {
        return new Info(id, "history", user, sink.remoteAddress(), "history of " + nodeName + " after " + next,
                connectedAt, 0, delivered.get(), 0, 0, Instant.ofEpochMilli(lastActivityMillis));
    }

    @Override
    public String user() {
        return user;
    }

    @Override
    public String tokenId() {
        return tokenId;
    }

    @Override
    public void end(int code, String reason) {
        if (stop()) {
            sink.close(code, reason.length() > 120 ? reason.substring(0, 120) : reason);
        }
    }
}

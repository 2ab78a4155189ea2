package hub.hubd.tasks;

import hub.hubd.core.StoreFaults;
import hub.hubd.events.Event;
import hub.hubd.events.EventPublisher;
import hub.hubd.events.TextLines;
import hub.text.AnsiStripper;
import hub.hubd.history.HistoryStore;
import hub.hubd.history.HistoryBlocks;
import hub.hubd.history.HistoryStore.NewBlock;
import hub.hubd.registry.NodeSession;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Task messages from agents, off the gRPC threads: output is deduplicated by (task, sequence),
 * stripped of ANSI once, appended to the history store, and only then acknowledged; starts and
 * results update the task. Each node's messages are handled in order on one of a few lanes (a
 * single thread each, picked by node). A lane takes every output chunk waiting in its queue (up to
 * {@value #MAX_BATCH}) and stores them with one {@link HistoryStore#appendAll} (one transaction),
 * so a busy lane pays for one commit per batch, not per chunk. A lane's queue is bounded; when it is
 * full the agent's stream is closed, and the agent reconnects and resends what was not
 * acknowledged: nothing is lost.
 *
 * <p>Agents are not trusted. A message about a task is taken only from the node the task was
 * issued to, while the task is open: anything else ends the stream ({@link NodeSession.Violation})
 * and is neither stored nor acknowledged (a resend for a task that has ended is acknowledged up to
 * what was stored, and nothing is kept for it). What one node can make the hub hold is bounded:
 * its open tasks (at most {@link TaskService#MAX_UNFINISHED}, each with two line buffers of at most
 * {@value #MAX_LINE_BYTES} bytes), and {@value #NODE_QUEUE} messages or {@value #NODE_QUEUE_BYTES}
 * bytes of output waiting in its lane, past which its stream is closed (it resends), so it cannot
 * fill a lane that other nodes share; a lane holds at most {@value #LANE_QUEUE_BYTES} bytes of output.
 * Out-of-order chunks are not buffered: they are dropped and come again with the resend.
 * Acknowledgements of a task's output only ever grow.
 */
public final class TaskIngest implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TaskIngest.class);
    static final int LANES = 2;
    static final int LANE_QUEUE = 8192;
    static final int MAX_BATCH = 256;
    /** A lane takes at most about this many bytes of output into one batch (one transaction). */
    static final long MAX_BATCH_BYTES = 8L * 1024 * 1024;
    static final int MAX_LINE_BYTES = 64 * 1024;
    /** Messages one node may have waiting in its lane. */
    static final int NODE_QUEUE = 1024;
    /** Bytes of output one node may have waiting in its lane (4 times the Java agent's window). */
    static final long NODE_QUEUE_BYTES = 32L * 1024 * 1024;
    /** Bytes of output one lane holds at most, over all its nodes. */
    static final long LANE_QUEUE_BYTES = 256L * 1024 * 1024;
    private final Map<String, java.util.concurrent.atomic.AtomicLong> queuedBytesByNode = new ConcurrentHashMap<>();

    private final HistoryStore history;
    private final TaskRepository tasks;
    private final TaskService service;
    private final Clock clock;
    private final EventPublisher events;
    private final RawOutput raw;
    private final Lane[] lanes = new Lane[LANES];
    private volatile TerminalTap terminals;
    private final Map<String, TaskStreams> open = new ConcurrentHashMap<>();
    private final Map<String, java.util.concurrent.atomic.AtomicInteger> queuedByNode = new ConcurrentHashMap<>();
    private final hub.hubd.core.WarnLimiter warnings = new hub.hubd.core.WarnLimiter(java.time.Duration.ofMinutes(1),
            System::nanoTime);
    private final Counter overflows;
    private final Counter nodeOverflows;
    private final Counter dropped;
    private final Timer chunkWait;
    private final Timer batchStore;
    private final DistributionSummary batchSize;

    public TaskIngest(HistoryStore history, TaskRepository tasks, TaskService service, Clock clock,
            MeterRegistry metrics, EventPublisher events, RawOutput raw) {
        this.events = events;
        this.raw = raw;
        this.history = history;
        this.tasks = tasks;
        this.service = service;
        this.clock = clock;
        this.overflows = Counter.builder("hub_ingest_overflows")
                .description("Agent streams closed because their ingest lane was full").register(metrics);
        this.nodeOverflows = Counter.builder("hub_ingest_node_overflows")
                .description("Agent streams closed because the node had " + NODE_QUEUE + " messages waiting")
                .register(metrics);
        this.dropped = Counter.builder("hub_ingest_dropped_chunks")
                .description("Output chunks dropped: out of order (resent later), or after their task ended")
                .register(metrics);
        Gauge.builder("hub_ingest_open_tasks", open, Map::size)
                .description("Tasks whose output is being taken (bounded by the nodes' open tasks)").register(metrics);
        this.chunkWait = Timer.builder("hub_ingest_chunk_queued")
                .description("Time an output chunk waited in its ingest lane").register(metrics);
        this.batchStore = Timer.builder("hub_ingest_batch_stored")
                .description("Time to strip, store and acknowledge one batch of output chunks").register(metrics);
        this.batchSize = DistributionSummary.builder("hub_ingest_batch_chunks")
                .description("Output chunks stored together in one batch").register(metrics);
        for (int i = 0; i < LANES; i++) {
            Lane lane = new Lane("ingest-" + i);
            lanes[i] = lane;
            Gauge.builder("hub_ingest_lane_depth", lane.queue, BlockingQueue::size).tag("lane", Integer.toString(i))
                    .description("Messages waiting in the ingest lane").register(metrics);
            lane.thread.start();
        }
    }

    /** Where terminal sessions' output goes besides the history (set once, when sessions are built). */
    public void terminals(TerminalTap tap) {
        this.terminals = tap;
    }

    /** Something for a lane to do, for one node. */
    private sealed interface Work permits Chunk, Other {
        String nodeId();

        NodeSession session();
    }

    /** An output chunk. */
    private record Chunk(String nodeId, NodeSession session, String taskId, boolean stderr, long sequence,
            byte[] data, long queuedAtNanos) implements Work {
    }

    /** Anything else, run on its own; {@code session} is null for work no agent stream asked for. */
    private record Other(String nodeId, NodeSession session, Runnable run) implements Work {
    }

    /** A single thread draining a bounded queue in batches. */
    private final class Lane implements Runnable {
        final BlockingQueue<Work> queue = new ArrayBlockingQueue<>(LANE_QUEUE);
        /** Bytes of output in {@link #queue}. */
        final java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
        final Thread thread;
        volatile boolean closed;

        Lane(String name) {
            this.thread = new Thread(this, name);
            thread.setDaemon(true);
        }

        @Override
        public void run() {
            List<Work> batch = new ArrayList<>(MAX_BATCH);
            List<Chunk> chunks = new ArrayList<>(MAX_BATCH);
            while (!(closed && queue.isEmpty())) {
                try {
                    Work first = queue.poll(100, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    batch.add(first);
                    long bytes = size(first);
                    while (batch.size() < MAX_BATCH && bytes < MAX_BATCH_BYTES) {
                        Work w = queue.poll();
                        if (w == null) {
                            break;
                        }
                        batch.add(w);
                        bytes += size(w);
                    }
                } catch (InterruptedException e) {
                    return;
                }
                try {
                    handle(batch, chunks);
                } catch (RuntimeException e) {
                    StoreFaults.failed(log, "ingest lane " + thread.getName() + " (a batch; continuing)", e);
                } finally {
                    chunks.clear();
                    batch.clear();
                }
            }
        }
    }

    /** One running task's strippers and last stored sequence (lane thread only). */
    private static final class TaskStreams {
        final String taskId;
        final String nodeId;
        /** The highest sequence known stored (acknowledged); {@link #lastSequence} runs ahead within a batch. */
        long storedSequence;
        final HistoryBlocks.Builder outLines = new HistoryBlocks.Builder();
        final HistoryBlocks.Builder errLines = new HistoryBlocks.Builder();
        final AnsiStripper out;
        final AnsiStripper err;
        long lastSequence;
        /** Chunks from some point on are history text only: the node's raw output was over its bound. */
        boolean rawDropped;
        /** A terminal session: its raw output is its recording, not output kept for an exec reader. */
        final boolean terminal;

        TaskStreams(String taskId, String nodeId, HistoryStore.TaskProgress p, boolean rawDropped, boolean terminal) {
            this.rawDropped = rawDropped;
            this.terminal = terminal;
            this.taskId = taskId;
            this.nodeId = nodeId;
            this.out = new AnsiStripper(MAX_LINE_BYTES, outLines);
            this.err = new AnsiStripper(MAX_LINE_BYTES, errLines);
            if (p.pendingStdout() != null) {
                out.restore(p.pendingStdout());
            }
            if (p.pendingStderr() != null) {
                err.restore(p.pendingStderr());
            }
            this.lastSequence = p.lastSequence();
            this.storedSequence = p.lastSequence();
        }

        String pending(AnsiStripper s) {
            String p = s.pendingLine();
            return p.isEmpty() ? null : p;
        }

        /** The lines completed since the last call, as blocks (stdout's first). */
        List<NewBlock> blocks(long atMillis) {
            NewBlock o = outLines.take(taskId, "stdout", atMillis);
            NewBlock e = errLines.take(taskId, "stderr", atMillis);
            if (o == null) {
                return e == null ? List.of() : List.of(e);
            }
            return e == null ? List.of(o) : List.of(o, e);
        }
    }

    /** Runs a batch in order: runs of chunks are stored together, anything else on its own. */
    private void handle(List<Work> batch, List<Chunk> chunks) {
        for (Work w : batch) {
            var q = queuedByNode.get(w.nodeId());
            if (q != null) {
                q.decrementAndGet();
            }
            if (w instanceof Chunk c) {
                var b = queuedBytesByNode.get(w.nodeId());
                if (b != null) {
                    b.addAndGet(-c.data().length);
                }
                lane(w.nodeId()).bytes.addAndGet(-c.data().length);
                chunks.add(c);
                continue;
            }
            storeChunks(chunks);
            chunks.clear();
            Other o = (Other) w;
            try {
                o.run().run();
            } catch (RuntimeException e) {
                if (o.session() == null) {
                    StoreFaults.failed(log, "ingest for node " + o.nodeId(), e);
                } else {
                    StoreFaults.failed(log, "ingest for node " + o.nodeId() + " (closing its stream so the agent resends)", e);
                    o.session().close("hub could not store task output; reconnect and resend");
                }
            }
        }
        storeChunks(chunks);
    }

    private static long size(Work w) {
        return w instanceof Chunk c ? c.data().length : 0;
    }

    private void submit(Work work) {
        Lane lane = lane(work.nodeId());
        var q = queuedByNode.computeIfAbsent(work.nodeId(), k -> new java.util.concurrent.atomic.AtomicInteger());
        if (q.incrementAndGet() > NODE_QUEUE) {
            q.decrementAndGet();
            nodeOverflows.increment();
            work.session().close("more than " + NODE_QUEUE + " task messages of this node wait for the hub; "
                    + "reconnect and resend");
            return;
        }
        long size = size(work);
        var b = size == 0 ? null : queuedBytesByNode.computeIfAbsent(work.nodeId(),
                k -> new java.util.concurrent.atomic.AtomicLong());
        if (b != null && b.addAndGet(size) > NODE_QUEUE_BYTES) {
            b.addAndGet(-size);
            q.decrementAndGet();
            nodeOverflows.increment();
            work.session().close("more than " + NODE_QUEUE_BYTES + " bytes of this node's output wait for the hub; "
                    + "reconnect and resend");
            return;
        }
        if (size > 0 && lane.bytes.addAndGet(size) > LANE_QUEUE_BYTES) {
            lane.bytes.addAndGet(-size);
            b.addAndGet(-size);
            q.decrementAndGet();
            overflows.increment();
            work.session().close("hub is behind on task output; reconnect and resend");
            return;
        }
        if (lane.closed || !lane.queue.offer(work)) {
            q.decrementAndGet();
            if (size > 0) {
                lane.bytes.addAndGet(-size);
                b.addAndGet(-size);
            }
            overflows.increment();
            work.session().close("hub is behind on task output; reconnect and resend");
        }
    }

    /** A task the lane may take messages about: this node's, and unfinished, or finished. */
    private enum Standing { OPEN, FINISHED, NOT_YOURS }

    /**
     * Whether {@code taskId} is {@code nodeId}'s, and open: from the open tasks' table, or the store
     * (one read per task, not per message), which then opens its streams. Lane thread only.
     */
    private Standing standing(String nodeId, String taskId) {
        TaskStreams ts = open.get(taskId);
        if (ts != null) {
            return ts.nodeId.equals(nodeId) ? Standing.OPEN : Standing.NOT_YOURS;
        }
        var t = tasks.find(taskId);
        if (t.isEmpty() || !t.get().nodeId().equals(nodeId)) {
            return Standing.NOT_YOURS;
        }
        if (t.get().state().isFinal()) {
            return Standing.FINISHED;
        }
        open.put(taskId, new TaskStreams(taskId, nodeId, history.progress(nodeId, taskId), raw.wasDropped(taskId),
                t.get().terminal() != null));
        return Standing.OPEN;
    }

    /** The streams of an open task of {@code nodeId} (opened by {@link #standing}, called first). */
    private TaskStreams streams(String nodeId, String taskId) {
        TaskStreams ts = open.get(taskId);
        if (ts == null) { // closed meanwhile (a failed batch): open again
            if (standing(nodeId, taskId) != Standing.OPEN) {
                throw new IllegalStateException("task " + taskId + " is not open");
            }
            ts = open.get(taskId);
        }
        return ts;
    }

    private void notYours(Work w, String taskId) {
        w.session().violated(NodeSession.Violation.NOT_YOURS, "task " + taskId + " was not issued to this node");
    }

    /** Logs at most one line a minute per node and kind, with how many were held back. */
    private void warn(String nodeId, String kind, String message, Object... args) {
        long held = warnings.allow(nodeId + "/" + kind);
        if (held >= 0) {
            log.warn(message + (held > 0 ? " (and " + held + " more like it in the last minute)" : ""), args);
        }
    }

    private Lane lane(String nodeId) {
        return lanes[Math.floorMod(nodeId.hashCode(), LANES)];
    }

    private void submit(String nodeId, NodeSession session, Runnable run) {
        submit(new Other(nodeId, session, run));
    }

    /**
     * An agent reconnected holding {@code pending} (tasks it still runs or whose result it has not
     * had acknowledged): the node's other unfinished tasks were lost with the agent's process (or
     * never reached it), so they fail now instead of staying {@code running} forever; pending ones
     * that were asked to cancel are asked again (the request may have been made while the node was
     * offline). Runs in the node's lane, before anything the agent sends on its new stream. A task
     * still {@code queued} (a cluster: made on another hub while the node moved) is left to the hub
     * that made it, which sends it through this stream, unless it is older than that hub would wait.
     */
    public void reconcile(String nodeId, NodeSession session, Set<String> pending) {
        submit(nodeId, session, () -> {
            for (Task t : tasks.unfinished(nodeId)) {
                if (t.state() == TaskState.QUEUED && !pending.contains(t.id()) && clock.millis()
                        - t.createdAt().toEpochMilli() < TaskService.DELIVERY_WAIT.plusSeconds(10).toMillis()) {
                    continue; // never sent: the hub that made it sends it through this stream, or fails it
                }
                if (!pending.contains(t.id())) {
                    log.info("task {} on node {} failed: the agent reconnected without it", t.id(), nodeId);
                    fail(nodeId, t.id(), LOST);
                } else if (t.cancel() != null) {
                    log.info("task {} on node {}: cancel asked again after a reconnect", t.id(), nodeId);
                    session.cancelTask(t.id(), t.cancel().reason());
                } else if (t.terminal() != null && (terminals == null || !terminals.held(t.id()))) {
                    // Nobody can type into it any more (the hub restarted): end it rather than leave a shell.
                    log.info("session {} on node {} ended: no client holds it after a reconnect", t.id(), nodeId);
                    session.cancelTask(t.id(), SESSION_ORPHANED);
                }
            }
        });
    }

    /**
     * The node was removed (its stream is closed already): its unfinished tasks fail, since no
     * result can come for them any more. Runs in the node's lane, after whatever the node sent
     * before; if the lane stays full for 5 seconds it runs on the caller's thread instead (a task
     * that ended meanwhile keeps its result: final states are never overwritten).
     */
    public void nodeRemoved(String nodeId) {
        Runnable run = () -> {
            for (Task t : tasks.unfinished(nodeId)) {
                fail(nodeId, t.id(), REMOVED);
            }
            open.values().removeIf(ts -> ts.nodeId.equals(nodeId));
            queuedByNode.remove(nodeId);
            queuedBytesByNode.remove(nodeId);
            warnings.forget(nodeId + "/");
            if (service != null) {
                service.forget(nodeId);
            }
        };
        Lane lane = lane(nodeId);
        boolean queued = false;
        if (!lane.closed) {
            try {
                queued = lane.queue.offer(new Other(nodeId, null, run), 5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (!queued) {
            run.run();
        }
    }

    private void fail(String nodeId, String taskId, String error) {
        if (tasks.update(taskId, TaskState.FAILED, null, error, null, clock.millis(), outputEnd(nodeId))) {
            events.publish(new Event.TaskStateChanged(nodeId, null, taskId, "failed", null, error));
            service.finished(nodeId, taskId, TaskState.FAILED, null, error);
        }
        open.remove(taskId);
    }

    /**
     * The node's last history offset: run in the node's lane once a task's output is all stored, so
     * none of it lies beyond.
     */
    private long outputEnd(String nodeId) {
        return history.tail(nodeId, 0).nextOffset();
    }

    /** Error of a task the agent no longer has. */
    static final String LOST = "the agent no longer has this task (it restarted, or the task never reached it)";

    /** Why a terminal session nobody holds any more is ended. */
    static final String SESSION_ORPHANED = "the session's client is gone (the hub restarted); session ended";

    /** Error of a task whose node was removed before it ended. */
    static final String REMOVED = "its node was removed before it ended";

    /** The agent handled a task's stdin up to {@code sequence} (no storage: answered at once). */
    public void inputAcked(String nodeId, String taskId, long sequence, String error) {
        TerminalTap tap = terminals;
        if (tap != null && tap.inputAcked(nodeId, taskId, sequence, error)) {
            return;
        }
        if (service != null) {
            service.inputs().acked(nodeId, taskId, sequence, error);
        }
    }

    /** The task's process started. */
    public void started(String nodeId, NodeSession session, String taskId, long startedAtMillis) {
        submit(nodeId, session, () -> {
            switch (standing(nodeId, taskId)) {
                case NOT_YOURS -> session.violated(NodeSession.Violation.NOT_YOURS,
                        "task " + taskId + " was not issued to this node");
                case FINISHED -> { } // a resend after the result: nothing to change
                case OPEN -> {
                    if (tasks.update(taskId, TaskState.RUNNING, null, null, startedAtMillis, null, null)) {
                        events.publish(new Event.TaskStateChanged(nodeId, null, taskId, "running", null, null));
                    }
                }
            }
        });
    }

    /** A chunk of output. */
    public void output(String nodeId, NodeSession session, String taskId, boolean stderr, long sequence,
            byte[] data) {
        TerminalTap tap = terminals;
        if (tap != null) {
            tap.arrived(nodeId, taskId, sequence, data);
        }
        submit(new Chunk(nodeId, session, taskId, stderr, sequence, data, System.nanoTime()));
    }

    /**
     * Strips the chunks in order and stores them in one {@link HistoryStore#appendAll}, then acks each.
     * If the store fails, nothing of the batch is acknowledged: the strippers of its tasks are
     * dropped (reloaded from the store next time) and their agents' streams closed, so they resend.
     */
    private void storeChunks(List<Chunk> chunks) {
        if (chunks.isEmpty()) {
            return;
        }
        long startedAt = System.nanoTime();
        List<HistoryStore.Append> appends = new ArrayList<>(chunks.size());
        List<Chunk> stored = new ArrayList<>(chunks.size());
        List<TaskOutputStore.RawChunk> rawChunks = new ArrayList<>(chunks.size());
        List<TaskOutputStore.RawChunk> recorded = new ArrayList<>();
        Map<String, Long> rawBytes = new java.util.HashMap<>(); // this batch's raw bytes, by node
        List<Chunk> firstDropped = new ArrayList<>(); // chunks from which a task's raw output is not kept
        long now = clock.millis();
        for (Chunk c : chunks) {
            chunkWait.record(startedAt - c.queuedAtNanos(), TimeUnit.NANOSECONDS);
            TaskStreams ts;
            try {
                Standing st = standing(c.nodeId(), c.taskId());
                if (st == Standing.NOT_YOURS) {
                    notYours(c, c.taskId());
                    continue;
                }
                if (st == Standing.FINISHED) {
                    // A resend for a task whose result is stored: acknowledged up to what was stored, kept nowhere.
                    long kept = history.progress(c.nodeId(), c.taskId()).lastSequence();
                    if (c.sequence() <= kept) {
                        c.session().ackOutput(c.taskId(), kept);
                    } else {
                        dropped.increment();
                        warn(c.nodeId(), "after-end", "node {} sent output {} of task {}, which ended after {}; dropped",
                                c.nodeId(), c.sequence(), c.taskId(), kept);
                    }
                    continue;
                }
                ts = streams(c.nodeId(), c.taskId());
            } catch (RuntimeException e) {
                StoreFaults.failed(log, "ingest for node " + c.nodeId() + " (closing its stream so the agent resends)", e);
                c.session().close("hub could not store task output; reconnect and resend");
                continue;
            }
            if (c.sequence() <= ts.lastSequence) {
                if (c.sequence() <= ts.storedSequence) {
                    c.session().ackOutput(c.taskId(), ts.storedSequence); // already stored: a resend
                }
                continue; // else it is in this batch already, and acknowledged with it
            }
            if (c.sequence() != ts.lastSequence + 1) {
                dropped.increment();
                warn(c.nodeId(), "gap", "task {} output {} arrived after {}; dropped, waiting for the resend",
                        c.taskId(), c.sequence(), ts.lastSequence);
                continue;
            }
            (c.stderr() ? ts.err : ts.out).feed(c.data());
            ts.lastSequence = c.sequence(); // taken back below if the store does not take it
            if (ts.terminal) {
                recorded.add(new TaskOutputStore.RawChunk(c.taskId(), c.sequence(), c.nodeId(), false, c.data()));
            } else if (ts.rawDropped) {
                raw.droppedAgain();
            } else {
                long batchBytes = rawBytes.getOrDefault(c.nodeId(), 0L) + c.data().length;
                if (raw.admits(c.nodeId(), batchBytes)) {
                    rawBytes.put(c.nodeId(), batchBytes);
                    rawChunks.add(new TaskOutputStore.RawChunk(c.taskId(), c.sequence(), c.nodeId(), c.stderr(),
                            c.data()));
                } else {
                    ts.rawDropped = true;
                    firstDropped.add(c);
                }
            }
            appends.add(new HistoryStore.Append(c.nodeId(), c.taskId(), c.sequence(), ts.blocks(now),
                    ts.pending(ts.out), ts.pending(ts.err)));
            stored.add(c);
        }
        if (appends.isEmpty()) {
            return;
        }
        List<HistoryStore.Outcome> outcomes;
        try {
            // Raw first: a resend after a failure between the two finds its raw chunk stored and
            // leaves it as it is. Acknowledged below, once both hold the chunk.
            raw.store(rawChunks);
            TerminalTap tap = terminals;
            if (tap != null && !recorded.isEmpty()) {
                tap.record(recorded, now);
            }
            for (Chunk c : firstDropped) {
                raw.dropped(c.nodeId(), c.taskId(), c.sequence());
            }
            outcomes = history.appendAll(appends);
        } catch (RuntimeException e) {
            StoreFaults.failed(log, "storing " + stored.size() + " output chunks (closing their streams so the agents resend)", e);
            Set<NodeSession> sessions = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Chunk c : stored) {
                open.remove(c.taskId()); // the strippers saw bytes that were not stored
                sessions.add(c.session());
            }
            sessions.forEach(ss -> ss.close("hub could not store task output; reconnect and resend"));
            return;
        }
        for (int i = 0; i < stored.size(); i++) {
            Chunk c = stored.get(i);
            if (outcomes.get(i) == HistoryStore.Outcome.OUT_OF_ORDER) {
                open.remove(c.taskId()); // another hub stored chunks meanwhile: reload from the store
            } else {
                TaskStreams ts = open.get(c.taskId());
                if (ts != null && c.sequence() > ts.storedSequence) {
                    ts.storedSequence = c.sequence();
                }
                c.session().ackOutput(c.taskId(), c.sequence());
                if (outcomes.get(i) == HistoryStore.Outcome.APPENDED) {
                    publishOutput(c.nodeId(), appends.get(i));
                }
            }
        }
        batchSize.record(stored.size());
        batchStore.record(System.nanoTime() - startedAt, TimeUnit.NANOSECONDS);
    }

    /** The task ended; {@code lastSequence} is its last output chunk. */
    public void result(String nodeId, NodeSession session, String taskId, TaskState state, int exitCode, String error,
            long lastSequence, long startedAtMillis, long finishedAtMillis) {
        submit(nodeId, session, () -> {
            Standing st = standing(nodeId, taskId);
            if (st == Standing.NOT_YOURS) {
                session.violated(NodeSession.Violation.NOT_YOURS, "task " + taskId + " was not issued to this node");
                return;
            }
            if (st == Standing.FINISHED) {
                session.ackResult(taskId); // stored before: a resend
                return;
            }
            TaskStreams ts = streams(nodeId, taskId);
            if (ts.storedSequence < lastSequence) {
                warn(nodeId, "early-result", "task {} result before its output {}; waiting for the resend", taskId,
                        lastSequence);
                return;
            }
            ts.out.finish();
            ts.err.finish();
            try {
                // The unfinished last lines, stored under the sequence after the last chunk.
                List<NewBlock> last = ts.blocks(clock.millis());
                if (history.appendBlocks(nodeId, taskId, lastSequence + 1, last, null, null)
                        == HistoryStore.Outcome.APPENDED) {
                    publishOutput(nodeId, new HistoryStore.Append(nodeId, taskId, lastSequence + 1, last, null, null));
                }
            } catch (RuntimeException e) {
                open.remove(taskId); // the strippers were finished but nothing stored: reload on the resend
                throw e;
            }
            String err = error == null || error.isEmpty() ? null : error;
            raw.ended(taskId, lastSequence); // before the final state: a reader seeing it knows where output ends
            tasks.update(taskId, state, exitCode, err, startedAtMillis > 0 ? startedAtMillis : null, finishedAtMillis,
                    outputEnd(nodeId));
            events.publish(new Event.TaskStateChanged(nodeId, null, taskId, state.wireName(),
                    state == TaskState.EXITED ? exitCode : null, err));
            open.remove(taskId);
            service.finished(nodeId, taskId, state, state == TaskState.EXITED ? exitCode : null, err);
            session.ackResult(taskId);
        });
    }

    private void publishOutput(String nodeId, HistoryStore.Append a) {
        for (NewBlock b : a.blocks()) {
            events.publish(new Event.TaskOutput(nodeId, null, a.taskId(), b.stream(),
                    new TextLines(b.text(), b.lineCount())));
        }
    }

    /** Stops taking work, finishes what is queued (up to 5 seconds), then stops the lanes. */
    @Override
    public void close() {
        for (Lane lane : lanes) {
            lane.closed = true;
        }
        for (Lane lane : lanes) {
            try {
                lane.thread.join(5000);
                if (lane.thread.isAlive()) {
                    lane.thread.interrupt();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                lane.thread.interrupt();
            }
        }
    }
}

package hub.hubd.sessions;

import hub.hubd.audit.AuditLog;
import hub.hubd.auth.Principal;
import hub.hubd.auth.Role;
import hub.hubd.core.HubException;
import hub.hubd.core.StoreFaults;
import hub.hubd.core.Threads;
import hub.hubd.registry.NodeDirectory;
import hub.hubd.registry.NodeRegistry;
import hub.hubd.registry.NodeView;
import hub.hubd.tasks.Task;
import hub.hubd.tasks.TaskOutputStore;
import hub.hubd.tasks.TaskService;
import hub.hubd.tasks.TaskState;
import hub.hubd.tasks.TerminalTap;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.ByteArrayOutputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Interactive terminal sessions ({@code hubctl ssh}): a session is a task run on a pseudo-terminal
 * on its node, held by the client that opened it. Its output reaches that client (and anyone who
 * joined) as it arrives, before it is stored; ingest stores it into the node's history (as text)
 * and into the session's recording (raw, timed). Typed input goes to the agent one chunk at a time
 * (the next once the agent has written the one before; keystrokes typed meanwhile go together),
 * and is recorded only with {@code --record-input}.
 *
 * <p>A session ends when its process ends, when its client goes (the hub asks the agent to kill
 * it, as sshd hangs up), after {@code --session-idle-timeout} without input or output, or when the hub
 * stops (its client is told so; after a restart the agent is told to end it when it reconnects).
 * Each node has at most {@code --session-max-per-node} live sessions. What a client can make the hub
 * hold is bounded: {@value #MAX_PENDING_INPUT} bytes of input not yet taken by the agent per
 * session, and the recording of one session at most {@code --session-max-recording-bytes}.
 */
public final class SessionService implements TerminalTap, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SessionService.class);
    /** Input a session may have waiting for its agent. */
    public static final int MAX_PENDING_INPUT = 1024 * 1024;
    /** Largest input chunk sent to an agent at once. */
    static final int INPUT_CHUNK = 64 * 1024;
    /** An input chunk not acknowledged after this long is sent again (the agent takes it once). */
    static final long INPUT_RESEND_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** Longest command a session may run. */
    public static final int MAX_COMMAND = 64 * 1024;
    private static final Pattern TERM = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,63}");
    private static final Pattern LOCALE_VAR = Pattern.compile("LANG|LANGUAGE|LC_[A-Z]{1,20}");

    /** What a client asks for when it opens a session. */
    public record Request(String command, String user, String term, int columns, int rows, Map<String, String> env) {
        /** Checked: a bad value is INVALID, named. */
        public Request {
            if (command != null && command.length() > MAX_COMMAND) {
                throw HubException.invalid("command is longer than " + MAX_COMMAND + " characters");
            }
            term = term == null || term.isBlank() ? "xterm" : term;
            if (!TERM.matcher(term).matches()) {
                throw HubException.invalid("term must be a terminal type such as xterm-256color (letters, digits, "
                        + ". _ + -, at most 64)");
            }
            checkSize(columns, rows);
            env = env == null ? Map.of() : Map.copyOf(env);
            if (env.size() > 16) {
                throw HubException.invalid("env takes at most 16 variables");
            }
            for (var e : env.entrySet()) {
                if (!LOCALE_VAR.matcher(e.getKey()).matches()) {
                    throw HubException.invalid("env takes LANG, LANGUAGE and LC_* only (as sshd's AcceptEnv), not '"
                            + hub.hubd.core.LogText.safe(e.getKey()) + "'");
                }
                if (e.getValue().length() > 256 || e.getValue().chars().anyMatch(ch -> ch < 0x20)) {
                    throw HubException.invalid("env " + e.getKey() + " must be at most 256 printable characters");
                }
            }
        }
    }

    static void checkSize(int columns, int rows) {
        if (columns < 1 || columns > 1000 || rows < 1 || rows > 1000) {
            throw HubException.invalid("columns and rows must be 1 to 1000 (got " + columns + "x" + rows + ")");
        }
    }

    /** A client of a session: the one that opened it, or one that joined. Methods must not block. */
    public interface Peer {
        /** Output of the session's terminal, in order. */
        void output(byte[] data);

        /** A line from the hub about the session (someone joined, idle warning). */
        void notice(String text);

        /** The session ended: how ({@code state}: exited, failed, cancelled, …), or the hub stopped. */
        void ended(String state, Integer exitCode, String error);
    }

    /** A session that runs now, with its clients. */
    public final class Live {
        private final Task task;
        private final NodeView node;
        private final Principal by;
        private final Peer owner;
        private final List<Watcher> watchers = new CopyOnWriteArrayList<>();
        private volatile long lastActivityNanos = System.nanoTime();
        private volatile boolean ended;
        // output, guarded by this
        private long forwarded;
        // input, guarded by this
        private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
        private long inputSequence;
        private byte[] inFlight;
        private long sentAtNanos;
        private long recordedInput;
        private long resizes;

        private Live(Task task, NodeView node, Principal by, Peer owner) {
            this.task = task;
            this.node = node;
            this.by = by;
            this.owner = owner;
        }

        public String id() {
            return task.id();
        }

        public Task task() {
            return task;
        }

        public NodeView node() {
            return node;
        }

        /** The user who opened it (by id). */
        public String ownerId() {
            return by.userId();
        }

        /** The user who opened it, by name, for display. */
        public String ownerName() {
            return by.user();
        }

        /** How many clients watch it besides its owner. */
        public int watchers() {
            return watchers.size();
        }
    }

    private record Watcher(Principal by, Peer peer, boolean readWrite) {
    }

    private final TaskService tasks;
    private final NodeDirectory nodes;
    private final NodeRegistry registry;
    private final RecordingStore recordings;
    private final AuditLog audit;
    private final Clock clock;
    private final hub.hubd.config.HubConfig.Sessions config;
    private final Map<String, Live> live = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> perNode = new ConcurrentHashMap<>();
    /** Output bytes recorded per session still running (lane threads), for the per-session bound. */
    private final Map<String, long[]> recordedBytes = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    /** Writes input and resize items of the recordings, off the clients' threads. */
    private final ThreadPoolExecutor writer;
    private final Counter opened;
    private final Counter idleEnded;
    private final Counter unrecorded;
    private final Counter inputRefused;
    private final Counter strayAcks;
    private volatile boolean closed;

    public SessionService(TaskService tasks, NodeDirectory nodes, NodeRegistry registry, RecordingStore recordings,
            AuditLog audit, Clock clock, hub.hubd.config.HubConfig.Sessions config, MeterRegistry metrics) {
        this.tasks = tasks;
        this.nodes = nodes;
        this.registry = registry;
        this.recordings = recordings;
        this.audit = audit;
        this.clock = clock;
        this.config = config;
        this.timer = Executors.newSingleThreadScheduledExecutor(Threads.daemons("sessions", true));
        this.writer = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new java.util.concurrent.LinkedBlockingQueue<>(10_000), Threads.daemons("session-recorder", true));
        this.opened = Counter.builder("hub_sessions_opened").description("Terminal sessions opened").register(metrics);
        this.idleEnded = Counter.builder("hub_sessions_idle_ended")
                .description("Terminal sessions ended by --session-idle-timeout").register(metrics);
        this.unrecorded = Counter.builder("hub_session_unrecorded_chunks")
                .description("Session output chunks not recorded: the session was over --session-max-recording-bytes, "
                        + "or the recorder was behind").register(metrics);
        this.inputRefused = Counter.builder("hub_session_input_refused")
                .description("Session input refused: more than " + MAX_PENDING_INPUT + " bytes waited for the agent")
                .register(metrics);
        this.strayAcks = Counter.builder("hub_session_input_stray_acks")
                .description("Session input acknowledgements from a node the session is not on; ignored")
                .register(metrics);
        Gauge.builder("hub_sessions_live", live, Map::size).description("Terminal sessions running now")
                .register(metrics);
        tasks.onFinished(this::finished);
    }

    /** Starts the idle and resend checks and the recordings' retention sweep (once the hub has started). */
    public void start() {
        timer.scheduleWithFixedDelay(this::tick, 500, 500, TimeUnit.MILLISECONDS);
        long sweep = Math.max(60_000, Math.min(3_600_000, config.retention().toMillis() / 4));
        timer.scheduleWithFixedDelay(() -> exclusive.run("recording-retention", this::sweep), sweep, sweep,
                TimeUnit.MILLISECONDS);
    }

    public hub.hubd.config.HubConfig.Sessions config() {
        return config;
    }

    /**
     * Opens a session on a node for {@code owner}. Needs operator on the node.
     *
     * @throws HubException FORBIDDEN, NOT_FOUND, CONFLICT (node offline), UNAVAILABLE (the node has its
     *                      most sessions or tasks, the hub is stopping), INVALID
     */
    public Live open(Principal by, String nodeRef, Request req, Peer owner) {
        if (closed) {
            throw HubException.unavailable("hub is stopping; open the session again in a moment");
        }
        NodeView node = nodes.resolve(by, nodeRef);
        NodeDirectory.require(by, node, Role.OPERATOR);
        String nodeId = node.info().id();
        AtomicInteger count = perNode.computeIfAbsent(nodeId, k -> new AtomicInteger());
        if (count.incrementAndGet() > config.maxPerNode()) {
            count.decrementAndGet();
            throw HubException.unavailable("node " + node.info().name() + " already has " + config.maxPerNode()
                    + " sessions open (--session-max-per-node)");
        }
        Live[] made = new Live[1];
        TaskService.Started s;
        try {
            TaskService.Command c = TaskService.Command.terminal(req.command(), req.user(),
                    new Task.Terminal(req.term(), req.columns(), req.rows(), req.env()));
            s = tasks.createAll(by, List.of(node), c, stored -> {
                if (stored.isEmpty()) {
                    return; // refused (forbidden, offline, the node's queue full): said below
                }
                // Known before the agent can answer: its first output finds the session.
                made[0] = new Live(stored.get(0), node, by, owner);
                live.put(made[0].id(), made[0]);
                recordedBytes.put(made[0].id(), new long[1]);
            }).get(0);
        } catch (RuntimeException e) {
            count.decrementAndGet();
            throw e;
        }
        if (s.refused() != null) {
            count.decrementAndGet();
            throw s.refused();
        }
        if (s.task().state().isFinal()) { // the node went offline as it was sent; finished() took it back
            throw HubException.conflict("node " + node.info().name() + " went offline as the session started");
        }
        opened.increment();
        audit.record(actor(by), "session.open", s.task().id(), nodeId, describe(req), 200);
        log.info("session {} opened on node {} by {}", s.task().id(), nodeId, hub.hubd.core.LogText.safe(by.user()));
        return made[0];
    }

    private static String describe(Request req) {
        StringBuilder b = new StringBuilder();
        b.append(req.command() == null ? "login shell" : req.command());
        if (req.user() != null) {
            b.append(" as ").append(req.user());
        }
        return b.append(" (").append(req.term()).append(' ').append(req.columns()).append('x').append(req.rows())
                .append(')').toString();
    }

    private static AuditLog.Actor actor(Principal by) {
        return new AuditLog.Actor(by.userId(), by.user(), by.tokenId(), null);
    }

    /**
     * Joins a live session: its output from now on; with {@code readWrite}, input too (admins only).
     * Needs admin, or to be the user who opened it.
     *
     * @throws HubException NOT_FOUND (no such session, or not one {@code by} may see), CONFLICT (it has
     *                      ended), FORBIDDEN
     */
    public Live join(Principal by, String id, Peer peer, boolean readWrite) {
        Live l = live.get(id);
        if (l == null) {
            Task t = tasks.get(by, id);
            if (t.terminal() == null) {
                throw HubException.notFound("no session " + id);
            }
            throw HubException.conflict("session " + id + " has ended; play its recording with 'hubctl sessions play "
                    + id + "'");
        }
        nodes.byId(by, l.task.nodeId()); // NOT_FOUND for a node it may not see
        boolean admin = by.role() == Role.ADMIN;
        if (!admin && !by.userId().equals(l.ownerId())) {
            throw HubException.forbidden("joining a session needs admin, or to be the user who opened it");
        }
        if (readWrite && !admin) {
            throw HubException.forbidden("joining a session read-write (--rw) needs admin");
        }
        Watcher w = new Watcher(by, peer, readWrite);
        l.watchers.add(w);
        if (l.ended) { // ended as it was joined
            l.watchers.remove(w);
            throw HubException.conflict("session " + id + " has ended");
        }
        String who = by.user() + (readWrite ? " (read-write)" : " (read-only)");
        l.owner.notice(who + " joined this session");
        audit.record(actor(by), "session.join", id, l.task.nodeId(), readWrite ? "read-write" : "read-only", 200);
        return l;
    }

    /** A client left: a watcher just goes; the owner leaving ends the session (as sshd hangs up). */
    public void left(Live l, Peer peer) {
        if (peer == l.owner) {
            if (!l.ended) {
                tasks.cancelByHub(l.id(), "the hub: its client disconnected");
            }
            return;
        }
        l.watchers.removeIf(w -> w.peer() == peer);
    }

    /**
     * Typed input from {@code peer}: the owner, or a read-write watcher (else FORBIDDEN).
     *
     * @throws HubException UNAVAILABLE when more than {@value #MAX_PENDING_INPUT} bytes wait already
     */
    public void input(Live l, Peer peer, byte[] data) {
        if (peer != l.owner && l.watchers.stream().noneMatch(w -> w.peer() == peer && w.readWrite())) {
            throw HubException.forbidden("this client joined read-only: its input is not taken");
        }
        if (data.length == 0 || l.ended) {
            return;
        }
        l.lastActivityNanos = System.nanoTime();
        synchronized (l) {
            if (l.pending.size() + data.length > MAX_PENDING_INPUT) {
                inputRefused.increment();
                throw HubException.unavailable("more than " + MAX_PENDING_INPUT + " bytes of input wait for node "
                        + l.node.info().name());
            }
            l.pending.write(data, 0, data.length);
            pump(l);
        }
    }

    /** Sends the next input chunk if none is in flight. Holds l's lock. */
    private void pump(Live l) {
        if (l.inFlight != null || l.pending.size() == 0) {
            return;
        }
        byte[] all = l.pending.toByteArray();
        int n = Math.min(all.length, INPUT_CHUNK);
        byte[] chunk = java.util.Arrays.copyOf(all, n);
        l.pending.reset();
        l.pending.write(all, n, all.length - n);
        l.inFlight = chunk;
        l.inputSequence++;
        l.sentAtNanos = System.nanoTime();
        registry.session(l.task.nodeId()).ifPresent(s -> s.sendInput(l.id(), l.inputSequence, chunk, false));
        if (config.recordInput()) {
            record(new RecordingStore.Item(l.id(), RecordingStore.Kind.INPUT, ++l.recordedInput, clock.millis(),
                    l.task.nodeId(), chunk));
        }
    }

    @Override
    public boolean inputAcked(String nodeId, String taskId, long sequence, String error) {
        Live l = live.get(taskId);
        if (l == null) {
            return false;
        }
        if (!l.task.nodeId().equals(nodeId)) {
            strayAcks.increment();
            return true;
        }
        synchronized (l) {
            if (l.inFlight != null && sequence == l.inputSequence) {
                l.inFlight = null;
                pump(l);
            }
        }
        return true;
    }

    /** The client's window changed size. */
    public void resize(Live l, Peer peer, int columns, int rows) {
        checkSize(columns, rows);
        if (peer != l.owner) {
            return; // a watcher's window is its own affair
        }
        registry.session(l.task.nodeId()).ifPresent(s -> s.resizeTerminal(l.id(), columns, rows));
        long n;
        synchronized (l) {
            n = ++l.resizes;
        }
        record(new RecordingStore.Item(l.id(), RecordingStore.Kind.RESIZE, n, clock.millis(), l.task.nodeId(),
                (columns + "x" + rows).getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    }

    private void record(RecordingStore.Item item) {
        try {
            writer.execute(() -> {
                try {
                    recordings.appendAll(List.of(item));
                } catch (RuntimeException e) {
                    unrecorded.increment();
                    StoreFaults.failed(log, "recording " + item.kind().wireName() + " of session " + item.sessionId(), e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            unrecorded.increment();
        }
    }

    @Override
    public void arrived(String nodeId, String taskId, long sequence, byte[] data) {
        Live l = live.get(taskId);
        if (l == null || !l.task.nodeId().equals(nodeId)) {
            return; // not a live session, or not this node's (ingest deals with that)
        }
        synchronized (l) {
            if (sequence != l.forwarded + 1) {
                return; // a resend, or after a gap that the resend fills
            }
            l.forwarded = sequence;
        }
        l.lastActivityNanos = System.nanoTime();
        l.owner.output(data);
        for (Watcher w : l.watchers) {
            w.peer().output(data);
        }
    }

    @Override
    public void record(List<TaskOutputStore.RawChunk> chunks, long atMillis) {
        List<RecordingStore.Item> items = new ArrayList<>(chunks.size());
        for (TaskOutputStore.RawChunk c : chunks) {
            long[] bytes = recordedBytes.computeIfAbsent(c.taskId(), id -> new long[] {recordings.outputBytes(id)});
            if (bytes[0] + c.data().length > config.maxRecordingBytes()) {
                if (bytes[0] <= config.maxRecordingBytes()) {
                    log.warn("session {} recorded {} bytes (--session-max-recording-bytes); the rest is not recorded",
                            c.taskId(), bytes[0]);
                    bytes[0] = config.maxRecordingBytes() + 1; // warned once
                }
                unrecorded.increment();
                continue;
            }
            bytes[0] += c.data().length;
            items.add(new RecordingStore.Item(c.taskId(), RecordingStore.Kind.OUTPUT, c.sequence(), atMillis,
                    c.nodeId(), c.data()));
        }
        recordings.appendAll(items);
    }

    @Override
    public boolean held(String taskId) {
        return live.containsKey(taskId);
    }

    /** A task ended: if it was a live session, its clients are told and it goes. */
    private void finished(String taskId, TaskState state, Integer exitCode, String error) {
        recordedBytes.remove(taskId);
        Live l = live.remove(taskId);
        if (l == null) {
            return;
        }
        l.ended = true;
        AtomicInteger c = perNode.get(l.task.nodeId());
        if (c != null) {
            c.decrementAndGet();
        }
        l.owner.ended(state.wireName(), exitCode, error);
        for (Watcher w : l.watchers) {
            w.peer().ended(state.wireName(), exitCode, error);
        }
        long seconds = Duration.between(l.task.createdAt(), clock.instant()).toSeconds();
        audit.recordLater(AuditLog.Actor.HUB, "session.end", taskId, l.task.nodeId(), state.wireName()
                + (exitCode == null ? "" : " " + exitCode) + " after " + seconds + "s"
                + (error == null ? "" : ": " + error), 200);
    }

    /** Sessions running now that {@code by} may see, for the list. */
    public Live live(String id) {
        return live.get(id);
    }

    private void tick() {
        try {
            long now = System.nanoTime();
            long idle = config.idleTimeout().toNanos();
            for (Live l : live.values()) {
                if (now - l.lastActivityNanos > idle && !l.ended) {
                    l.lastActivityNanos = now; // once: the cancel takes its time
                    idleEnded.increment();
                    String why = "idle for " + hub.hubd.config.Durations.format(config.idleTimeout());
                    l.owner.notice("session " + l.id() + " " + why + " (--session-idle-timeout): ending it");
                    tasks.cancelByHub(l.id(), "the hub: " + why);
                    continue;
                }
                synchronized (l) {
                    if (l.inFlight != null && now - l.sentAtNanos > INPUT_RESEND_NANOS) {
                        l.sentAtNanos = now; // lost with a dropped stream, maybe: the agent takes it once
                        byte[] chunk = l.inFlight;
                        long seq = l.inputSequence;
                        registry.session(l.task.nodeId()).ifPresent(s -> s.sendInput(l.id(), seq, chunk, false));
                    }
                }
            }
        } catch (RuntimeException e) {
            log.error("session check failed", e);
        }
    }

    private volatile hub.hubd.core.Exclusive exclusive = hub.hubd.core.Exclusive.LOCAL;

    /** Keeps the recordings' retention sweep to one hub of a cluster at a time. */
    public void exclusive(hub.hubd.core.Exclusive e) {
        this.exclusive = e;
    }

    private void sweep() {
        try {
            int n = recordings.expire(clock.millis() - config.retention().toMillis());
            if (n > 0) {
                log.info("deleted {} recorded items of sessions that ended over {} ago", n,
                        hub.hubd.config.Durations.format(config.retention()));
            }
        } catch (RuntimeException e) {
            StoreFaults.failed(log, "the session recordings' retention sweep", e);
        }
    }

    /** The node was removed: its recordings go. */
    public void nodeRemoved(String nodeId) {
        perNode.remove(nodeId);
        try {
            recordings.deleteNode(nodeId);
        } catch (RuntimeException e) {
            StoreFaults.failed(log, "deleting the recordings of removed node " + nodeId, e);
        }
    }

    /**
     * The hub is stopping: every live session's clients are told it ended, and its agent is asked to
     * end it (an agent that does not hear it now is told when it reconnects: nobody holds it then).
     */
    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
        for (Live l : List.copyOf(live.values())) {
            l.ended = true;
            try {
                tasks.cancelByHub(l.id(), "the hub: it stopped");
            } catch (RuntimeException e) {
                log.debug("cancelling session {} at stop failed", l.id(), e);
            }
            l.owner.ended("hub-stopped", null, "the hub is stopping; the session ended");
            for (Watcher w : l.watchers) {
                w.peer().ended("hub-stopped", null, "the hub is stopping; the session ended");
            }
        }
        live.clear();
        writer.shutdown();
        try {
            writer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

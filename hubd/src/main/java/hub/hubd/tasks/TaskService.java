package hub.hubd.tasks;

import hub.hubd.auth.Principal;
import hub.hubd.auth.Role;
import hub.hubd.core.HubException;
import hub.hubd.core.Ids;
import hub.hubd.events.Event;
import hub.hubd.events.EventPublisher;
import hub.hubd.history.HistoryStore;
import hub.hubd.registry.NodeDirectory;
import hub.hubd.registry.NodeRegistry;
import hub.hubd.registry.NodeSession;
import hub.hubd.registry.NodeView;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Creates, reads and cancels tasks. A task is sent to the node's live stream at once; a node that
 * is offline gets no task (CONFLICT: the caller decides when to retry, nothing runs by surprise
 * later). Each node has at most {@link #MAX_UNFINISHED} unfinished tasks: the bounded per-node
 * command queue; past it a new task is refused with UNAVAILABLE.
 */
public final class TaskService {
    /** Unfinished tasks allowed per node. */
    public static final int MAX_UNFINISHED = 64;
    /** Longest timeout accepted. */
    public static final Duration MAX_TIMEOUT = Duration.ofDays(7);

    private final TaskRepository repo;
    private final NodeDirectory nodes;
    private final NodeRegistry registry;
    private final HistoryStore history;
    private final Clock clock;
    private final EventPublisher events;
    private final Map<String, AtomicInteger> unfinished = new ConcurrentHashMap<>();

    public TaskService(TaskRepository repo, NodeDirectory nodes, NodeRegistry registry, HistoryStore history,
            Clock clock, EventPublisher events, io.micrometer.core.instrument.MeterRegistry metrics) {
        this.events = events;
        this.history = history;
        this.repo = repo;
        this.nodes = nodes;
        this.registry = registry;
        this.clock = clock;
        this.inputs = new TaskInputs(registry, metrics);
        onFinished((taskId, state, exit, error) -> inputs.ended(taskId));
    }

    private final TaskInputs inputs;

    /** Stdin of the tasks started with it. */
    public TaskInputs inputs() {
        return inputs;
    }

    /**
     * Creates a task on a node and sends it.
     *
     * @throws HubException INVALID (neither or both of command and argv, bad timeout), NOT_FOUND,
     *                      CONFLICT (node offline), UNAVAILABLE (node's queue full), FORBIDDEN
     */
    public Task create(Principal by, String nodeRef, String command, List<String> argv, Duration timeout) {
        return create(by, nodeRef, command, argv, timeout, null);
    }

    /** A local user name as POSIX systems allow it (useradd's default rule). */
    private static final java.util.regex.Pattern USER = java.util.regex.Pattern.compile("[a-z_][a-z0-9_.-]{0,31}");

    /**
     * The same, run as the local user {@code runAs} on the node (null: the agent's default); the
     * node's agent decides whether it allows that user.
     */
    public Task create(Principal by, String nodeRef, String command, List<String> argv, Duration timeout,
            String runAs) {
        return create(by, nodeRef, command, argv, timeout, runAs, false);
    }

    /** As above; with {@code stdin} the process reads what {@link #inputs()} is sent (else /dev/null). */
    public Task create(Principal by, String nodeRef, String command, List<String> argv, Duration timeout,
            String runAs, boolean stdin) {
        if (runAs != null && !USER.matcher(runAs).matches()) {
            throw HubException.invalid("user must be a local user name (a-z, 0-9, _ . -, at most 32, not "
                    + "starting with a digit), not '" + hub.hubd.core.LogText.safe(runAs) + "'");
        }
        boolean hasCommand = command != null && !command.isBlank();
        boolean hasArgv = argv != null && !argv.isEmpty();
        if (hasCommand == hasArgv) {
            throw HubException.invalid("give exactly one of command and argv");
        }
        if (hasArgv && argv.stream().anyMatch(a -> a == null || a.indexOf('\0') >= 0)) {
            throw HubException.invalid("argv elements must be strings without NUL");
        }
        if (hasCommand && command.indexOf('\0') >= 0) {
            throw HubException.invalid("command must not contain NUL");
        }
        long timeoutMs = timeout == null ? 0 : timeout.toMillis();
        if (timeoutMs < 0 || (timeout != null && timeout.compareTo(MAX_TIMEOUT) > 0)) {
            throw HubException.invalid("timeout must be between 1ms and 7d");
        }
        NodeView node = nodes.resolve(by, nodeRef);
        NodeDirectory.require(by, node, Role.OPERATOR);
        String nodeId = node.info().id();
        NodeSession session = registry.session(nodeId).orElseThrow(() -> HubException.conflict(
                "node " + node.info().name() + " is offline; tasks are only sent to online nodes"));
        AtomicInteger count = unfinished.computeIfAbsent(nodeId, k -> new AtomicInteger());
        if (count.incrementAndGet() > MAX_UNFINISHED) {
            count.decrementAndGet();
            throw HubException.unavailable("node " + node.info().name() + " already has " + MAX_UNFINISHED
                    + " unfinished tasks; wait or cancel some");
        }
        Instant now = clock.instant();
        // Taken before the task exists: every line of its output will come after this offset.
        long outputAfter;
        try {
            outputAfter = history.tail(nodeId, 0).nextOffset();
        } catch (RuntimeException e) {
            count.decrementAndGet();
            throw e;
        }
        Task t = new Task(Ids.newId(), nodeId, by.user(), hasCommand ? command : null, hasArgv ? argv : null,
                timeoutMs, TaskState.QUEUED, null, null, now, null, null, null,
                new Task.OutputRange(outputAfter, null), runAs);
        try {
            repo.insert(t);
        } catch (RuntimeException e) {
            count.decrementAndGet();
            throw e;
        }
        if (session.runCommand(t.id(), t.command(), t.argv(), timeoutMs, t.runAs(), stdin)) {
            repo.update(t.id(), TaskState.SENT, null, null, null, null, null);
            events.publish(new Event.TaskStateChanged(nodeId, node.info().owner(), t.id(), "sent", null, null));
        } else {
            String error = "node went offline before the task was sent";
            finished(nodeId, t.id(), TaskState.FAILED, null, error);
            repo.update(t.id(), TaskState.FAILED, null, error, null, clock.millis(), outputAfter);
            events.publish(new Event.TaskStateChanged(nodeId, node.info().owner(), t.id(), "failed", null, error));
        }
        return get(by, t.id());
    }

    /** A task by id, without an access check (for the hub's own work, such as runs). */
    public java.util.Optional<Task> find(String id) {
        return repo.find(id);
    }

    /** A task visible to {@code by}. */
    public Task get(Principal by, String id) {
        Task t = repo.find(id).orElseThrow(() -> HubException.notFound("no task " + id));
        try {
            nodes.byId(by, t.nodeId()); // by id only: a node named like another's id gets nothing
        } catch (HubException e) {
            if (e.kind() == HubException.Kind.NOT_FOUND && !by.seesAllNodes()) {
                throw HubException.notFound("no task " + id);
            }
            // the node was removed since: its tasks stay readable
        }
        return t;
    }

    /**
     * Throws unless {@code by} may run commands on the task's node (operator there), or is an admin
     * when its node was removed: what cancelling a task or releasing its output needs.
     */
    public void requireOperator(Principal by, Task t) {
        try {
            NodeDirectory.require(by, nodes.byId(by, t.nodeId()), Role.OPERATOR);
        } catch (HubException e) {
            if (e.kind() != HubException.Kind.NOT_FOUND) {
                throw e;
            }
            by.require(Role.ADMIN); // its node was removed: get() let an admin see the task
        }
    }

    /**
     * A node's tasks in {@code states}, newest first, at most {@code limit}, created before
     * {@code before} (null: from the newest).
     */
    public List<Task> list(Principal by, String nodeRef, java.util.Set<TaskState> states,
            TaskRepository.Position before, int limit) {
        return repo.list(nodes.resolve(by, nodeRef).info().id(), states, before, limit);
    }

    /** The node's most recent task, if it has any. */
    public java.util.Optional<Task> latest(Principal by, String nodeRef) {
        return repo.latest(nodes.resolve(by, nodeRef).info().id());
    }

    /**
     * Asks the agent to kill the task; a finished task is returned as it is. The request is kept
     * with the task, so when the node is offline (or its stream drops before the agent gets it) it
     * is sent again when the agent reconnects still holding the task.
     */
    public Task cancel(Principal by, String id) {
        Task t = get(by, id);
        requireOperator(by, t);
        if (t.state().isFinal()) {
            return t;
        }
        // Stored before the session is looked up: a reconnect that attaches after this lookup
        // reconciles after the store has it, so one of the two always sends the cancel.
        repo.requestCancel(id, new Task.CancelRequest(clock.instant(), by.user()));
        Task requested = get(by, id);
        if (requested.cancel() != null) {
            registry.session(t.nodeId()).ifPresent(s -> s.cancelTask(id, requested.cancel().reason()));
        }
        return requested;
    }

    /** The node was removed: nothing more will come from it, so its tasks are no longer counted. */
    void forget(String nodeId) {
        unfinished.remove(nodeId);
    }

    /** Told when a task reaches a final state (runs follow their tasks so). Must not block. */
    public interface FinishListener {
        void finished(String taskId, TaskState state, Integer exitCode, String error);
    }

    private final java.util.List<FinishListener> finishListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public void onFinished(FinishListener l) {
        finishListeners.add(l);
    }

    /** A task of the node reached a final state (called by ingest). */
    void finished(String nodeId, String taskId, TaskState state, Integer exitCode, String error) {
        AtomicInteger c = unfinished.get(nodeId);
        if (c != null && c.get() > 0) {
            c.decrementAndGet();
        }
        for (FinishListener l : finishListeners) {
            try {
                l.finished(taskId, state, exitCode, error);
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(TaskService.class).error("a task finish listener failed", e);
            }
        }
    }
}

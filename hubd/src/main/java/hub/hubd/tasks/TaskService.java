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
import java.util.ArrayList;
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

    /**
     * A cluster: the streams other hubs hold, and where this hub's task ends are told. Null for one
     * hub.
     */
    public interface Remote {
        /** Sessions for the nodes of {@code nodeIds} that another live hub holds (one batched read). */
        Map<String, NodeSession> sessions(java.util.Collection<String> nodeIds);

        /** A task ended on this hub (its node's stream is here): tell the hub that made it. */
        void ended(String nodeId, String taskId, TaskState state, Integer exitCode, String error);
    }

    private volatile Remote remote;
    /** Tasks made here and sent through another hub, by id: node id (their end comes on the bus). */
    private final Map<String, String> sentElsewhere = new ConcurrentHashMap<>();

    /** Sends tasks to nodes other hubs hold through them (a cluster). */
    public void remote(Remote r) {
        this.remote = r;
    }

    /** The node's stream: this hub's, or (a cluster) another hub's, or none. */
    private java.util.Optional<NodeSession> sessionOf(String nodeId) {
        java.util.Optional<NodeSession> local = registry.session(nodeId);
        Remote r = remote;
        if (local.isPresent() || r == null) {
            return local;
        }
        return java.util.Optional.ofNullable(r.sessions(List.of(nodeId)).get(nodeId));
    }

    /**
     * A task made by another hub of the cluster for a node whose stream this hub holds: sent now,
     * from the stored task.
     *
     * @return false when the node's stream is not here (moved, offline) or the task is not open
     */
    public boolean sendStored(String taskId, boolean stdin) {
        Task t = repo.find(taskId).orElse(null);
        if (t == null || t.state() != TaskState.QUEUED || t.terminal() != null) {
            return false;
        }
        NodeSession s = registry.session(t.nodeId()).orElse(null);
        // Taken from the queue first: of all the hubs asked to send it, one does, once.
        if (s == null || !repo.move(taskId, TaskState.QUEUED, TaskState.SENT, null, null, null)) {
            return false;
        }
        if (s.runCommand(t.id(), t.command(), t.argv(), t.timeoutMs(), t.runAs(), stdin)) {
            return true;
        }
        repo.move(taskId, TaskState.SENT, TaskState.QUEUED, null, null, null); // not sent: queued again
        return false;
    }

    /** How long a task made here for a node on another hub waits for that node's stream. */
    public static final Duration DELIVERY_WAIT = Duration.ofSeconds(60);

    /** A task made here, stored {@code queued}, that no hub has sent yet. */
    private record Waiting(String nodeId, String owner, boolean stdin, long deadlineNanos) {
    }

    /** Tasks made here waiting for a hub to send them, by id. */
    private final Map<String, Waiting> waiting = new ConcurrentHashMap<>();
    private volatile java.util.concurrent.ScheduledExecutorService deliveries;

    /** Tasks waiting for their node's stream (a node moving between hubs). */
    public int waitingCount() {
        return waiting.size();
    }

    private void await(Task t, String owner, boolean stdin) {
        waiting.put(t.id(), new Waiting(t.nodeId(), owner, stdin, System.nanoTime() + DELIVERY_WAIT.toNanos()));
        java.util.concurrent.ScheduledExecutorService d = deliveries;
        if (d == null) {
            synchronized (this) {
                if (deliveries == null) {
                    deliveries = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                            hub.hubd.core.Threads.daemons("task-deliveries", false));
                    deliveries.scheduleWithFixedDelay(this::deliverWaiting, 250, 250,
                            java.util.concurrent.TimeUnit.MILLISECONDS);
                }
            }
        }
    }

    /**
     * One round of the tasks waiting for their node: each is sent through the hub that holds its
     * node now (this one, or another), and fails once it waited {@link #DELIVERY_WAIT}. Whichever
     * hub sends one takes it from {@code queued} first, so it is sent once.
     */
    private void deliverWaiting() {
        if (waiting.isEmpty()) {
            return;
        }
        try {
            Remote r = remote;
            List<String> remoteNodes = new ArrayList<>();
            for (Waiting w : waiting.values()) {
                if (registry.session(w.nodeId()).isEmpty()) {
                    remoteNodes.add(w.nodeId());
                }
            }
            Map<String, NodeSession> elsewhere = r == null || remoteNodes.isEmpty() ? Map.of()
                    : r.sessions(remoteNodes);
            long now = System.nanoTime();
            for (Map.Entry<String, Waiting> e : List.copyOf(waiting.entrySet())) {
                String id = e.getKey();
                Waiting w = e.getValue();
                boolean sent;
                if (registry.session(w.nodeId()).isPresent()) {
                    sent = sendStored(id, w.stdin());
                } else {
                    NodeSession s = elsewhere.get(w.nodeId());
                    Task t = repo.find(id).orElse(null);
                    sent = s != null && t != null && t.state() == TaskState.QUEUED
                            && s.runCommand(id, t.command(), t.argv(), t.timeoutMs(), t.runAs(), w.stdin());
                }
                if (sent) {
                    waiting.remove(id);
                    events.publish(new Event.TaskStateChanged(w.nodeId(), w.owner(), id, "sent", null, null));
                    continue;
                }
                Task t = repo.find(id).orElse(null);
                if (t == null || t.state() != TaskState.QUEUED) { // sent, cancelled or failed by another hub
                    waiting.remove(id);
                } else if (now - w.deadlineNanos() > 0) {
                    waiting.remove(id);
                    String error = "its node was not back on any hub within " + DELIVERY_WAIT.toSeconds()
                            + " s (its hub was lost); the task was never sent";
                    if (repo.move(id, TaskState.QUEUED, TaskState.FAILED, error, clock.millis(), t.output().after())) {
                        events.publish(new Event.TaskStateChanged(w.nodeId(), w.owner(), id, "failed", null, error));
                        finished(w.nodeId(), id, TaskState.FAILED, null, error);
                    }
                }
            }
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(TaskService.class).warn(
                    "sending queued tasks failed (retried): {}", e.toString());
        }
    }

    /** Another hub of the cluster asks this one to send a stored cancel to the task's node. */
    public boolean cancelStored(String taskId) {
        Task t = repo.find(taskId).orElse(null);
        if (t == null || t.state().isFinal() || t.cancel() == null) {
            return false;
        }
        NodeSession s = registry.session(t.nodeId()).orElse(null);
        if (s != null) {
            s.cancelTask(taskId, t.cancel().reason());
        }
        return s != null;
    }

    /**
     * A task ended on another hub of the cluster; if this hub made it, it stops counting it and
     * tells its listeners (a run here follows it).
     */
    public void finishedElsewhere(String taskId, TaskState state, Integer exitCode, String error) {
        String nodeId = sentElsewhere.remove(taskId);
        if (nodeId != null) {
            notifyFinished(nodeId, taskId, state, exitCode, error);
        }
    }

    /**
     * A task another hub made (a run this hub took over follows it): its end, wherever its node's
     * stream is, is told to this hub.
     */
    public void follow(String taskId, String nodeId) {
        if (remote != null && registry.session(nodeId).isEmpty()) {
            sentElsewhere.put(taskId, nodeId);
        }
    }

    /**
     * The tasks this hub made and sent through another, for the reconcile that repairs a lost end
     * message: their ids.
     */
    public java.util.Set<String> sentElsewhere() {
        return java.util.Set.copyOf(sentElsewhere.keySet());
    }

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
        Command c = Command.of(command, argv, timeout, runAs, stdin);
        NodeView node = nodes.resolve(by, nodeRef);
        Started s = createAll(by, List.of(node), c, stored -> { }).get(0);
        if (s.refused() != null) {
            throw s.refused();
        }
        return s.task();
    }

    /** What a task runs, checked: the same for every node of a run's wave. */
    public record Command(String command, List<String> argv, long timeoutMs, String runAs, boolean stdin,
            Task.Terminal terminal) {
        public Command(String command, List<String> argv, long timeoutMs, String runAs, boolean stdin) {
            this(command, argv, timeoutMs, runAs, stdin, null);
        }

        /**
         * A terminal session: the login shell, or {@code command} run by the user's shell (null: none).
         *
         * @throws HubException INVALID: a NUL in the command, a bad user
         */
        public static Command terminal(String command, String runAs, Task.Terminal terminal) {
            checkUser(runAs);
            if (command != null && command.indexOf('\0') >= 0) {
                throw HubException.invalid("command must not contain NUL");
            }
            return new Command(command == null || command.isBlank() ? null : command, null, 0, runAs, true,
                    java.util.Objects.requireNonNull(terminal));
        }

        private static void checkUser(String runAs) {
            if (runAs != null && !USER.matcher(runAs).matches()) {
                throw HubException.invalid("user must be a local user name (a-z, 0-9, _ . -, at most 32, not "
                        + "starting with a digit), not '" + hub.hubd.core.LogText.safe(runAs) + "'");
            }
        }

        /**
         * @throws HubException INVALID: neither or both of command and argv, a NUL, a bad timeout or user
         */
        public static Command of(String command, List<String> argv, Duration timeout, String runAs, boolean stdin) {
            checkUser(runAs);
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
            return new Command(hasCommand ? command : null, hasArgv ? List.copyOf(argv) : null, timeoutMs, runAs,
                    stdin);
        }
    }

    /**
     * One node's part of {@link #createAll}: its task (state {@code sent}, or {@code failed} when the
     * node went offline as it was sent), or why none was made (FORBIDDEN, CONFLICT offline,
     * UNAVAILABLE queue full).
     */
    public record Started(NodeView node, Task task, HubException refused) {
    }

    /**
     * Creates a task on each node and sends it. The tasks are stored together (one transaction),
     * then {@code beforeSend} is given them (a run records its nodes' tasks so, before any can end),
     * then each is sent. A task is stored as {@code sent}: one that the hub stops before sending is
     * found missing when its node reconnects, and fails as lost.
     *
     * @return one entry per node, in order
     * @throws RuntimeException when the store fails: nothing was stored or sent
     */
    public List<Started> createAll(Principal by, List<NodeView> targets, Command c,
            java.util.function.Consumer<List<Task>> beforeSend) {
        Instant now = clock.instant();
        List<Started> out = new ArrayList<>(targets.size());
        List<Task> made = new ArrayList<>(targets.size());
        List<NodeSession> sessions = new ArrayList<>(targets.size());
        Remote r = remote;
        Map<String, NodeSession> elsewhere = Map.of();
        if (r != null) {
            List<String> notHere = new ArrayList<>();
            for (NodeView node : targets) {
                if (registry.session(node.info().id()).isEmpty()) {
                    notHere.add(node.info().id());
                }
            }
            elsewhere = notHere.isEmpty() ? Map.of() : r.sessions(notHere);
        }
        try {
            for (NodeView node : targets) {
                String nodeId = node.info().id();
                try {
                    NodeDirectory.require(by, node, Role.OPERATOR);
                } catch (HubException e) {
                    out.add(new Started(node, null, e));
                    continue;
                }
                NodeSession session = registry.session(nodeId).orElse(elsewhere.get(nodeId));
                if (session == null) {
                    out.add(new Started(node, null, HubException.conflict("node " + node.info().name()
                            + " is offline; tasks are only sent to online nodes")));
                    continue;
                }
                AtomicInteger count = unfinished.computeIfAbsent(nodeId, k -> new AtomicInteger());
                if (count.incrementAndGet() > MAX_UNFINISHED) {
                    count.decrementAndGet();
                    out.add(new Started(node, null, HubException.unavailable("node " + node.info().name()
                            + " already has " + MAX_UNFINISHED + " unfinished tasks; wait or cancel some")));
                    continue;
                }
                // A task for another hub's node is queued until that hub takes it and sends it.
                TaskState first = registry.session(nodeId).isPresent() || c.terminal() != null ? TaskState.SENT
                        : TaskState.QUEUED;
                Task t = new Task(Ids.newId(), nodeId, by.user(), c.command(), c.argv(), c.timeoutMs(), first,
                        null, null, now, null, null, null, null, c.runAs(), c.terminal());
                made.add(t); // counted: taken back below if it is not stored
                sessions.add(session);
                out.add(new Started(node, t, null));
            }
            // Taken before the tasks exist: every line of their output will come after these offsets.
            for (int i = 0; i < made.size(); i++) {
                Task t = made.get(i);
                long after = history.tail(t.nodeId(), 0).nextOffset();
                made.set(i, t.with(t.state(), null, null, new Task.OutputRange(after, null)));
            }
            repo.insertAll(made);
        } catch (RuntimeException e) {
            for (Task t : made) {
                unfinished.get(t.nodeId()).decrementAndGet();
            }
            throw e;
        }
        beforeSend.accept(List.copyOf(made));
        int next = 0;
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i).task() == null) {
                continue;
            }
            Task t = made.get(next);
            NodeSession session = sessions.get(next++);
            String owner = out.get(i).node().info().owner();
            boolean sent = c.terminal() == null
                    ? session.runCommand(t.id(), t.command(), t.argv(), t.timeoutMs(), t.runAs(), c.stdin())
                    : session.runTerminal(t.id(), t.command(), t.runAs(), c.terminal().term(),
                            c.terminal().columns(), c.terminal().rows(), c.terminal().env());
            if (t.state() == TaskState.QUEUED) {
                sentElsewhere.put(t.id(), t.nodeId()); // its end comes from whichever hub sends it
                if (sent) {
                    t = t.with(TaskState.SENT, null, null, t.output());
                    events.publish(new Event.TaskStateChanged(t.nodeId(), owner, t.id(), "sent", null, null));
                } else {
                    // Its hub is gone or the node moved: sent through the node's next hub, or failed in time.
                    await(t, owner, c.stdin());
                    events.publish(new Event.TaskStateChanged(t.nodeId(), owner, t.id(), "queued", null, null));
                }
                out.set(i, new Started(out.get(i).node(), t, null));
            } else if (sent) {
                events.publish(new Event.TaskStateChanged(t.nodeId(), owner, t.id(), "sent", null, null));
                out.set(i, new Started(out.get(i).node(), t, null));
            } else {
                String error = "node went offline before the task was sent";
                long at = clock.millis();
                repo.update(t.id(), TaskState.FAILED, null, error, null, at, t.output().after());
                finished(t.nodeId(), t.id(), TaskState.FAILED, null, error);
                events.publish(new Event.TaskStateChanged(t.nodeId(), owner, t.id(), "failed", null, error));
                out.set(i, new Started(out.get(i).node(), t.with(TaskState.FAILED, error,
                        java.time.Instant.ofEpochMilli(at), new Task.OutputRange(t.output().after(),
                        t.output().after())), null));
            }
        }
        return out;
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
        if (requested.state() == TaskState.QUEUED) { // no hub sent it yet: it never will
            String error = "cancelled by " + by.user() + " before it reached its node";
            if (repo.move(id, TaskState.QUEUED, TaskState.CANCELLED, error, clock.millis(), t.output().after())) {
                waiting.remove(id);
                events.publish(new Event.TaskStateChanged(t.nodeId(), null, id, "cancelled", null, error));
                finished(t.nodeId(), id, TaskState.CANCELLED, null, error);
                return get(by, id);
            }
            requested = get(by, id); // sent meanwhile: the cancel goes to its node
        }
        Task.CancelRequest c = requested.cancel();
        if (c != null) {
            sessionOf(t.nodeId()).ifPresent(s -> s.cancelTask(id, c.reason()));
        }
        return requested;
    }

    /**
     * Asks the agent to kill the task for the hub's own reason (a session's idle timeout, its client
     * gone): kept with the task as {@link #cancel} does; its error says "cancelled by {@code who}".
     */
    public void cancelByHub(String id, String who) {
        repo.requestCancel(id, new Task.CancelRequest(clock.instant(), who));
        repo.find(id).filter(t -> !t.state().isFinal() && t.cancel() != null).ifPresent(t ->
                sessionOf(t.nodeId()).ifPresent(s -> s.cancelTask(id, t.cancel().reason())));
    }

    /** Stops the round that sends queued tasks. */
    public void close() {
        var d = deliveries;
        if (d != null) {
            d.shutdownNow();
        }
    }

    /** Terminal sessions of a node visible to {@code by} (null: every node {@code by} sees), newest first. */
    public List<Task> sessions(Principal by, String nodeRef, TaskRepository.Position before, int limit) {
        if (nodeRef != null) {
            return repo.sessions(nodes.resolve(by, nodeRef).info().id(), before, limit);
        }
        if (by.seesAllNodes()) {
            return repo.sessions(null, before, limit);
        }
        List<Task> out = new ArrayList<>();
        TaskRepository.Position from = before;
        while (out.size() < limit) { // a user who sees some nodes: skip the others' sessions
            List<Task> page = repo.sessions(null, from, Math.max(limit, 100));
            for (Task t : page) {
                if (out.size() < limit && visible(by, t)) {
                    out.add(t);
                }
            }
            if (page.size() < Math.max(limit, 100)) {
                break;
            }
            from = TaskRepository.Position.of(page.get(page.size() - 1));
        }
        return out;
    }

    private boolean visible(Principal by, Task t) {
        try {
            nodes.byId(by, t.nodeId());
            return true;
        } catch (HubException e) {
            return false;
        }
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
        Remote r = remote;
        if (r != null && sentElsewhere.remove(taskId) == null) {
            r.ended(nodeId, taskId, state, exitCode, error); // ended here: the hub that made it is told
        }
        notifyFinished(nodeId, taskId, state, exitCode, error);
    }

    private void notifyFinished(String nodeId, String taskId, TaskState state, Integer exitCode, String error) {
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

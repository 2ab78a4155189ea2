package hub.hubd.runs;

import hub.hubd.auth.Principal;
import hub.hubd.auth.Role;
import hub.hubd.core.HubException;
import hub.hubd.core.Ids;
import hub.hubd.core.Selector;
import hub.hubd.registry.NodeDirectory;
import hub.hubd.registry.NodeStatus;
import hub.hubd.registry.NodeView;
import hub.hubd.tasks.Task;
import hub.hubd.tasks.TaskService;
import hub.hubd.tasks.TaskState;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs: one command on many nodes, rolled out as SSM Run Command does. The targets are resolved
 * once, at creation, into an ordered node list; at most {@code parallel} of its tasks are unfinished
 * at once; once more than {@code maxErrors} nodes failed (a non-zero exit, a failure to run, a
 * timeout) no further node is started and the rest are {@code skipped}. An offline node is an
 * {@code offline} outcome, never silently left out, and does not count as an error. The work of a
 * run (launching, following its tasks) happens on one thread, so a run's state has one writer.
 */
public final class RunService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RunService.class);
    /** Nodes in one run at most. */
    public static final int MAX_NODES = 10_000;
    private static final Pattern COUNT = Pattern.compile("([0-9]{1,6})(%?)");

    private final RunRepository repo;
    private final NodeDirectory nodes;
    private final TaskService tasks;
    private final Clock clock;
    private final Function<String, Optional<Principal>> principalOf;
    /** Runs still running, by id; and their tasks, by task id. */
    private final Map<String, Live> live = new ConcurrentHashMap<>();
    private final Map<String, Live> byTask = new ConcurrentHashMap<>();
    /** The one thread that changes runs; what waits for it, so a burst of results is stored in one write. */
    private final java.util.concurrent.LinkedBlockingQueue<Runnable> workerQueue =
            new java.util.concurrent.LinkedBlockingQueue<>();
    private final ExecutorService worker = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0,
            java.util.concurrent.TimeUnit.MILLISECONDS, workerQueue, hub.hubd.core.Threads.daemons("runs", false));

    /** What to run where, as asked. */
    public record Request(String command, List<String> argv, String selector, List<String> nodes, boolean all,
            String parallel, String maxErrors, Duration timeout, String user, Duration batchWait, boolean stdin) {
    }

    /** A running run: its stored form, kept current, and who started it. */
    private static final class Live {
        volatile Run run;
        final Principal by;
        /** With a batch wait: when the next batch may start (worker thread only). */
        long nextBatchAtMillis;
        /** A pump is scheduled for then. */
        boolean batchScheduled;
        /** Nodes changed in memory and not stored yet, by position (worker thread only). */
        final Map<Integer, Run.Node> dirty = new java.util.TreeMap<>();

        Live(Run run, Principal by) {
            this.run = run;
            this.by = by;
        }
    }

    /**
     * @param principalOf the user with that id as it is now (its role and grants), for runs that a
     *                    hub restart left running
     */
    public RunService(RunRepository repo, NodeDirectory nodes, TaskService tasks, Clock clock,
            Function<String, Optional<Principal>> principalOf) {
        this.repo = repo;
        this.nodes = nodes;
        this.tasks = tasks;
        this.clock = clock;
        this.principalOf = principalOf;
        tasks.onFinished((taskId, state, exit, error) -> {
            Live l = byTask.get(taskId);
            if (l != null) {
                worker.execute(safely(l, () -> taskEnded(l, taskId, state, exit, error)));
            }
        });
    }

    /**
     * Picks up the runs a stopped hub left running: their tasks are followed at once, and the nodes
     * not started yet are started after {@code delay} (agents reconnect to a restarted hub meanwhile;
     * started at once they would all be offline).
     */
    public void resume(Duration delay) {
        for (Run r : repo.unfinished()) {
            Optional<Principal> by = principalOf.apply(r.ownerId());
            Live l = new Live(r, by.orElse(null));
            live.put(r.id(), l);
            for (Run.Node n : r.nodes()) {
                if (n.outcome() == Run.Outcome.RUNNING && n.taskId() != null) {
                    byTask.put(n.taskId(), l);
                }
            }
            java.util.concurrent.CompletableFuture.delayedExecutor(delay.toMillis(),
                    java.util.concurrent.TimeUnit.MILLISECONDS, worker).execute(safely(l, () -> {
                for (Run.Node n : l.run.nodes()) { // a task that ended while the hub was away
                    if (n.outcome() == Run.Outcome.RUNNING && n.taskId() != null) {
                        Task t = tasks.find(n.taskId()).orElse(null);
                        if (t != null && t.state().isFinal()) {
                            taskEnded(l, t.id(), t.state(), t.exitCode(), t.error());
                        }
                    }
                }
                if (l.by == null) {
                    stop(l, Run.State.CANCELLED, "its user no longer exists");
                } else {
                    pump(l);
                }
            }));
        }
    }

    /**
     * Resolves the targets and starts the run.
     *
     * @throws HubException INVALID (no command, no or both targets, bad parallel/maxErrors, no node
     *         matched), NOT_FOUND (a named node), FORBIDDEN (a node it may not run commands on)
     */
    public Run create(Principal by, Request req) {
        boolean hasCommand = req.command() != null && !req.command().isBlank();
        boolean hasArgv = req.argv() != null && !req.argv().isEmpty();
        if (hasCommand == hasArgv) {
            throw HubException.invalid("give exactly one of command and argv");
        }
        boolean hasSelector = req.selector() != null && !req.selector().isBlank();
        boolean hasNodes = req.nodes() != null && !req.nodes().isEmpty();
        if ((hasSelector ? 1 : 0) + (hasNodes ? 1 : 0) + (req.all() ? 1 : 0) != 1) {
            throw HubException.invalid("give exactly one of selector, nodes and all");
        }
        List<NodeView> targets = new ArrayList<>();
        if (req.all()) {
            targets.addAll(nodes.list(by, new NodeDirectory.Filter(null, null)).stream()
                    .filter(v -> { // every node it may run commands on; the ones it only sees are left out
                        Role r = NodeDirectory.roleOn(by, v);
                        return r != null && r.atLeast(Role.OPERATOR);
                    }).toList());
        } else if (hasSelector) {
            targets.addAll(nodes.list(by, new NodeDirectory.Filter(null, Selector.parse(req.selector()))));
        } else {
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (String ref : req.nodes()) {
                NodeView v = nodes.resolve(by, ref);
                if (seen.add(v.info().id())) {
                    targets.add(v);
                }
            }
        }
        if (targets.isEmpty()) {
            throw HubException.invalid(req.all() ? "there is no node you may run commands on"
                    : "no node matches '" + req.selector() + "'");
        }
        if (targets.size() > MAX_NODES) {
            throw HubException.invalid("a run takes at most " + MAX_NODES + " nodes; " + targets.size() + " match");
        }
        for (NodeView v : targets) {
            NodeDirectory.require(by, v, Role.OPERATOR);
        }
        int parallel = count("parallel", req.parallel(), "10%", targets.size(), 1);
        int maxErrors = count("maxErrors", req.maxErrors(), "0", targets.size(), 0);
        List<Run.Node> list = new ArrayList<>(targets.size());
        for (int i = 0; i < targets.size(); i++) {
            NodeView v = targets.get(i);
            list.add(new Run.Node(i, v.info().id(), v.info().name(), null, Run.Outcome.PENDING, null, null));
        }
        long timeoutMs = req.timeout() == null ? 0 : req.timeout().toMillis();
        Run run = new Run(Ids.newId(), by.user(), by.userId(), hasCommand ? req.command() : null,
                hasArgv ? List.copyOf(req.argv()) : null, req.user(), hasSelector ? req.selector() : null, parallel,
                maxErrors, timeoutMs, req.batchWait() == null ? 0 : req.batchWait().toMillis(), req.stdin(),
                Run.State.RUNNING, clock.instant(), null, List.copyOf(list));
        repo.insert(run);
        Live l = new Live(run, by);
        live.put(run.id(), l);
        try {
            worker.submit(() -> pump(l)).get(); // the first wave is started before the answer
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return get(by, run.id());
    }

    /** {@code N} or {@code P%} of {@code of}, rounded up, at least {@code min}. */
    static int count(String what, String value, String dflt, int of, int min) {
        String v = value == null || value.isBlank() ? dflt : value.strip();
        Matcher m = COUNT.matcher(v);
        if (!m.matches()) {
            throw HubException.invalid(what + " must be a number or a percentage (10, 25%), not '"
                    + hub.hubd.core.LogText.safe(v) + "'");
        }
        int n = Integer.parseInt(m.group(1));
        if (!m.group(2).isEmpty()) {
            if (n > 100) {
                throw HubException.invalid(what + " must be at most 100%");
            }
            n = (int) Math.ceil(of * n / 100.0);
        }
        return Math.max(min, n);
    }

    /** A run {@code by} may see: its own, or any for admins. */
    public Run get(Principal by, String id) {
        Live l = live.get(id);
        Run r = l != null ? l.run : repo.find(id).orElseThrow(() -> HubException.notFound("no run " + id));
        if (!by.seesAllNodes() && !by.owns(r.ownerId())) {
            throw HubException.notFound("no run " + id);
        }
        return r;
    }

    /** The newest runs {@code by} may see. */
    public List<Run> list(Principal by, int limit) {
        List<Run> stored = repo.list(by.seesAllNodes() ? null : by.userId(), limit);
        List<Run> out = new ArrayList<>(stored.size());
        for (Run r : stored) {
            Live l = live.get(r.id());
            out.add(l != null ? l.run : r);
        }
        return out;
    }

    /** Cancels a run: no node is started any more, and its unfinished tasks are cancelled. */
    public Run cancel(Principal by, String id) {
        Run r = get(by, id);
        Live l = live.get(id);
        if (l == null || r.state().isFinal()) {
            return r;
        }
        try {
            worker.submit(() -> {
                stop(l, Run.State.CANCELLED, "run cancelled by " + by.user());
                for (Run.Node n : l.run.nodes()) {
                    if (n.outcome() == Run.Outcome.RUNNING && n.taskId() != null) {
                        try {
                            tasks.cancel(l.by == null ? by : l.by, n.taskId());
                        } catch (HubException e) {
                            log.info("run {}: cancelling task {} failed: {}", id, n.taskId(), e.getMessage());
                        }
                    }
                }
            }).get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return get(by, id);
    }

    /**
     * Worker thread: starts nodes while fewer than {@code parallel} are unfinished. The nodes a pass
     * starts are one wave: their tasks are stored in one transaction and the run's nodes in another
     * before any is sent, so a hub that stops meanwhile finds them (their tasks fail as lost) and
     * never starts a node twice.
     */
    private void pump(Live l) {
        Run r = l.run;
        if (r.state().isFinal()) {
            finishIfDone(l);
            return;
        }
        long running = r.nodes().stream().filter(n -> n.outcome() == Run.Outcome.RUNNING).count();
        if (r.batchWaitMs() > 0 && !batchMayStart(l, running)) {
            return;
        }
        List<Run.Node> wave = new ArrayList<>();
        List<NodeView> views = new ArrayList<>();
        boolean launched = false;
        for (Run.Node n : r.nodes()) {
            if (running + wave.size() >= r.parallel()) {
                break;
            }
            if (n.outcome() != Run.Outcome.PENDING) {
                continue;
            }
            launched = true;
            Optional<NodeView> v = nodes.registryView(n.nodeId());
            if (v.isEmpty()) {
                update(l, withOutcome(n, null, Run.Outcome.SKIPPED, null, "the node was removed"));
            } else if (v.get().status() != NodeStatus.ONLINE) {
                update(l, withOutcome(n, null, Run.Outcome.OFFLINE, null, "offline"));
            } else {
                wave.add(n);
                views.add(v.get());
            }
        }
        running += launch(l, wave, views);
        if (!l.run.state().isFinal() && errors(l.run) > l.run.maxErrors()) {
            stop(l, Run.State.STOPPED, "more than " + l.run.maxErrors() + " nodes failed");
        }
        if (launched && r.batchWaitMs() > 0) {
            l.nextBatchAtMillis = 0; // set when this batch has ended
            if (running == 0) { // a batch of offline nodes only: the wait starts now
                batchMayStart(l, 0);
            }
        }
        if (launched) {
            flush(l);
        }
        finishIfDone(l);
    }

    /**
     * Batches: a new one starts once none of the last is running and the batch wait has passed
     * since it ended (a pump is scheduled for then).
     */
    private boolean batchMayStart(Live l, long running) {
        if (running > 0 || l.run.nodes().stream().noneMatch(n -> n.outcome() == Run.Outcome.PENDING)) {
            return running == 0;
        }
        boolean first = l.run.nodes().stream().allMatch(n -> n.outcome() == Run.Outcome.PENDING);
        if (first) {
            return true;
        }
        long now = clock.millis();
        if (l.nextBatchAtMillis == 0) {
            l.nextBatchAtMillis = now + l.run.batchWaitMs();
        }
        if (now >= l.nextBatchAtMillis) {
            l.nextBatchAtMillis = 0;
            return true;
        }
        if (!l.batchScheduled) {
            l.batchScheduled = true;
            java.util.concurrent.CompletableFuture.delayedExecutor(l.nextBatchAtMillis - now,
                    java.util.concurrent.TimeUnit.MILLISECONDS, worker).execute(safely(l, () -> {
                        l.batchScheduled = false;
                        pump(l);
                    }));
        }
        return false;
    }

    /** Starts a wave: one task per node, stored with the run's nodes before any is sent. How many run. */
    private int launch(Live l, List<Run.Node> wave, List<NodeView> views) {
        if (wave.isEmpty()) {
            return 0;
        }
        Run r = l.run;
        Map<String, Run.Node> byNode = new java.util.HashMap<>();
        wave.forEach(n -> byNode.put(n.nodeId(), n));
        List<TaskService.Started> started;
        try {
            TaskService.Command c = TaskService.Command.of(r.command(), r.argv(),
                    r.timeoutMs() > 0 ? Duration.ofMillis(r.timeoutMs()) : null, r.runAs(), r.stdin());
            started = tasks.createAll(l.by, views, c, stored -> {
                for (Task t : stored) { // followed, and stored, before any of them can end
                    byTask.put(t.id(), l);
                    update(l, withOutcome(byNode.get(t.nodeId()), t.id(), Run.Outcome.RUNNING, null, null));
                }
                flush(l);
            });
        } catch (HubException e) {
            wave.forEach(n -> update(l, withOutcome(n, null, Run.Outcome.FAILED, null, e.getMessage())));
            return 0;
        } catch (RuntimeException e) { // the store failed: these nodes failed, the run goes on
            log.warn("run {}: starting {} nodes failed: {}", r.id(), wave.size(), e.toString());
            wave.forEach(n -> update(l, withOutcome(n, null, Run.Outcome.FAILED, null,
                    "the hub could not start it: " + e.getMessage())));
            return 0;
        }
        int running = 0;
        for (TaskService.Started s : started) {
            Run.Node n = byNode.get(s.node().info().id());
            if (s.refused() != null) {
                HubException e = s.refused();
                update(l, withOutcome(n, null, e.kind() == HubException.Kind.CONFLICT ? Run.Outcome.OFFLINE
                        : Run.Outcome.FAILED, null, e.getMessage()));
            } else if (s.task().state() == TaskState.FAILED) { // it went offline as it was sent
                byTask.remove(s.task().id());
                update(l, withOutcome(n, s.task().id(), Run.Outcome.OFFLINE, null, s.task().error()));
            } else {
                running++;
            }
        }
        return running;
    }

    /** Work for the worker thread that logs what it throws (the run's state is in the store). */
    private Runnable safely(Live l, Runnable work) {
        return () -> {
            try {
                work.run();
            } catch (RuntimeException e) {
                log.error("run {}: following it failed", l.run.id(), e);
            }
            flushIdle();
        };
    }

    /** Worker thread: a task of the run ended. */
    private void taskEnded(Live l, String taskId, TaskState state, Integer exit, String error) {
        byTask.remove(taskId);
        Run.Node n = l.run.nodes().stream().filter(x -> taskId.equals(x.taskId())).findFirst().orElse(null);
        if (n == null || n.outcome().isFinal()) {
            return;
        }
        Run.Outcome o = switch (state) {
            case EXITED -> exit != null && exit == 0 ? Run.Outcome.OK : Run.Outcome.FAILED;
            case TIMED_OUT -> Run.Outcome.TIMED_OUT;
            case CANCELLED -> Run.Outcome.CANCELLED;
            default -> Run.Outcome.FAILED;
        };
        update(l, withOutcome(n, taskId, o, exit, error));
        if (!l.run.state().isFinal() && errors(l.run) > l.run.maxErrors()) {
            stop(l, Run.State.STOPPED, "more than " + l.run.maxErrors() + " nodes failed");
        }
        pump(l);
    }

    /** Worker thread: no node is started any more; the pending ones are skipped. */
    private void stop(Live l, Run.State state, String why) {
        Run r = l.run;
        if (r.state().isFinal()) {
            return;
        }
        l.run = new Run(r.id(), r.owner(), r.ownerId(), r.command(), r.argv(), r.runAs(), r.selector(), r.parallel(),
                r.maxErrors(), r.timeoutMs(), r.batchWaitMs(), r.stdin(), state, r.createdAt(), null, r.nodes());
        repo.finish(r.id(), state, clock.millis()); // the state now; finished_at again once the last task ends
        for (Run.Node n : r.nodes()) {
            if (n.outcome() == Run.Outcome.PENDING) {
                update(l, withOutcome(n, null, Run.Outcome.SKIPPED, null, why));
            }
        }
        flush(l);
        finishIfDone(l);
    }

    private void finishIfDone(Live l) {
        Run r = l.run;
        if (r.nodes().stream().allMatch(n -> n.outcome().isFinal())) {
            flush(l); // its nodes are stored before it is finished
            Run.State s = r.state() == Run.State.RUNNING ? Run.State.DONE : r.state();
            long now = clock.millis();
            repo.finish(r.id(), s, now);
            l.run = new Run(r.id(), r.owner(), r.ownerId(), r.command(), r.argv(), r.runAs(), r.selector(),
                    r.parallel(), r.maxErrors(), r.timeoutMs(), r.batchWaitMs(), r.stdin(), s, r.createdAt(), java.time.Instant.ofEpochMilli(now),
                    r.nodes());
            live.remove(r.id());
        }
    }

    /** Changes a node in memory; {@link #flush} stores it. Worker thread. */
    private void update(Live l, Run.Node n) {
        l.dirty.put(n.position(), n);
        Run r = l.run;
        List<Run.Node> ns = new ArrayList<>(r.nodes());
        ns.set(n.position(), n);
        l.run = new Run(r.id(), r.owner(), r.ownerId(), r.command(), r.argv(), r.runAs(), r.selector(), r.parallel(),
                r.maxErrors(), r.timeoutMs(), r.batchWaitMs(), r.stdin(), r.state(), r.createdAt(), r.finishedAt(), List.copyOf(ns));
    }

    /**
     * Stores the nodes changed since the last flush, in one transaction. Called once the worker has
     * nothing else queued (so a burst of results is one write), when a wave starts, and before a
     * run is finished. A failure is logged and the nodes stay dirty: the next flush tries again.
     */
    private void flush(Live l) {
        if (l.dirty.isEmpty()) {
            return;
        }
        List<Run.Node> changed = List.copyOf(l.dirty.values());
        repo.updateNodes(l.run.id(), changed);
        for (Run.Node n : changed) {
            l.dirty.remove(n.position(), n);
        }
    }

    /** Worker thread, when nothing else is queued: stores what every live run changed. */
    private void flushIdle() {
        if (!workerQueue.isEmpty()) {
            return;
        }
        for (Live l : live.values()) {
            try {
                flush(l);
            } catch (RuntimeException e) {
                log.warn("run {}: storing its nodes' outcomes failed (kept, tried again): {}", l.run.id(), e.toString());
            }
        }
    }

    private static long errors(Run r) {
        return r.nodes().stream().filter(n -> n.outcome().isError()).count();
    }

    private static Run.Node withOutcome(Run.Node n, String taskId, Run.Outcome o, Integer exit, String error) {
        return new Run.Node(n.position(), n.nodeId(), n.nodeName(), taskId, o, exit, error);
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}

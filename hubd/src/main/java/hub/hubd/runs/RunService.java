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
            String parallel, String maxErrors, Duration timeout, String user, Duration batchWait, boolean stdin,
            Run.Copy copy) {
        /** A run of a command. */
        public Request(String command, List<String> argv, String selector, List<String> nodes, boolean all,
                String parallel, String maxErrors, Duration timeout, String user, Duration batchWait, boolean stdin) {
            this(command, argv, selector, nodes, all, parallel, maxErrors, timeout, user, batchWait, stdin, null);
        }
    }

    /** A copy run whose client has not copied to any node for this long is cancelled. */
    static final Duration COPY_IDLE = Duration.ofMinutes(15);

    /** A running run: its stored form, kept current, and who started it. */
    private static final class Live {
        volatile Run run;
        final Principal by;
        /** With a batch wait: when the next batch may start (worker thread only). */
        long nextBatchAtMillis;
        /** A pump is scheduled for then. */
        boolean batchScheduled;
        /** A copy run: when its client last started or ended a node's copy (nanoTime). */
        volatile long lastCopyActivity = System.nanoTime();
        /** Nodes changed in memory and not stored yet, by position (worker thread only). */
        final Map<Integer, Run.Node> dirty = new java.util.TreeMap<>();
        /**
         * Resumed after a hub start: until then (nanoTime) a node not online is not counted offline
         * but left pending, its agent possibly still reconnecting; zero once the resume has pumped.
         */
        volatile long reconnectGraceUntil;

        Live(Run run, Principal by) {
            this.run = run;
            this.by = by;
        }
    }

    /**
     * A cluster: which hub follows each run (one at a time: the one that made it, or the one that
     * took it over when that hub was lost), and what is asked of the run on another hub.
     */
    public interface Owners {
        /** This hub follows the new run: recorded before the run is stored. */
        void own(String runId);

        /** The run ended on this hub. */
        void ended(String runId);

        /**
         * Asks the hub following the run to do {@code op} ({@code cancel}, {@code copy-starting},
         * {@code copy-ended}) with these fields, for the user {@code byId} (null: the hub's own).
         *
         * @return false when no live hub follows it (one takes it over within the presence lease)
         * @throws HubException what that hub refused, as it refused it
         */
        boolean ask(String runId, String op, String byId, Map<String, Object> fields);

        /**
         * Whether this hub still follows the run (a hub that hung past its lease finds another
         * took it over, and must not start nodes the other starts too).
         */
        boolean follows(String runId);

        /** A task of a run taken over here, made by another hub: its end is told to this one. */
        void follow(String taskId, String nodeId);
    }

    private volatile Owners owners;

    /** Runs of a cluster: followed by one hub at a time, asked there. */
    public void owners(Owners o) {
        this.owners = o;
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
     * started at once they would all be offline). A followed task that ends sooner starts online
     * nodes in its place, but one not online is counted {@code offline} only after {@code delay}.
     */
    public void resume(Duration delay) {
        resume(repo.unfinished(), delay);
    }

    /**
     * A cluster: follows these runs from now on (this hub took them over from a hub that was lost,
     * or from its own last start), as {@link #resume(Duration)} does.
     */
    public void adopt(java.util.Collection<String> runIds, Duration delay) {
        List<Run> runs = new ArrayList<>();
        for (String id : runIds) {
            if (!live.containsKey(id)) {
                repo.find(id).filter(r -> !r.state().isFinal()).ifPresent(runs::add);
            }
        }
        if (!runs.isEmpty()) {
            log.info("following {} runs a lost hub left running: {}", runs.size(),
                    runs.stream().map(Run::id).toList());
            resume(runs, delay);
        }
    }

    /** The ids of the runs not finished, as stored. */
    public List<String> unfinishedIds() {
        return repo.unfinished().stream().map(Run::id).toList();
    }

    private void resume(List<Run> unfinished, Duration delay) {
        Owners o = owners;
        for (Run r : unfinished) {
            Optional<Principal> by = principalOf.apply(r.ownerId());
            Live l = new Live(r, by.orElse(null));
            // a task that ends before the delay pumps the run too: it must not find the nodes
            // whose agents are still on their way back offline
            l.reconnectGraceUntil = System.nanoTime() + delay.toNanos();
            live.put(r.id(), l);
            for (Run.Node n : r.nodes()) {
                if (n.outcome() == Run.Outcome.RUNNING && n.taskId() != null && r.copy() == null) {
                    byTask.put(n.taskId(), l);
                    if (o != null) {
                        o.follow(n.taskId(), n.nodeId());
                    }
                }
            }
            java.util.concurrent.CompletableFuture.delayedExecutor(delay.toMillis(),
                    java.util.concurrent.TimeUnit.MILLISECONDS, worker).execute(safely(l, () -> {
                l.reconnectGraceUntil = 0;
                for (Run.Node n : l.run.nodes()) { // a task that ended while the hub was away
                    if (l.run.copy() != null && n.outcome() == Run.Outcome.RUNNING) {
                        // its transfer ended with the hub: pending again, for the client to resume
                        update(l, withOutcome(n, null, Run.Outcome.PENDING, null, null));
                        continue;
                    }
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
        Run.Copy copy = req.copy();
        if (copy != null) {
            if (hasCommand || hasArgv || req.stdin() || req.timeout() != null || req.batchWait() != null) {
                throw HubException.invalid("a copy run takes no command, argv, stdin, timeout or batchWait");
            }
            checkCopy(copy);
        } else if (hasCommand == hasArgv) {
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
        String command = copy == null ? (hasCommand ? req.command() : null)
                : "cp " + copy.name() + " " + copy.path() + " (" + copy.size() + " bytes, sha256 "
                        + copy.sha256().substring(0, 16) + ")";
        Run run = new Run(Ids.newId(), by.user(), by.userId(), command,
                hasArgv ? List.copyOf(req.argv()) : null, req.user(), hasSelector ? req.selector() : null, parallel,
                maxErrors, timeoutMs, req.batchWait() == null ? 0 : req.batchWait().toMillis(), req.stdin(),
                Run.State.RUNNING, clock.instant(), null, List.copyOf(list), copy);
        Owners o = owners;
        if (o != null) {
            o.own(run.id()); // before it is stored: no other hub ever finds it without a live owner
        }
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

    private static void checkCopy(Run.Copy c) {
        if (c.path() == null || !c.path().startsWith("/") || c.path().length() > 4096 || c.path().indexOf('\0') >= 0) {
            throw HubException.invalid("copy.path must be an absolute path on the nodes");
        }
        if (c.name() == null || c.name().isEmpty() || c.name().contains("/") || c.name().equals(".")
                || c.name().equals("..") || c.name().length() > 255) {
            throw HubException.invalid("copy.name must be a file name (no /)");
        }
        if (c.size() < 0) {
            throw HubException.invalid("copy.size must be at least 0");
        }
        if (c.sha256() == null || !c.sha256().matches("[0-9a-f]{64}")) {
            throw HubException.invalid("copy.sha256 must be 64 lowercase hex digits");
        }
    }

    /**
     * A copy run's client starts the copy to one of its nodes (the hub relays it). Refused when the
     * run is not the caller's, has ended or stopped, does not have the node or has its outcome
     * already, the file is not the run's, or {@code parallel} copies are in progress.
     */
    public void copyStarting(Principal by, String runId, String nodeId, String transferId, String path, long size,
            String sha256) {
        Run r = get(by, runId);
        if (!by.owns(r.ownerId())) {
            throw HubException.forbidden("run " + runId + " is " + r.owner() + "'s: only its user copies for it");
        }
        Live l = live.get(runId);
        if (r.copy() == null) {
            throw HubException.invalid("run " + runId + " is not a copy run");
        }
        if (l == null && !r.state().isFinal() && owners != null) { // another hub follows it
            if (!owners.ask(runId, "copy-starting", by.userId(), Map.of("node", nodeId, "path", path,
                    "size", size, "sha256", sha256))) {
                throw followerLost(runId);
            }
            return;
        }
        if (l == null || r.state().isFinal()) {
            throw HubException.conflict("run " + runId + " is " + r.state().wireName() + ": it copies to no more nodes");
        }
        Run.Copy c = r.copy();
        if (!c.sha256().equals(sha256) || c.size() != size || !c.path().equals(path)) {
            throw HubException.invalid("this is not the file of run " + runId + " (" + c.path() + ", " + c.size()
                    + " bytes, sha256 " + c.sha256() + ")");
        }
        onWorker(() -> {
            Run now = l.run;
            if (now.state().isFinal()) {
                throw HubException.conflict("run " + runId + " is " + now.state().wireName()
                        + ": it copies to no more nodes");
            }
            Run.Node n = now.nodes().stream().filter(x -> x.nodeId().equals(nodeId)).findFirst()
                    .orElseThrow(() -> HubException.conflict("the node is not one of run " + runId + "'s"));
            if (n.outcome().isFinal()) {
                throw HubException.conflict("run " + runId + " has this node's outcome already: "
                        + n.outcome().wireName() + (n.error() == null ? "" : " (" + n.error() + ")"));
            }
            long running = now.nodes().stream().filter(x -> x.outcome() == Run.Outcome.RUNNING
                    && !x.nodeId().equals(nodeId)).count();
            if (running >= now.parallel()) {
                throw HubException.unavailable("run " + runId + " copies to " + now.parallel()
                        + " nodes at a time; retry when one has ended");
            }
            l.lastCopyActivity = System.nanoTime();
            update(l, withOutcome(n, transferId, Run.Outcome.RUNNING, null, null));
            flush(l);
        });
    }

    /**
     * How a copy run's node ended, as the hub saw its transfer: done, failed (counted towards
     * maxErrors), or cut off (the connection, the hub: pending again, for the client to resume).
     */
    public void copyEnded(String runId, String nodeId, Run.Outcome outcome, String error) {
        Live l = live.get(runId);
        if (l == null) {
            Owners o = owners;
            if (o != null) { // another hub follows it; a lost one's successor sees the node pending
                java.util.Map<String, Object> f = new java.util.HashMap<>();
                f.put("node", nodeId);
                f.put("outcome", outcome.wireName());
                if (error != null) {
                    f.put("error", error);
                }
                try {
                    o.ask(runId, "copy-ended", null, f);
                } catch (HubException e) {
                    log.warn("run {}: its hub did not take node {}'s copy outcome: {}", runId, nodeId,
                            e.getMessage());
                }
            }
            return;
        }
        worker.execute(safely(l, () -> {
            l.lastCopyActivity = System.nanoTime();
            Run.Node n = l.run.nodes().stream().filter(x -> x.nodeId().equals(nodeId)).findFirst().orElse(null);
            if (n == null || n.outcome() != Run.Outcome.RUNNING) {
                return;
            }
            if (outcome == Run.Outcome.PENDING && l.run.state().isFinal()) {
                update(l, withOutcome(n, n.taskId(), Run.Outcome.SKIPPED, null, error));
            } else {
                update(l, withOutcome(n, outcome == Run.Outcome.PENDING ? null : n.taskId(), outcome,
                        outcome == Run.Outcome.OK ? 0 : null, error));
            }
            if (!l.run.state().isFinal() && errors(l.run) > l.run.maxErrors()) {
                stop(l, Run.State.STOPPED, "more than " + l.run.maxErrors() + " nodes failed");
            }
            flush(l);
            finishIfDone(l);
        }));
    }

    private static HubException followerLost(String runId) {
        return HubException.unavailable("the hub following run " + runId + " was lost; another hub takes it "
                + "over within seconds: retry");
    }

    /**
     * What another hub asks of a run this hub follows, for the user {@code byId} (null: that
     * hub's own report).
     *
     * @throws HubException NOT_FOUND when this hub does not follow it, or as the operation refuses
     */
    public void asked(String runId, String op, String byId, com.fasterxml.jackson.databind.JsonNode f) {
        if (!live.containsKey(runId)) {
            throw HubException.notFound("run " + runId + " is not followed by this hub");
        }
        Principal by = byId == null ? null : principalOf.apply(byId)
                .orElseThrow(() -> HubException.forbidden("no user " + byId));
        switch (op) {
            case "cancel" -> cancel(by, runId);
            case "copy-starting" -> copyStarting(by, runId, f.path("node").asText(), null, f.path("path").asText(),
                    f.path("size").asLong(-1), f.path("sha256").asText());
            case "copy-ended" -> {
                Run.Outcome o;
                try {
                    o = Run.Outcome.valueOf(f.path("outcome").asText().toUpperCase(java.util.Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw HubException.invalid("outcome must be one of pending, ok, failed");
                }
                copyEnded(runId, f.path("node").asText(), o, f.hasNonNull("error") ? f.get("error").asText() : null);
            }
            default -> throw HubException.notFound("no run operation " + hub.hubd.core.LogText.safe(op));
        }
    }

    /** Runs {@code work} on the worker thread and waits; what it throws is thrown here. */
    private void onWorker(Runnable work) {
        try {
            worker.submit(work).get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw HubException.unavailable("the hub is stopping");
        }
    }

    /** Worker thread: a copy run's nodes that are not online now are offline outcomes; idle ones end. */
    private void pumpCopy(Live l, boolean atStart) {
        if (atStart) {
            Map<String, NodeView> views = nodes.liveViews(l.run.nodes().stream()
                    .filter(n -> n.outcome() == Run.Outcome.PENDING).map(Run.Node::nodeId).toList());
            for (Run.Node n : l.run.nodes()) {
                if (n.outcome() != Run.Outcome.PENDING) {
                    continue;
                }
                Optional<NodeView> v = Optional.ofNullable(views.get(n.nodeId()));
                if (v.isEmpty()) {
                    update(l, withOutcome(n, null, Run.Outcome.SKIPPED, null, "the node was removed"));
                } else if (v.get().status() != NodeStatus.ONLINE) {
                    update(l, withOutcome(n, null, Run.Outcome.OFFLINE, null, "offline"));
                }
            }
            flush(l);
        }
        finishIfDone(l);
        if (live.containsKey(l.run.id())) {
            java.util.concurrent.CompletableFuture.delayedExecutor(1, java.util.concurrent.TimeUnit.MINUTES, worker)
                    .execute(safely(l, () -> {
                        if (!live.containsKey(l.run.id())) {
                            return;
                        }
                        if (System.nanoTime() - l.lastCopyActivity > COPY_IDLE.toNanos()
                                && l.run.nodes().stream().noneMatch(n -> n.outcome() == Run.Outcome.RUNNING)) {
                            stop(l, Run.State.CANCELLED, "its client copied nothing for " + COPY_IDLE.toMinutes()
                                    + " minutes");
                        } else {
                            pumpCopy(l, false);
                        }
                    }));
        }
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
        if (l == null && !r.state().isFinal() && owners != null) { // another hub follows it
            if (!owners.ask(id, "cancel", by.userId(), Map.of())) {
                throw followerLost(id);
            }
            return get(by, id);
        }
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
        if (r.copy() != null) {
            pumpCopy(l, true); // its client starts each node; the hub records what it relays
            return;
        }
        long running = r.nodes().stream().filter(n -> n.outcome() == Run.Outcome.RUNNING).count();
        if (r.batchWaitMs() > 0 && !batchMayStart(l, running)) {
            return;
        }
        List<Run.Node> wave = new ArrayList<>();
        List<NodeView> views = new ArrayList<>();
        boolean launched = false;
        // Live views are read in chunks of what may start (one batched presence read each in a cluster).
        List<Run.Node> pending = r.nodes().stream().filter(n -> n.outcome() == Run.Outcome.PENDING).toList();
        Map<String, NodeView> live = new java.util.HashMap<>();
        int looked = 0;
        for (int i = 0; i < pending.size(); i++) {
            Run.Node n = pending.get(i);
            if (running + wave.size() >= r.parallel()) {
                break;
            }
            if (i >= looked) {
                looked = (int) Math.min(pending.size(), i + Math.max(16, r.parallel() - running - wave.size()));
                live.putAll(nodes.liveViews(pending.subList(i, looked).stream().map(Run.Node::nodeId).toList()));
            }
            Optional<NodeView> v = Optional.ofNullable(live.get(n.nodeId()));
            if (v.isPresent() && v.get().status() != NodeStatus.ONLINE && l.reconnectGraceUntil != 0
                    && System.nanoTime() - l.reconnectGraceUntil < 0) {
                continue; // left pending: the resume pumps again when the grace is over
            }
            launched = true;
            if (v.isEmpty()) {
                update(l, withOutcome(n, null, Run.Outcome.SKIPPED, null, "the node was removed"));
            } else if (v.get().status() != NodeStatus.ONLINE) {
                update(l, withOutcome(n, null, Run.Outcome.OFFLINE, null, "offline"));
            } else {
                wave.add(n);
                views.add(v.get());
            }
        }
        Owners o = owners;
        boolean mine = true;
        if (!wave.isEmpty() && o != null) {
            try {
                mine = o.follows(r.id());
            } catch (RuntimeException e) { // Redis away: this wave waits for it
                log.warn("run {}: cannot tell whether this hub still follows it ({}); retried in 1 s", r.id(),
                        e.getMessage());
                flush(l);
                java.util.concurrent.CompletableFuture.delayedExecutor(1, java.util.concurrent.TimeUnit.SECONDS,
                        worker).execute(safely(l, () -> pump(l)));
                return;
            }
        }
        if (!mine) {
            log.warn("run {} was taken over by another hub (this one was away past its lease): no longer "
                    + "followed here", r.id());
            live.remove(r.id());
            byTask.values().removeIf(x -> x == l);
            return;
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
        l.run = r.with(state, null, r.nodes());
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
            l.run = r.with(s, java.time.Instant.ofEpochMilli(now), r.nodes());
            live.remove(r.id());
            Owners o = owners;
            if (o != null) {
                o.ended(r.id());
            }
        }
    }

    /** Changes a node in memory; {@link #flush} stores it. Worker thread. */
    private void update(Live l, Run.Node n) {
        l.dirty.put(n.position(), n);
        Run r = l.run;
        List<Run.Node> ns = new ArrayList<>(r.nodes());
        ns.set(n.position(), n);
        l.run = r.with(r.state(), r.finishedAt(), List.copyOf(ns));
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

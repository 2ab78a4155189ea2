package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hubctl exec NODE -- COMMAND...}: runs a command on a node, prints its output as it arrives
 * (stdout to stdout, stderr to stderr; as text lines with escape sequences stripped, or with
 * {@code --raw} the exact bytes), read whole from the task's raw output on the hub, and exits with
 * the remote exit code. Like ssh, the words of COMMAND are joined with spaces and run by
 * {@code /bin/sh -c} on the node. Ctrl-C cancels the remote task.
 */
@Command(name = "exec", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run a command on a node and stream its output; exit with its exit code.",
            "With several NODEs, -l SELECTOR or --all it is a run (see 'hubctl runs'): rolled out --parallel "
                + "nodes at a time, stopped past --max-errors failures, each output line prefixed with its "
                + "node's name, and a summary at the end; offline nodes are reported, not skipped.",
            "The words of COMMAND are joined with spaces and run by /bin/sh -c on the node (as ssh does).",
            "If the node goes offline meanwhile, exec says so and waits for it; if the hub restarts or "
                + "its storage stalls, exec says so and retries until it answers; 'hubctl tasks' lists and "
                + "cancels tasks later.",
            "Output is read whole from the hub, whatever its history caps (the hub keeps a task's raw output "
                + "until exec has printed it); if the hub could not keep all of it, exec says so and fails."})
final class ExecCommand implements Callable<Integer> {
    static final int EXIT_TIMED_OUT = 124;
    static final int EXIT_CANCELLED = 130;

    @Spec
    CommandSpec spec;

    @Option(names = "--timeout", paramLabel = "DURATION", description = "Kill the remote command after this long.")
    String timeout;

    @Option(names = {"-u", "--user"}, paramLabel = "USER",
            description = "Run it as this local user on the node (default: the agent's, root for the packaged "
                    + "agent); the node's /etc/hub-agent/agent.conf may refuse it.")
    String user;

    @Option(names = "--raw", description = "Write the remote stdout and stderr exactly as the command wrote them "
            + "(bytes: binary-safe, CR and escapes kept), e.g. exec NODE --raw -- tar c /etc > etc.tar. Default: "
            + "text lines, escape sequences stripped and redraws rendered as the history keeps them.")
    boolean raw;

    @Option(names = {"-i", "--stdin"}, description = "Send stdin to the remote command even when it is a terminal "
            + "(end it with Ctrl-D). Piped or redirected stdin is always sent.")
    boolean forceStdin;

    @Option(names = {"-n", "--no-stdin"}, description = "Do not send stdin: the remote command reads /dev/null "
            + "(as ssh -n).")
    boolean noStdin;

    @Option(names = "--stdin-file", paramLabel = "FILE", description = "Send this file as the remote command's "
            + "stdin (for a run: to every node).")
    java.nio.file.Path stdinFile;

    @Option(names = {"-l", "--label"}, paramLabel = "SELECTOR", completionCandidates = LiveValues.Labels.class,
            description = "Run on every node whose labels match: " + Selectors.HELP)
    List<String> labels;

    /** The joined {@code -l} values, set when the command starts. */
    private String selector;

    @Option(names = "--all", description = "Run on every node you may run commands on.")
    boolean all;

    @Option(names = "--parallel", paramLabel = "N|P%", description = "A run: at most this many nodes at once "
            + "(default 10%%, at least 1).")
    String parallel;

    @Option(names = "--batch-wait", paramLabel = "DURATION", description = "A run: go in batches of --parallel "
            + "nodes, each started this long after the one before has ended (default: no batches, a new node "
            + "starts as soon as one ends).")
    String batchWait;

    @Option(names = "--group", description = "A run: print each node's output as one block when it ends, and fold "
            + "nodes with the same output into one line at the end (web-[1-40]: same output), as dshbak -c does.")
    boolean group;

    @Option(names = "--max-errors", paramLabel = "N|P%", description = "A run: stop starting nodes once more than "
            + "this many failed (default 0, as SSM Run Command: the first failure stops the rollout).")
    String maxErrors;

    @Parameters(arity = "1..*", paramLabel = "NODE... -- COMMAND", completionCandidates = LiveValues.Nodes.class,
            description = "Node ids or unique names, then -- and the command.")
    List<String> words;

    /** From the words: the nodes (before --) and the command (after it). */
    private String node;
    private List<String> nodes;
    private List<String> command;

    private void split() {
        selector = Selectors.join(labels);
        List<String> orig = spec.commandLine().getParseResult().originalArgs();
        int dash = orig.indexOf("--");
        int after = dash < 0 ? -1 : orig.size() - dash - 1;
        if (after < 0) { // no --: NODE COMMAND..., or with -l/--all only the command
            for (String w : words) {
                if (w.startsWith("-")) { // the remote command's options were taken for exec's
                    throw HubctlException.usage("unknown option '" + w + "'; put the remote command after --: "
                            + "hubctl exec NODE -- COMMAND...");
                }
            }
            if (selector != null || all) { // "exec web-1 ls -la" reads -la as -l a: say where the command goes
                throw HubctlException.usage("put the remote command after --: hubctl exec NODE -- COMMAND... "
                        + "(or exec -l SELECTOR -- COMMAND...)");
            }
            int n = 1;
            nodes = words.subList(0, Math.min(n, words.size()));
            command = words.subList(Math.min(n, words.size()), words.size());
        } else {
            nodes = words.subList(0, words.size() - after);
            command = words.subList(words.size() - after, words.size());
        }
        if (command.isEmpty()) {
            throw HubctlException.usage("give the command to run after --: hubctl exec NODE -- COMMAND...");
        }
        int targets = (nodes.isEmpty() ? 0 : 1) + (selector != null ? 1 : 0) + (all ? 1 : 0);
        if (targets != 1) {
            throw HubctlException.usage(targets == 0 ? "give a NODE, -l SELECTOR or --all (there is no implicit all)"
                    : "give NODEs, -l SELECTOR or --all, not more than one of them");
        }
        node = nodes.size() == 1 && selector == null && !all ? nodes.get(0) : null;
    }

    @Override
    public Integer call() throws InterruptedException {
        try {
            return run();
        } catch (HubctlException e) {
            if (e.exitCode() == ExitCodes.HUB_ERROR) {
                throw new HubctlException(e.getMessage(), ExitCodes.EXEC_HUB_ERROR);
            }
            throw e;
        }
    }

    private Integer run() throws InterruptedException {
        split();
        HubctlCommand root = HubctlCommand.root(spec);
        HubClient client = root.client();
        HubctlCommand.Output output = root.output;
        if (output == HubctlCommand.Output.yaml || output == HubctlCommand.Output.name) {
            throw HubctlException.usage("exec prints text, or -o json (one object per node result)");
        }
        boolean json = output == HubctlCommand.Output.json;
        if (raw && (node == null || json || group)) {
            throw HubctlException.usage("--raw is for one NODE, without --group or -o json (bytes of several nodes "
                    + "cannot share one stdout)");
        }
        Input input = input(root.stdio());
        if (node == null || json || group) { // -o json and --group make even one node a run
            if (input != null && input.spool() == 0) {
                input = null; // nothing to send (e.g. </dev/null): the tasks read /dev/null, no pipe, no posts
            }
            return new FleetExec(spec, client, root.colors(), json ? FleetExec.Mode.JSON
                    : group ? FleetExec.Mode.GROUP : FleetExec.Mode.STREAM).run(runBody(input != null), input);
        }
        if (parallel != null || maxErrors != null || batchWait != null) {
            throw HubctlException.usage("--parallel, --max-errors and --batch-wait are for several nodes (-l, --all, "
                    + "NODE...)");
        }
        String nodePath = "api/v1/nodes/" + HubClient.enc(node);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("command", String.join(" ", command));
        if (timeout != null) {
            body.put("timeout", timeout);
        }
        if (user != null) {
            body.put("user", user);
        }
        if (input != null) {
            body.put("stdin", true);
        }
        JsonNode task = client.post(nodePath + "/tasks", body);
        String id = task.get("id").asText();
        AtomicBoolean finished = new AtomicBoolean();
        Thread cancelOnInterrupt = new Thread(() -> {
            if (!finished.get()) {
                try {
                    client.post("api/v1/tasks/" + HubClient.enc(id) + "/cancel", Map.of());
                } catch (HubctlException e) {
                    spec.commandLine().getErr().println("hubctl: could not cancel task " + id + ": " + e.getMessage());
                }
            }
        }, "hubctl-cancel");
        Runtime.getRuntime().addShutdownHook(cancelOnInterrupt);
        try {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            HubctlCommand.Stdio stdio = root.stdio();
            TaskReader reader = new TaskReader(client, id, raw ? TaskReader.raw(stdio.out(), stdio.err())
                    : TaskReader.text((stderr, line) -> (stderr ? err : out).println(line)));
            Thread sender = input == null ? null : input.startSending(client, id, err);
            NodeWatch watch = new NodeWatch(client, nodePath, err);
            RideThrough outage = new RideThrough(err);
            String told = null;
            while (true) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException();
                }
                try {
                    boolean more = reader.poll();
                    out.flush();
                    err.flush();
                    outage.recovered();
                    if (reader.incomplete() != null && told == null) {
                        told = reader.incomplete();
                        err.println("hubctl: " + told);
                        err.flush();
                    }
                    task = reader.task();
                    String state = task.get("state").asText();
                    watch.check(more || !state.equals(watch.lastState), state);
                    if (reader.complete()) {
                        finished.set(true);
                        int code = exitCode(task, err);
                        if (told != null) {
                            err.println("hubctl: the remote command ended (" + describe(task)
                                    + "), but the output above is not all of it");
                            err.flush();
                            return ExitCodes.EXEC_HUB_ERROR;
                        }
                        return code;
                    }
                    if (!more) {
                        Thread.sleep(200);
                    }
                } catch (HubctlException e) {
                    if (!e.isTransient()) {
                        throw e;
                    }
                    outage.failed(e); // the task runs on; its output waits on the hub
                }
            }
        } catch (InterruptedException e) {
            cancel(client, id);
            return EXIT_CANCELLED;
        } catch (HubctlException e) {
            if (e.exitCode() == ExitCodes.INTERRUPTED) {
                cancel(client, id);
                return EXIT_CANCELLED;
            }
            throw e;
        } finally {
            finished.set(true);
            if (input != null) {
                input.stop();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(cancelOnInterrupt);
            } catch (IllegalStateException e) {
                // already shutting down: the hook runs and sees finished
            }
        }
    }

    /**
     * While the task is quiet, checks every {@value #QUIET_CHECK_MS} ms whether its node is still
     * online, and says once when it went offline and once when it is back: otherwise exec would sit
     * silent on a node that died. The task's output and result come when the node reconnects
     * (or it fails, if the agent comes back without it).
     */
    static final class NodeWatch {
        static final long QUIET_CHECK_MS = 2000;
        private final HubClient client;
        private final String nodePath;
        private final PrintWriter err;
        private long quietSince = System.nanoTime();
        private boolean offline;
        String lastState = "";

        NodeWatch(HubClient client, String nodePath, PrintWriter err) {
            this.client = client;
            this.nodePath = nodePath;
            this.err = err;
        }

        void check(boolean progress, String state) {
            lastState = state;
            long now = System.nanoTime();
            if (progress && !offline) {
                quietSince = now;
                return;
            }
            if (now - quietSince < QUIET_CHECK_MS * 1_000_000L) {
                return;
            }
            quietSince = now;
            JsonNode n = client.get(nodePath);
            boolean isOffline = "offline".equals(n.path("status").asText());
            String name = n.path("name").asText();
            if (isOffline && !offline) {
                String reason = n.hasNonNull("offlineReason") ? " (" + n.get("offlineReason").asText() + ")" : "";
                err.println("hubctl: node " + name + " went offline" + reason + "; waiting for it to come back "
                        + "(Ctrl-C cancels the task, now or when it reconnects)");
                err.flush();
            } else if (!isOffline && offline) {
                err.println("hubctl: node " + name + " is back online");
                err.flush();
            }
            offline = isOffline;
        }
    }

    /**
     * Rides through a hub that is restarting, unreachable or answering 5xx (its storage stalled):
     * says so once, retries with backoff up to {@value Streams#MAX_RETRY_MS} ms, and says once
     * when it is back. The follower's offset only moves on a page it printed, so no line is lost
     * or printed twice.
     */
    static final class RideThrough {
        private final PrintWriter err;
        private long retryMs;
        private boolean down;

        RideThrough(PrintWriter err) {
            this.err = err;
        }

        void failed(HubctlException e) throws InterruptedException {
            if (!down) {
                err.println("hubctl: " + e.getMessage() + "; retrying");
                err.flush();
                down = true;
            }
            retryMs = Math.min(Streams.MAX_RETRY_MS, Math.max(250, retryMs * 2));
            Thread.sleep(retryMs);
        }

        void recovered() {
            if (down) {
                err.println("hubctl: reconnected");
                err.flush();
                down = false;
            }
            retryMs = 0;
        }
    }

    /**
     * Where the remote stdin comes from, or null for none: {@code --stdin-file}; else our stdin when
     * it is a pipe or a file, or with {@code -i}; never with {@code -n} or inside {@code hubctl shell}.
     */
    private Input input(HubctlCommand.Stdio stdio) {
        if (noStdin && (forceStdin || stdinFile != null)) {
            throw HubctlException.usage("-n/--no-stdin cannot go with -i or --stdin-file");
        }
        if (stdinFile != null) {
            if (!java.nio.file.Files.isReadable(stdinFile) || java.nio.file.Files.isDirectory(stdinFile)) {
                throw HubctlException.usage("--stdin-file " + stdinFile + ": not a readable file");
            }
            return new Input(null, stdinFile);
        }
        if (noStdin || stdio.in() == null || (stdio.inIsTerminal() && !forceStdin)) {
            return null;
        }
        return new Input(stdio.in(), null);
    }

    /**
     * The remote stdin: a stream read once (for a run, into a temporary file first, so every node
     * gets all of it), or a file read once per node.
     */
    static final class Input {
        private final java.io.InputStream stream;
        private java.nio.file.Path file;
        private boolean spooled;
        private final java.util.List<Thread> senders = new java.util.concurrent.CopyOnWriteArrayList<>();

        Input(java.io.InputStream stream, java.nio.file.Path file) {
            this.stream = stream;
            this.file = file;
        }

        /** For a run: makes stdin a file every node's sender can read from the start; its size. */
        synchronized long spool() {
            if (file != null) {
                try {
                    return java.nio.file.Files.size(file);
                } catch (java.io.IOException e) {
                    throw HubctlException.usage("cannot read " + file + ": " + e.getMessage());
                }
            }
            try {
                file = java.nio.file.Files.createTempFile("hubctl-stdin-", ".bin");
                file.toFile().deleteOnExit();
                spooled = true;
                try (var out = java.nio.file.Files.newOutputStream(file)) {
                    return stream.transferTo(out);
                }
            } catch (java.io.IOException e) {
                throw HubctlException.usage("cannot keep stdin for the run's nodes: " + e.getMessage());
            }
        }

        /** Starts sending to the task on a thread of its own. */
        Thread startSending(HubClient client, String taskId, PrintWriter err) {
            Thread t = new Thread(() -> {
                try (java.io.InputStream in = file != null ? java.nio.file.Files.newInputStream(file)
                        : new java.io.FilterInputStream(stream) {
                            @Override
                            public void close() {
                                // our stdin stays open
                            }
                        }) {
                    new StdinSender(client, taskId, err).send(in);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (java.io.IOException e) {
                    err.println("hubctl: reading stdin for task " + taskId + " failed: " + e.getMessage());
                    err.flush();
                } catch (HubctlException e) {
                    if (e.exitCode() != ExitCodes.INTERRUPTED) {
                        err.println("hubctl: stdin for task " + taskId + ": " + e.getMessage());
                        err.flush();
                    }
                }
            }, "hubctl-stdin-" + taskId);
            t.setDaemon(true); // a read of a terminal cannot be interrupted: it must not hold the JVM
            senders.add(t);
            t.start();
            return t;
        }

        /** The command ended: senders stop (one blocked reading our stdin stays, as a daemon). */
        void stop() {
            senders.forEach(Thread::interrupt);
            if (spooled) {
                try {
                    java.nio.file.Files.deleteIfExists(file);
                } catch (java.io.IOException e) {
                    // deleteOnExit tries again
                }
            }
        }
    }

    /** The body of {@code POST /api/v1/runs} for this command line. */
    private Map<String, Object> runBody(boolean stdin) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("command", String.join(" ", command));
        if (selector != null) {
            body.put("selector", selector);
        } else if (all) {
            body.put("all", true);
        } else {
            body.put("nodes", nodes);
        }
        if (parallel != null) {
            body.put("parallel", parallel);
        }
        if (maxErrors != null) {
            body.put("maxErrors", maxErrors);
        }
        if (timeout != null) {
            body.put("timeout", timeout);
        }
        if (batchWait != null) {
            body.put("batchWait", batchWait);
        }
        if (stdin) {
            body.put("stdin", true);
        }
        if (user != null) {
            body.put("user", user);
        }
        return body;
    }

    private static String describe(JsonNode task) {
        String state = task.path("state").asText();
        return "exited".equals(state) ? "exit code " + task.path("exitCode").asInt() : state;
    }

    /** Ctrl-C in the shell (the thread interrupted): cancel the remote task and say so. */
    private void cancel(HubClient client, String id) {
        Thread.interrupted(); // the cancel request itself must not be interrupted
        PrintWriter err = spec.commandLine().getErr();
        try {
            client.post("api/v1/tasks/" + HubClient.enc(id) + "/cancel", Map.of());
            err.println("hubctl: cancelled task " + id);
        } catch (HubctlException e) {
            err.println("hubctl: could not cancel task " + id + ": " + e.getMessage());
        }
        err.flush();
    }

    private static int exitCode(JsonNode task, PrintWriter err) {
        String state = task.get("state").asText();
        switch (state) {
            case "exited" -> {
                return task.path("exitCode").asInt();
            }
            case "timed_out" -> {
                err.println("hubctl: remote command timed out");
                err.flush();
                return EXIT_TIMED_OUT;
            }
            case "cancelled" -> {
                err.println("hubctl: remote command cancelled");
                err.flush();
                return EXIT_CANCELLED;
            }
            default -> {
                err.println("hubctl: remote command failed: " + task.path("error").asText("unknown error"));
                err.flush();
                return ExitCodes.EXEC_HUB_ERROR;
            }
        }
    }
}

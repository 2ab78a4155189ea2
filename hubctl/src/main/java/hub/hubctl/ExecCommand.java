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
 * (stdout to stdout, stderr to stderr, escape sequences already stripped by the hub) and exits with
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
                + "cancels tasks later."},
        footer = {"", "Exit codes (one node): the remote exit code; 124 if it timed out; 130 if cancelled; 255 if "
            + "the hub answered an error, could not be reached, or the command could not run at all (as ssh "
            + "does); 2 usage error.",
            "Exit codes (a run): 0 if every node succeeded; 1 if any failed, timed out, was offline or skipped; "
            + "130 if cancelled; 255 hub error; 2 usage error."})
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

    @Option(names = {"-l", "--label"}, paramLabel = "SELECTOR",
            description = "Run on every node whose labels match (k=v, k!=v, 'k in (a,b)', k, !k, joined by commas).")
    String selector;

    @Option(names = "--all", description = "Run on every node you may run commands on.")
    boolean all;

    @Option(names = "--parallel", paramLabel = "N|P%", description = "A run: at most this many nodes at once "
            + "(default 10%, at least 1).")
    String parallel;

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
        if (node == null) {
            return new FleetExec(spec, client, root.colors()).run(runBody());
        }
        if (parallel != null || maxErrors != null) {
            throw HubctlException.usage("--parallel and --max-errors are for several nodes (-l, --all, NODE...)");
        }
        String nodePath = "api/v1/nodes/" + HubClient.enc(node);
        long offset = client.get(nodePath + "/history?tail=0").path("nextOffset").asLong();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("command", String.join(" ", command));
        if (timeout != null) {
            body.put("timeout", timeout);
        }
        if (user != null) {
            body.put("user", user);
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
            HistoryFollower follower = new HistoryFollower(client, nodePath, offset, id, out, err);
            NodeWatch watch = new NodeWatch(client, nodePath, err);
            RideThrough outage = new RideThrough(err);
            while (true) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException();
                }
                try {
                    boolean more = follower.poll();
                    task = client.get("api/v1/tasks/" + HubClient.enc(id));
                    outage.recovered();
                    String state = task.get("state").asText();
                    watch.check(more || !state.equals(watch.lastState), state);
                    if (TasksCommand.FINAL.contains(state)) {
                        while (follower.poll()) {
                            // drain what arrived with the result
                        }
                        finished.set(true);
                        return exitCode(task, err);
                    }
                    if (!more) {
                        Thread.sleep(200);
                    }
                } catch (HubctlException e) {
                    if (!e.isTransient()) {
                        throw e;
                    }
                    outage.failed(e); // the task runs on; its output waits in the history
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

    /** The body of {@code POST /api/v1/runs} for this command line. */
    private Map<String, Object> runBody() {
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
        if (user != null) {
            body.put("user", user);
        }
        return body;
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

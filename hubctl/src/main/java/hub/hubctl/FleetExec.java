package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code hubctl exec} on many nodes: creates a run and prints every node's output, whole, read from
 * its task's raw output ({@link TaskReader}), then a summary of every node's outcome on stderr.
 * Three ways to print:
 * <ul>
 * <li>{@link Mode#STREAM} (default): lines as they arrive, each with its node's name in front,
 *     aligned and, on a terminal, colored per node (as pdsh and docker compose do);</li>
 * <li>{@link Mode#GROUP}: each node's output as one block when it finishes, and at the end the
 *     nodes whose output was the same folded into one line ({@code web-[1-40]: same output});</li>
 * <li>{@link Mode#JSON}: one JSON object per node result on stdout, one per line.</li>
 * </ul>
 * Each task's chunks are read from a position, so each is printed once, across hub restarts too.
 * A poll round reads the run once, then the output of the tasks that ended and of a bounded number
 * of running ones (each at most once a second), a few at a time: the requests per round do not grow
 * with the fleet. Ctrl-C cancels the run.
 */
final class FleetExec {
    /** How node output is printed. */
    enum Mode { STREAM, GROUP, JSON }

    /** Running tasks whose output one round reads, at most. */
    static final int RUNNING_PER_ROUND = 64;
    /** A running task's output is read at most this often. */
    static final long RUNNING_POLL_MS = 1000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final CommandSpec spec;
    private final HubClient client;
    private final Colors colors;
    private final Mode mode;

    FleetExec(CommandSpec spec, HubClient client, Colors colors, Mode mode) {
        this.spec = spec;
        this.client = client;
        this.colors = colors;
        this.mode = mode;
    }

    /** One node of the run, as far as printing goes. */
    private final class NodeOut {
        final String name;
        final String nodeId;
        final String prefix;
        final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        /** GROUP: the text lines, both streams in order. */
        final List<String> lines = new ArrayList<>();
        TaskReader reader;
        long polledAtMs;
        boolean reported;
        boolean stdinStarted;

        NodeOut(String name, String nodeId, String prefix) {
            this.name = name;
            this.nodeId = nodeId;
            this.prefix = prefix;
        }

        TaskReader.Sink sink(PrintWriter out, PrintWriter err) {
            return switch (mode) {
                case STREAM -> TaskReader.text((isErr, line) -> (isErr ? err : out).println(prefix + line));
                case GROUP -> TaskReader.text((isErr, line) -> lines.add(line));
                case JSON -> (isErr, data) -> (isErr ? stderr : stdout).writeBytes(data);
            };
        }
    }

    /**
     * @param input the stdin every node's command reads (read once, sent to each), or null
     */
    int run(Map<String, Object> body, ExecCommand.Input input) throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        JsonNode run = client.post("api/v1/runs", body);
        String id = run.get("id").asText();
        Map<Integer, NodeOut> nodes = new LinkedHashMap<>();
        int width = 0;
        for (JsonNode n : run.path("nodes")) {
            width = Math.max(width, n.path("name").asText().length());
        }
        int i = 0;
        for (JsonNode n : run.path("nodes")) {
            String name = n.path("name").asText();
            String prefix = colors.node(pad(name, width), i) + " | ";
            nodes.put(n.path("position").asInt(i), new NodeOut(name, n.path("node").asText(), prefix));
            i++;
        }
        err.printf("hubctl: run %s on %d node(s), %d at a time%n", id, nodes.size(), run.path("parallel").asInt());
        err.flush();
        ExecCommand.RideThrough outage = new ExecCommand.RideThrough(err);
        Map<String, List<String>> sameOutput = new LinkedHashMap<>(); // GROUP: output → nodes that printed it
        ExecutorService pool = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "hubctl-exec-read");
            t.setDaemon(true);
            return t;
        });
        try {
            while (true) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException();
                }
                boolean printed;
                boolean allReported = true;
                try {
                    run = client.get("api/v1/runs/" + HubClient.enc(id));
                    if (input != null) {
                        startStdin(run, nodes, input, err);
                    }
                    printed = readRound(run, nodes, pool, out, err);
                    int pos = 0;
                    for (JsonNode n : run.path("nodes")) {
                        NodeOut no = nodes.get(n.path("position").asInt(pos++));
                        if (no == null || no.reported) {
                            continue;
                        }
                        boolean outcomeFinal = !List.of("pending", "running").contains(n.path("outcome").asText());
                        boolean read = no.reader == null ? n.path("taskId").isMissingNode() || n.path("taskId").isNull()
                                : no.reader.complete();
                        if (outcomeFinal && read) {
                            report(n, no, out, sameOutput);
                            no.reported = true;
                            printed = true;
                        } else {
                            allReported = false;
                        }
                    }
                    outage.recovered();
                } catch (HubctlException e) {
                    if (!e.isTransient()) {
                        throw e;
                    }
                    outage.failed(e);
                    continue;
                }
                out.flush();
                err.flush();
                if (!"running".equals(run.path("state").asText()) && allReported) {
                    if (mode == Mode.GROUP) {
                        fold(sameOutput, out);
                    }
                    releaseRead(nodes);
                    return summary(run, nodes, err);
                }
                if (!printed) {
                    Thread.sleep(200);
                }
            }
        } catch (InterruptedException e) {
            Thread.interrupted();
            try {
                client.post("api/v1/runs/" + HubClient.enc(id) + "/cancel", Map.of());
                err.println("hubctl: cancelled run " + id);
            } catch (HubctlException c) {
                err.println("hubctl: could not cancel run " + id + ": " + c.getMessage());
            }
            err.flush();
            return ExecCommand.EXIT_CANCELLED;
        } finally {
            pool.shutdownNow();
            if (input != null) {
                input.stop();
            }
        }
    }

    /** Each node's task, once it has one, gets the run's stdin from the start (a sender thread per task). */
    private void startStdin(JsonNode run, Map<Integer, NodeOut> nodes, ExecCommand.Input input,
            PrintWriter err) {
        int pos = 0;
        for (JsonNode n : run.path("nodes")) {
            NodeOut no = nodes.get(n.path("position").asInt(pos++));
            String task = n.path("taskId").asText(null);
            if (no != null && task != null && !no.stdinStarted && "running".equals(n.path("outcome").asText())) {
                no.stdinStarted = true;
                input.startSending(client, task, err);
            }
        }
    }

    /** Frees on the hub what was read of every task (best effort: its retention frees it otherwise). */
    private void releaseRead(Map<Integer, NodeOut> nodes) {
        List<NodeOut> left = nodes.values().stream().filter(no -> no.reader != null && no.reader.complete()
                && no.reader.next() != null).toList();
        for (int from = 0; from < left.size(); from += PAGES_PER_REQUEST) {
            try {
                readGroup(left.subList(from, Math.min(left.size(), from + PAGES_PER_REQUEST)), java.util.Set.of());
            } catch (HubctlException e) {
                return; // the hub frees it after --task-output-retention
            }
        }
    }

    /** Tasks asked for in one {@code POST /api/v1/tasks/raw}, and the bytes asked for in all. */
    static final int PAGES_PER_REQUEST = 128;
    static final long BYTES_PER_REQUEST = 4L * 1024 * 1024;

    /**
     * Reads the output of the tasks that ended (all of them) and of up to {@value #RUNNING_PER_ROUND}
     * running ones not read in the last second, {@value #PAGES_PER_REQUEST} tasks a request, a few
     * requests at a time; and frees what was read of tasks read to their end.
     *
     * @return whether any output arrived
     */
    private boolean readRound(JsonNode run, Map<Integer, NodeOut> nodes, ExecutorService pool, PrintWriter out,
            PrintWriter err) throws InterruptedException {
        long now = System.currentTimeMillis();
        java.util.Set<NodeOut> ended = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        List<NodeOut> releasing = new ArrayList<>();
        List<NodeOut> running = new ArrayList<>();
        int pos = 0;
        for (JsonNode n : run.path("nodes")) {
            NodeOut no = nodes.get(n.path("position").asInt(pos++));
            String task = n.path("taskId").asText(null);
            if (no == null || task == null) {
                continue;
            }
            if (no.reader == null) {
                no.reader = new TaskReader(client, task, no.sink(out, err));
            }
            if (no.reader.complete()) {
                if (no.reader.next() != null) {
                    releasing.add(no);
                }
            } else if (!List.of("pending", "running").contains(n.path("outcome").asText())) {
                ended.add(no);
            } else if (now - no.polledAtMs >= RUNNING_POLL_MS) {
                running.add(no);
            }
        }
        running.sort(java.util.Comparator.comparingLong(no -> no.polledAtMs));
        List<NodeOut> batch = new ArrayList<>(ended);
        batch.addAll(running.subList(0, Math.min(RUNNING_PER_ROUND, running.size())));
        batch.addAll(releasing);
        List<Future<Boolean>> results = new ArrayList<>();
        for (int from = 0; from < batch.size(); from += PAGES_PER_REQUEST) {
            List<NodeOut> group = batch.subList(from, Math.min(batch.size(), from + PAGES_PER_REQUEST));
            group.forEach(no -> no.polledAtMs = now);
            results.add(pool.submit(() -> readGroup(group, ended)));
        }
        boolean any = false;
        for (Future<Boolean> f : results) {
            try {
                any |= f.get();
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof HubctlException he) {
                    throw he;
                }
                throw new IllegalStateException(e.getCause());
            }
        }
        return any;
    }

    /**
     * One request for a page of each task in {@code group}; again for the ended ones that got
     * chunks and are not read to their end yet, and for those the hub deferred (its byte budget).
     * A running task gets one page a round.
     */
    private boolean readGroup(List<NodeOut> group, java.util.Set<NodeOut> ended) {
        boolean any = false;
        List<NodeOut> todo = group;
        while (!todo.isEmpty()) {
            List<Map<String, Object>> pages = new ArrayList<>(todo.size());
            List<NodeOut> asked = new ArrayList<>(todo.size());
            for (NodeOut no : todo) {
                TaskReader.Ask a = no.reader.next();
                if (a != null) {
                    pages.add(Map.of("task", a.taskId(), "after", a.after(), "maxBytes", a.maxBytes(), "release", true));
                    asked.add(no);
                }
            }
            if (asked.isEmpty()) {
                break;
            }
            JsonNode res = client.post("api/v1/tasks/raw", Map.of("pages", pages, "maxBytes", BYTES_PER_REQUEST));
            List<NodeOut> again = new ArrayList<>();
            int i = 0;
            for (JsonNode p : res.path("pages")) {
                NodeOut no = asked.get(i++);
                if (p.path("deferred").asBoolean()) {
                    again.add(no);
                } else if (p.hasNonNull("error")) {
                    no.reader.refused(p.get("error"));
                } else {
                    boolean got = no.reader.take(p.path("page"));
                    any |= got;
                    if (got && ended.contains(no) && !no.reader.complete()) {
                        again.add(no);
                    }
                }
            }
            todo = again;
        }
        return any;
    }

    /** A node's result: GROUP prints its block, JSON its object; STREAM printed its lines already. */
    private void report(JsonNode n, NodeOut no, PrintWriter out, Map<String, List<String>> sameOutput) {
        String incomplete = no.reader == null ? null : no.reader.incomplete();
        switch (mode) {
            case STREAM -> {
                if (incomplete != null) {
                    spec.commandLine().getErr().println("hubctl: " + no.name + ": " + incomplete);
                }
            }
            case GROUP -> {
                String text = String.join("\n", no.lines);
                String key = outcomeOf(n) + "\n" + text;
                List<String> same = sameOutput.get(key);
                if (same != null) {
                    same.add(no.name);
                    return;
                }
                List<String> first = new ArrayList<>();
                first.add(no.name);
                sameOutput.put(key, first);
                out.println(colors.header("----- " + no.name + " (" + outcomeOf(n) + ") -----"));
                no.lines.forEach(out::println);
                if (incomplete != null) {
                    out.println("hubctl: " + incomplete);
                }
            }
            case JSON -> {
                ObjectNode o = JSON.createObjectNode();
                o.put("node", no.name);
                o.put("nodeId", no.nodeId);
                o.set("taskId", n.path("taskId").isMissingNode() ? o.nullNode() : n.get("taskId"));
                o.put("outcome", n.path("outcome").asText());
                o.set("exitCode", n.path("exitCode").isMissingNode() ? o.nullNode() : n.get("exitCode"));
                o.set("error", n.path("error").isMissingNode() ? o.nullNode() : n.get("error"));
                o.put("stdout", no.stdout.toString(StandardCharsets.UTF_8));
                o.put("stderr", no.stderr.toString(StandardCharsets.UTF_8));
                o.put("complete", incomplete == null);
                if (incomplete != null) {
                    o.put("incomplete", incomplete);
                }
                out.println(o.toString());
            }
        }
    }

    private static String outcomeOf(JsonNode n) {
        String o = n.path("outcome").asText();
        return n.hasNonNull("exitCode") ? o + ", exit " + n.get("exitCode").asInt() : o;
    }

    /** GROUP: the nodes that printed the same output (and outcome), folded: {@code web-[1-40]: same output}. */
    private void fold(Map<String, List<String>> sameOutput, PrintWriter out) {
        boolean header = false;
        for (List<String> names : sameOutput.values()) {
            if (names.size() > 1) {
                if (!header) {
                    out.println();
                    header = true;
                }
                out.println(NodeRanges.fold(names) + ": same output (printed under " + names.get(0) + ")");
            }
        }
    }

    /**
     * Every node's outcome on stderr; 0 if all succeeded with their output whole, else 1 (130 for a
     * cancelled run).
     */
    private int summary(JsonNode run, Map<Integer, NodeOut> nodes, PrintWriter err) {
        err.println();
        Table t = new Table(List.of("NODE", "OUTCOME", "EXIT", "ERROR"));
        boolean allOk = true;
        int pos = 0;
        for (JsonNode n : run.path("nodes")) {
            NodeOut no = nodes.get(n.path("position").asInt(pos++));
            String outcome = n.path("outcome").asText();
            String incomplete = no == null || no.reader == null ? null : no.reader.incomplete();
            allOk &= "ok".equals(outcome) && incomplete == null;
            String error = incomplete != null ? "output incomplete: " + incomplete : Format.text(n, "error");
            t.row(List.of(Format.text(n, "name"), outcome, Format.text(n, "exitCode"), error));
        }
        t.colors(colors).print(err);
        err.println("hubctl: run " + run.path("id").asText() + " " + run.path("state").asText() + ": "
                + RunsCommand.counts(run));
        err.flush();
        if ("cancelled".equals(run.path("state").asText())) {
            return ExecCommand.EXIT_CANCELLED;
        }
        return allOk ? 0 : ExitCodes.HUB_ERROR;
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }
}

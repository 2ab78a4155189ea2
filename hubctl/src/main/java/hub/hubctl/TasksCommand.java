package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code hubctl tasks ls|show|cancel}: the commands run on nodes. */
@Command(name = "tasks", mixinStandardHelpOptions = true,
        description = "List a node's tasks; show one, print its output, cancel it ('exec' runs them).",
        subcommands = {TasksCommand.Ls.class, TasksCommand.Show.class, TasksCommand.Output.class,
            TasksCommand.Cancel.class})
final class TasksCommand extends GroupCommand {

    /** The states a task ends in. */
    static final List<String> FINAL = List.of("exited", "failed", "timed_out", "cancelled");

    /** What a task ran: its shell command, or its argv joined. */
    static String command(JsonNode t) {
        if (t.hasNonNull("command")) {
            return t.get("command").asText();
        }
        List<String> argv = new ArrayList<>();
        t.path("argv").forEach(a -> argv.add(a.asText()));
        return argv.isEmpty() ? "-" : String.join(" ", argv);
    }

    /** {@code hubctl tasks ls NODE}. */
    @Command(name = "ls", aliases = "list", mixinStandardHelpOptions = true, sortOptions = false,
            description = "List a node's tasks, newest first.")
    static final class Ls implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NODE", completionCandidates = LiveValues.Nodes.class,
                description = "Node id or unique name.")
        String node;

        @Option(names = "--state", paramLabel = "STATE", completionCandidates = States.class,
                description = "Only tasks in this state: queued, sent, running, exited, failed, timed_out, "
                        + "cancelled, or unfinished (queued, sent or running) or finished.")
        String state;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "20",
                description = "At most this many (1 to 1000). Default: ${DEFAULT-VALUE}")
        int limit;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            String query = "?limit=" + limit + (state == null ? "" : "&state=" + HubClient.enc(state));
            JsonNode res = root.client().get("api/v1/nodes/" + HubClient.enc(node) + "/tasks" + query);
            PrintWriter out = spec.commandLine().getOut();
            if (root.printStructured(out, res, "id")) {
                return 0;
            }
            boolean wide = root.output() == HubctlCommand.Output.wide;
            Instant now = Instant.now();
            Table t = new Table(wide
                    ? List.of("ID", "STATE", "EXIT", "CREATED", "FINISHED", "OWNER", "COMMAND", "ERROR")
                    : List.of("ID", "STATE", "EXIT", "CREATED", "COMMAND"));
            for (JsonNode n : res.path("items")) {
                String id = Format.text(n, "id");
                String st = Format.text(n, "state");
                String exit = Format.text(n, "exitCode");
                String created = Format.age(n.get("createdAt"), now);
                t.row(wide ? List.of(id, st, exit, created, Format.age(n.get("finishedAt"), now),
                        Format.text(n, "owner"), command(n), Format.text(n, "error"))
                        : List.of(id, st, exit, created, command(n)));
            }
            t.styled(root).print(out);
            if (res.hasNonNull("next")) {
                PrintWriter err = spec.commandLine().getErr();
                err.printf("(the newest %d shown; --limit N for more)%n", limit);
                err.flush();
            }
            return 0;
        }
    }

    /** {@code hubctl tasks show ID}. */
    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one task.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ID", description = "The task's id (from tasks ls).")
        String id;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            JsonNode t = root.client().get("api/v1/tasks/" + HubClient.enc(id));
            PrintWriter out = spec.commandLine().getOut();
            if (root.printStructured(out, t, "id")) {
                return 0;
            }
            Instant now = Instant.now();
            out.printf("ID:            %s%n", Format.text(t, "id"));
            out.printf("Node:          %s%n", nodeName(root.client(), Format.text(t, "node")));
            out.printf("State:         %s%n", root.colors().status(Format.text(t, "state")));
            out.printf("Exit code:     %s%n", Format.text(t, "exitCode"));
            out.printf("Error:         %s%n", Format.text(t, "error"));
            out.printf("Command:       %s%n", command(t));
            out.printf("Timeout:       %s%n", Format.text(t, "timeout"));
            out.printf("Owner:         %s%n", Format.text(t, "owner"));
            out.printf("Created:       %s%n", Format.age(t.get("createdAt"), now));
            out.printf("Started:       %s%n", Format.age(t.get("startedAt"), now));
            out.printf("Finished:      %s%n", Format.age(t.get("finishedAt"), now));
            if (t.hasNonNull("cancelRequestedAt")) {
                out.printf("Cancel asked:  %s by %s%n", Format.age(t.get("cancelRequestedAt"), now),
                        Format.text(t, "cancelRequestedBy"));
            }
            out.flush();
            return 0;
        }
    }

    /** {@code NAME (ID)}, or the id alone when the node is gone (its tasks stay readable). */
    private static String nodeName(HubClient client, String nodeId) {
        try {
            return client.get("api/v1/nodes/" + HubClient.enc(nodeId)).path("name").asText() + " (" + nodeId + ")";
        } catch (HubctlException e) {
            if (e.exitCode() == ExitCodes.HUB_ERROR && !e.isTransient()) {
                return nodeId + " (removed)"; // the hub answered: no such node
            }
            throw e;
        }
    }

    /** {@code hubctl tasks output ID [-f]}. */
    @Command(name = "output", aliases = "logs", mixinStandardHelpOptions = true,
            description = {"Print a task's output: its stdout lines to stdout, its stderr lines to stderr.",
                "Lines the hub trimmed from the node's history (its caps) are missing; hubctl says so.",
                "-o json prints one JSON object per line (offset, taskId, stream, text, at)."})
    static final class Output implements Callable<Integer> {
        static final long POLL_MS = 500;

        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ID", description = "The task's id (from tasks ls).")
        String id;

        @Option(names = {"-f", "--follow"}, description = "Keep printing until the task ends.")
        boolean follow;

        @Override
        public Integer call() throws InterruptedException {
            HubctlCommand root = HubctlCommand.root(spec);
            HubClient client = root.client();
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            String path = "api/v1/tasks/" + HubClient.enc(id) + "/output";
            // Prints lines as history and exec do (stdout/stderr apart, or JSON); it fetches nothing here.
            HistoryFollower printer = new HistoryFollower(client, null, 0, id, out, err,
                    root.output() == HubctlCommand.Output.json);
            long after = 0;
            boolean gapSaid = false;
            while (true) {
                JsonNode page = client.get(path + "?after=" + after);
                if (page.hasNonNull("gap") && !gapSaid) {
                    gapSaid = true;
                    printer.gap(page.get("gap"));
                }
                printer.print(page.path("lines"));
                boolean more = page.path("nextOffset").asLong() > after;
                after = page.path("nextOffset").asLong();
                if (page.path("complete").asBoolean()) {
                    return 0;
                }
                if (!more) {
                    if (!follow) {
                        if (!FINAL.contains(page.path("task").path("state").asText())) {
                            err.println("hubctl: task " + id + " is still " + page.path("task").path("state").asText()
                                    + "; -f follows it");
                            err.flush();
                        }
                        return 0;
                    }
                    Thread.sleep(POLL_MS);
                }
            }
        }
    }

    /** {@code hubctl tasks cancel ID}. */
    @Command(name = "cancel", mixinStandardHelpOptions = true,
            description = {"Cancel a task: its node kills the process tree.",
                "The request is kept: if the node is offline, it is sent when the node reconnects."})
    static final class Cancel implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ID", description = "The task's id (from tasks ls).")
        String id;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            JsonNode t = root.client().post("api/v1/tasks/" + HubClient.enc(id) + "/cancel", java.util.Map.of());
            PrintWriter out = spec.commandLine().getOut();
            if (root.printStructured(out, t, "id")) {
                return 0;
            }
            String state = Format.text(t, "state");
            if (FINAL.contains(state)) {
                out.println("task " + id + " had already ended (" + state + ")");
            } else {
                out.println("cancel of task " + id + " asked; it ends when its node has killed it");
            }
            out.flush();
            return 0;
        }
    }

    /** The values {@code --state} takes, for completion. */
    static final class States implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return List.of("unfinished", "finished", "queued", "sent", "running", "exited", "failed", "timed_out",
                    "cancelled").iterator();
        }
    }
}

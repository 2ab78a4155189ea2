package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code hubctl exec} on many nodes: creates a run, prints each node's output as it arrives with
 * the node's name in front (aligned, as pdsh does; stdout lines to stdout, stderr lines to stderr),
 * then a summary of every node's outcome on stderr. Each task's lines are read from its own output
 * with an offset, so each is printed once, across hub restarts too. Ctrl-C cancels the run.
 */
final class FleetExec {
    private final CommandSpec spec;
    private final HubClient client;
    private final Colors colors;

    FleetExec(CommandSpec spec, HubClient client, Colors colors) {
        this.spec = spec;
        this.client = client;
        this.colors = colors;
    }

    int run(Map<String, Object> body) throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        JsonNode run = client.post("api/v1/runs", body);
        String id = run.get("id").asText();
        int width = 0;
        for (JsonNode n : run.path("nodes")) {
            width = Math.max(width, n.path("name").asText().length());
        }
        err.printf("hubctl: run %s on %d node(s), %d at a time%n", id, run.path("nodes").size(),
                run.path("parallel").asInt());
        err.flush();
        Map<String, Long> after = new HashMap<>();
        Map<String, Boolean> complete = new HashMap<>();
        ExecCommand.RideThrough outage = new ExecCommand.RideThrough(err);
        try {
            while (true) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException();
                }
                boolean printed = false;
                boolean allRead = true;
                try {
                    run = client.get("api/v1/runs/" + HubClient.enc(id));
                    for (JsonNode n : run.path("nodes")) {
                        String task = n.path("taskId").asText(null);
                        if (task == null || complete.getOrDefault(task, false)) {
                            continue;
                        }
                        JsonNode page = client.get("api/v1/tasks/" + HubClient.enc(task) + "/output?after="
                                + after.getOrDefault(task, 0L));
                        String prefix = pad(n.path("name").asText(), width) + " | ";
                        for (JsonNode l : page.path("lines")) {
                            ("stderr".equals(l.path("stream").asText()) ? err : out).println(prefix
                                    + l.path("text").asText());
                            printed = true;
                        }
                        after.put(task, page.path("nextOffset").asLong(after.getOrDefault(task, 0L)));
                        boolean done = page.path("complete").asBoolean();
                        complete.put(task, done);
                        allRead &= done;
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
                if (!"running".equals(run.path("state").asText()) && allRead) {
                    return summary(run, err);
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
        }
    }

    /** Every node's outcome on stderr; 0 if all succeeded, else 1 (130 for a cancelled run). */
    private int summary(JsonNode run, PrintWriter err) {
        err.println();
        Table t = new Table(List.of("NODE", "OUTCOME", "EXIT", "ERROR"));
        boolean allOk = true;
        for (JsonNode n : run.path("nodes")) {
            String outcome = n.path("outcome").asText();
            allOk &= "ok".equals(outcome);
            t.row(List.of(Format.text(n, "name"), outcome, Format.text(n, "exitCode"), Format.text(n, "error")));
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

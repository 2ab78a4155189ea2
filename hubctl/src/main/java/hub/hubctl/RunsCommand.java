package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code hubctl runs ls|show|cancel}: one command on many nodes, as the hub keeps them. */
@Command(name = "runs", mixinStandardHelpOptions = true,
        description = {"List, show and cancel runs: one command on many nodes, rolled out a few at a time.",
            "A run stops starting nodes once more of them failed than its maxErrors allows."},
        subcommands = {RunsCommand.Ls.class, RunsCommand.Show.class, RunsCommand.Cancel.class})
final class RunsCommand extends GroupCommand {

    /** {@code ok 3, failed 1, offline 1}: the outcomes a run has, in a few words. */
    static String counts(JsonNode run) {
        List<String> parts = new ArrayList<>();
        run.path("counts").fields().forEachRemaining(e -> {
            if (e.getValue().asInt() > 0) {
                parts.add(e.getKey() + " " + e.getValue().asInt());
            }
        });
        return String.join(", ", parts);
    }

    /** {@code hubctl runs ls}. */
    @Command(name = "ls", aliases = "list", mixinStandardHelpOptions = true,
            description = "List runs, newest first (yours; admins see all).")
    static final class Ls implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "At most this many (1-1000). "
                + "Default: ${DEFAULT-VALUE}")
        int limit;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            JsonNode res = root.client().get("api/v1/runs?limit=" + limit);
            PrintWriter out = spec.commandLine().getOut();
            if (root.printStructured(out, res, "id")) {
                return 0;
            }
            Instant now = Instant.now();
            Table t = new Table(List.of("ID", "STATE", "NODES", "OUTCOMES", "CREATED", "OWNER", "COMMAND"));
            for (JsonNode r : res.path("items")) {
                t.row(List.of(Format.text(r, "id"), Format.text(r, "state"), String.valueOf(r.path("nodes").size()),
                        counts(r), Format.age(r.get("createdAt"), now), Format.text(r, "owner"), command(r)));
            }
            t.styled(root).print(out);
            return 0;
        }
    }

    static String command(JsonNode r) {
        if (r.hasNonNull("command")) {
            return r.get("command").asText();
        }
        List<String> argv = new ArrayList<>();
        r.path("argv").forEach(a -> argv.add(a.asText()));
        return String.join(" ", argv);
    }

    /** {@code hubctl runs show ID}. */
    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a run and each node's outcome.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ID", description = "Run id.")
        String id;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            JsonNode r = root.client().get("api/v1/runs/" + HubClient.enc(id));
            PrintWriter out = spec.commandLine().getOut();
            if (root.printStructured(out, r, "id")) {
                return 0;
            }
            out.printf("ID:        %s%n", Format.text(r, "id"));
            out.printf("State:     %s%n", root.colors().status(Format.text(r, "state")));
            out.printf("Command:   %s%n", command(r));
            out.printf("Targets:   %s%n", r.hasNonNull("selector") ? "-l " + r.get("selector").asText()
                    : r.path("nodes").size() + " named node(s)");
            out.printf("Rollout:   %s at a time, stop past %s failure(s)%n", Format.text(r, "parallel"),
                    Format.text(r, "maxErrors"));
            out.printf("Outcomes:  %s%n", counts(r));
            out.printf("Created:   %s by %s%n", Format.text(r, "createdAt"), Format.text(r, "owner"));
            out.println();
            Table t = new Table(List.of("NODE", "OUTCOME", "EXIT", "TASK", "ERROR"));
            for (JsonNode n : r.path("nodes")) {
                t.row(List.of(Format.text(n, "name"), Format.text(n, "outcome"), Format.text(n, "exitCode"),
                        Format.text(n, "taskId"), Format.text(n, "error")));
            }
            t.styled(root).print(out);
            return 0;
        }
    }

    /** {@code hubctl runs cancel ID}. */
    @Command(name = "cancel", mixinStandardHelpOptions = true,
            description = "Cancel a run: no further node is started and its running tasks are cancelled.")
    static final class Cancel implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ID", description = "Run id.")
        String id;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            JsonNode r = root.client().post("api/v1/runs/" + HubClient.enc(id) + "/cancel", Map.of());
            if (!root.printStructured(spec.commandLine().getOut(), r, "id")) {
                root.done(spec, "cancelled run " + id + " (" + counts(r) + ")");
            }
            return 0;
        }
    }
}

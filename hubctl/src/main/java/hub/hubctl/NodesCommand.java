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

/** {@code hubctl nodes ls|show|rm}. */
@Command(name = "nodes", mixinStandardHelpOptions = true, description = "List, show and remove nodes.",
        subcommands = {NodesCommand.Ls.class, NodesCommand.Show.class, NodesCommand.Rm.class})
final class NodesCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code hubctl nodes ls}. */
    @Command(name = "ls", aliases = "list", mixinStandardHelpOptions = true,
            description = "List nodes with their live status.")
    static final class Ls implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--status", paramLabel = "online|offline", description = "Only nodes in this state.")
        String status;

        @Option(names = {"-l", "--label"}, paramLabel = "KEY=VALUE", description = "Only nodes with this label.")
        String label;

        @Override
        public Integer call() {
            if (status != null && !status.equals("online") && !status.equals("offline")) {
                throw HubctlException.usage("--status must be online or offline, not '" + status + "'");
            }
            if (label != null && label.indexOf('=') <= 0) {
                throw HubctlException.usage("--label must be KEY=VALUE, not '" + label + "'");
            }
            HubctlCommand root = HubctlCommand.root(spec);
            List<String> q = new ArrayList<>();
            if (status != null) {
                q.add("status=" + HubClient.enc(status));
            }
            if (label != null) {
                q.add("label=" + HubClient.enc(label));
            }
            JsonNode res = root.client().get("api/v1/nodes" + (q.isEmpty() ? "" : "?" + String.join("&", q)));
            PrintWriter out = spec.commandLine().getOut();
            if (root.output() == HubctlCommand.Output.json) {
                root.printJson(out, res);
                return 0;
            }
            boolean wide = root.output() == HubctlCommand.Output.wide;
            Instant now = Instant.now();
            Table t = new Table(wide
                    ? List.of("NAME", "ID", "STATUS", "LAST SEEN", "REASON", "HOSTNAME", "OS", "ARCH", "AGENT",
                            "OWNER", "LABELS")
                    : List.of("NAME", "ID", "STATUS", "LAST SEEN", "LABELS"));
            for (JsonNode n : res.path("items")) {
                String name = Format.text(n, "name");
                String id = Format.text(n, "id");
                String st = Format.text(n, "status");
                String seen = Format.age(n.get("lastSeen"), now);
                String labels = Format.labels(n.get("labels"));
                t.row(wide
                        ? List.of(name, id, st, seen, Format.text(n, "offlineReason"), Format.text(n, "hostname"),
                                Format.text(n, "os"), Format.text(n, "arch"), Format.text(n, "agentVersion"),
                                Format.text(n, "owner"), labels)
                        : List.of(name, id, st, seen, labels));
            }
            t.print(out);
            return 0;
        }
    }

    /** {@code hubctl nodes show NODE}. */
    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one node.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NODE", description = "Node id or unique name.")
        String node;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            JsonNode n = root.client().get("api/v1/nodes/" + HubClient.enc(node));
            PrintWriter out = spec.commandLine().getOut();
            if (root.output() == HubctlCommand.Output.json) {
                root.printJson(out, n);
                return 0;
            }
            Instant now = Instant.now();
            out.printf("Name:          %s%n", Format.text(n, "name"));
            out.printf("ID:            %s%n", Format.text(n, "id"));
            out.printf("Status:        %s%s%n", Format.text(n, "status"),
                    n.hasNonNull("offlineReason") ? " (" + n.get("offlineReason").asText() + ")" : "");
            out.printf("Last seen:     %s%n", Format.age(n.get("lastSeen"), now));
            out.printf("Connected:     %s%n", Format.age(n.get("connectedAt"), now));
            out.printf("Hostname:      %s%n", Format.text(n, "hostname"));
            out.printf("OS/arch:       %s/%s%n", Format.text(n, "os"), Format.text(n, "arch"));
            out.printf("Agent:         %s%n", Format.text(n, "agentVersion"));
            out.printf("Owner:         %s%n", Format.text(n, "owner"));
            out.printf("Labels:        %s%n", Format.labels(n.get("labels")));
            out.printf("Joined:        %s%n", Format.text(n, "createdAt"));
            out.flush();
            return 0;
        }
    }

    /** {@code hubctl nodes rm NODE}. */
    @Command(name = "rm", aliases = "remove", mixinStandardHelpOptions = true,
            description = "Remove a node: it is forgotten and its agent disconnected; it must join again.")
    static final class Rm implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NODE", description = "Node id or unique name.")
        String node;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            root.client().delete("api/v1/nodes/" + HubClient.enc(node));
            if (root.output() != HubctlCommand.Output.json) {
                spec.commandLine().getOut().println("removed node " + node);
                spec.commandLine().getOut().flush();
            }
            return 0;
        }
    }
}

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

/** {@code hubctl nodes ls|show|rm|assign}. */
@Command(name = "nodes", mixinStandardHelpOptions = true, description = "List, show, remove and assign nodes.",
        subcommands = {NodesCommand.Ls.class, NodesCommand.Show.class, NodesCommand.Rm.class,
            NodesCommand.Assign.class})
final class NodesCommand extends GroupCommand {

    /** {@code hubctl nodes ls}. */
    @Command(name = "ls", aliases = "list", mixinStandardHelpOptions = true,
            description = "List nodes with their live status.")
    static final class Ls implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--status", paramLabel = "online|offline", description = "Only nodes in this state.")
        String status;

        @Option(names = {"-l", "--label"}, paramLabel = "SELECTOR", completionCandidates = LiveValues.Labels.class,
                description = "Only nodes whose labels match: " + Selectors.HELP)
        List<String> labels;

        @Option(names = {"-w", "--watch"},
                description = "After the list, print a node's row again whenever it changes (until interrupted).")
        boolean watch;

        @Override
        public Integer call() throws InterruptedException {
            if (status != null && !status.equals("online") && !status.equals("offline")) {
                throw HubctlException.usage("--status must be online or offline, not '" + status + "'");
            }
            String label = Selectors.join(labels);
            HubctlCommand root = HubctlCommand.root(spec);
            List<String> q = new ArrayList<>();
            if (status != null) {
                q.add("status=" + HubClient.enc(status));
            }
            if (label != null) {
                q.add("label=" + HubClient.enc(label));
            }
            String listPath = "api/v1/nodes" + (q.isEmpty() ? "" : "?" + String.join("&", q));
            PrintWriter out = spec.commandLine().getOut();
            boolean json = root.output() == HubctlCommand.Output.json;
            boolean wide = root.output() == HubctlCommand.Output.wide;
            if (!watch) {
                JsonNode res = root.client().get(listPath);
                if (!root.printStructured(out, res, "name")) {
                    Table t = new Table(header(wide));
                    res.path("items").forEach(n -> t.row(row(n, wide, Instant.now())));
                    t.styled(root).print(out);
                }
                return 0;
            }
            return watch(root, listPath, label, out, json, wide);
        }

        /**
         * Watch: subscribes to node events first (live only), then prints the list, then a row for each
         * change; after a disconnect it resumes after the last event seen. The hub selects the events
         * by the label selector (a node's labels when the event happened), so rows match as the list's do.
         */
        private int watch(HubctlCommand root, String listPath, String label, PrintWriter out, boolean json,
                boolean wide) throws InterruptedException {
            HubClient client = root.client();
            java.util.concurrent.atomic.AtomicLong position = new java.util.concurrent.atomic.AtomicLong(-1);
            java.util.concurrent.atomic.AtomicBoolean listed = new java.util.concurrent.atomic.AtomicBoolean();
            Table.Aligned rows = new Table.Aligned(header(wide), out, root.colors());
            try {
                Streams.follow(spec.commandLine().getErr(), () -> HubSocket.open(client, "api/v1/events?types="
                        + "node.online,node.offline,node.updated,node.removed"
                        + (label == null ? "" : "&label=" + HubClient.enc(label))
                        + (position.get() >= 0 ? "&after=" + position.get() : ""), root.mapper(), o -> {
                            String type = o.path("type").asText();
                            if (type.equals("sync")) {
                                if (listed.compareAndSet(false, true)) {
                                    position.set(o.path("lastSeq").asLong());
                                    for (JsonNode n : client.get(listPath).path("items")) {
                                        print(n, rows, out, json, wide);
                                    }
                                }
                                return;
                            }
                            if (!o.has("seq")) {
                                return; // a gap: the rows printed next are current anyway
                            }
                            position.set(o.get("seq").asLong());
                            JsonNode n;
                            if (type.equals("node.removed")) {
                                n = root.mapper().createObjectNode().put("id", o.path("node").asText())
                                        .put("name", o.path("name").asText()).put("status", "removed");
                            } else {
                                try {
                                    n = client.get("api/v1/nodes/" + HubClient.enc(o.path("node").asText()));
                                } catch (HubctlException e) {
                                    return; // removed meanwhile: its removal event follows
                                }
                            }
                            if (matches(n)) {
                                print(n, rows, out, json, wide);
                            }
                        }), new java.util.concurrent.CompletableFuture<>());
            } catch (InterruptedException e) {
                return 0;
            }
            return 0;
        }

        private boolean matches(JsonNode n) {
            return status == null || status.equals(n.path("status").asText())
                    || "removed".equals(n.path("status").asText());
        }

        private static void print(JsonNode n, Table.Aligned rows, PrintWriter out, boolean json, boolean wide) {
            if (json) {
                out.println(n.toString());
                out.flush();
            } else {
                rows.print(row(n, wide, Instant.now()));
            }
        }

        private static List<String> header(boolean wide) {
            return wide
                    ? List.of("NAME", "ID", "STATUS", "LAST SEEN", "REASON", "HOSTNAME", "OS", "ARCH", "AGENT",
                            "OWNER", "LABELS")
                    : List.of("NAME", "ID", "STATUS", "LAST SEEN", "LABELS");
        }

        private static List<String> row(JsonNode n, boolean wide, Instant now) {
            String name = Format.text(n, "name");
            String id = Format.text(n, "id");
            String st = Format.text(n, "status");
            String seen = Format.age(n.get("lastSeen"), now);
            String labels = Format.labels(n.get("labels"));
            return wide
                    ? List.of(name, id, st, seen, Format.text(n, "offlineReason"), Format.text(n, "hostname"),
                            Format.text(n, "os"), Format.text(n, "arch"), Format.text(n, "agentVersion"),
                            Format.text(n, "owner"), labels)
                    : List.of(name, id, st, seen, labels);
        }
    }

    /** {@code hubctl nodes show NODE}. */
    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one node.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NODE", completionCandidates = LiveValues.Nodes.class, description = "Node id or unique name.")
        String node;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            JsonNode n = root.client().get("api/v1/nodes/" + HubClient.enc(node));
            PrintWriter out = spec.commandLine().getOut();
            if (root.printStructured(out, n, "name")) {
                return 0;
            }
            Instant now = Instant.now();
            out.printf("Name:          %s%n", Format.text(n, "name"));
            out.printf("ID:            %s%n", Format.text(n, "id"));
            out.printf("Status:        %s%s%n", root.colors().status(Format.text(n, "status")),
                    n.hasNonNull("offlineReason") ? " (" + n.get("offlineReason").asText() + ")" : "");
            if (n.hasNonNull("hub")) { // a hub of a cluster: which hub holds the node's stream
                out.printf("Hub:           %s%n", n.get("hub").asText());
            }
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

    /** {@code hubctl nodes rm NODE... | -l SELECTOR [--offline-for D] [-y]}. */
    @Command(name = "rm", aliases = "remove", mixinStandardHelpOptions = true,
            description = {"Remove nodes: each is forgotten and its agent disconnected; it must join again.",
                "Name them, or pick them with -l and/or --offline-for; a pick is listed and confirmed first "
                    + "(-y to skip the question, as scripts must)."})
    static final class Rm implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NODE", arity = "0..*", completionCandidates = LiveValues.Nodes.class,
                description = "Node ids or unique names.")
        List<String> nodes = new ArrayList<>();

        @Option(names = {"-l", "--label"}, paramLabel = "SELECTOR", completionCandidates = LiveValues.Labels.class,
                description = "Remove the nodes whose labels match: " + Selectors.HELP)
        List<String> labels;

        @Option(names = "--offline-for", paramLabel = "DURATION",
                description = "Only nodes offline for at least this long (e.g. 14d, as GitHub removes runners).")
        String offlineFor;

        @Option(names = {"-y", "--yes"}, description = "Do not ask before removing what -l/--offline-for picked.")
        boolean yes;

        @Override
        public Integer call() {
            String selector = Selectors.join(labels);
            boolean pick = selector != null || offlineFor != null;
            if (pick == !nodes.isEmpty()) {
                throw HubctlException.usage(pick ? "give NODE names or -l/--offline-for, not both"
                        : "give the nodes to remove, or pick them with -l SELECTOR and/or --offline-for DURATION");
            }
            HubctlCommand root = HubctlCommand.root(spec);
            HubClient client = root.client();
            List<String> targets = nodes;
            if (pick) {
                targets = picked(client, selector);
                if (targets.isEmpty()) {
                    root.done(spec, "no node matches");
                    return 0;
                }
                if (!yes && !confirmed(root, targets)) {
                    throw HubctlException.usage("not confirmed; nothing removed");
                }
            }
            int failed = 0;
            for (String n : targets) {
                try {
                    client.delete("api/v1/nodes/" + HubClient.enc(n));
                    root.done(spec, "removed node " + n);
                } catch (HubctlException e) {
                    if (e.exitCode() != ExitCodes.HUB_ERROR) {
                        throw e;
                    }
                    spec.commandLine().getErr().println("hubctl: " + n + ": " + e.getMessage());
                    spec.commandLine().getErr().flush();
                    failed++;
                }
            }
            return failed == 0 ? 0 : ExitCodes.HUB_ERROR;
        }

        /** The ids of the nodes the selector and age pick (by id: names of picked nodes may repeat). */
        private List<String> picked(HubClient client, String selector) {
            java.time.Duration age = null;
            if (offlineFor != null) {
                age = age(offlineFor);
            }
            List<String> q = new ArrayList<>();
            if (selector != null) {
                q.add("label=" + HubClient.enc(selector));
            }
            if (age != null) {
                q.add("status=offline");
            }
            JsonNode res = client.get("api/v1/nodes" + (q.isEmpty() ? "" : "?" + String.join("&", q)));
            Instant cutoff = age == null ? null : Instant.now().minus(age);
            List<String> ids = new ArrayList<>();
            names.clear();
            for (JsonNode n : res.path("items")) {
                if (cutoff != null) {
                    JsonNode seen = n.get("lastSeen");
                    Instant last = seen == null || seen.isNull() ? Instant.parse(n.path("createdAt").asText())
                            : Instant.parse(seen.asText());
                    if (last.isAfter(cutoff)) {
                        continue;
                    }
                }
                ids.add(n.path("id").asText());
                names.add(n.path("name").asText() + " (" + n.path("status").asText() + ", last seen "
                        + Format.age(n.get("lastSeen"), Instant.now()) + ")");
            }
            return ids;
        }

        private final List<String> names = new ArrayList<>();

        /** {@code 90s}, {@code 30m}, {@code 12h}, {@code 14d}, {@code 2w}. */
        static java.time.Duration age(String s) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]{1,6})([smhdw])").matcher(s.strip());
            if (!m.matches()) {
                throw HubctlException.usage("--offline-for must be a number and s, m, h, d or w (e.g. 14d), not '"
                        + s + "'");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "s" -> java.time.Duration.ofSeconds(n);
                case "m" -> java.time.Duration.ofMinutes(n);
                case "h" -> java.time.Duration.ofHours(n);
                case "d" -> java.time.Duration.ofDays(n);
                default -> java.time.Duration.ofDays(7 * n);
            };
        }

        private boolean confirmed(HubctlCommand root, List<String> targets) {
            Prompter p = root.prompter();
            if (p == null) {
                throw HubctlException.usage(targets.size() + " node(s) match; there is no terminal to confirm "
                        + "on: give -y to remove them");
            }
            PrintWriter err = spec.commandLine().getErr();
            err.println("These " + targets.size() + " node(s) will be removed:");
            names.forEach(n -> err.println("  " + n));
            err.flush();
            String answer = p.readLine("Remove them? [y/N] ");
            return answer != null && List.of("y", "yes").contains(answer.strip().toLowerCase(java.util.Locale.ROOT));
        }
    }

    /** {@code hubctl nodes assign NODE --owner USER} (admins). */
    @Command(name = "assign", mixinStandardHelpOptions = true,
            description = {"Give a node to another user (admins only): it owns it from now on, as if it had "
                + "joined with that user's join token."})
    static final class Assign implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NODE", completionCandidates = LiveValues.Nodes.class, description = "Node id or unique name.")
        String node;

        @Option(names = "--owner", paramLabel = "USER", required = true, completionCandidates = LiveValues.Users.class,
                description = "The user who will own it (an operator or admin).")
        String owner;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            JsonNode n = root.client().post("api/v1/nodes/" + HubClient.enc(node) + "/owner", Map.of("owner", owner));
            if (root.printStructured(spec.commandLine().getOut(), n, "name")) {
                return 0;
            }
            root.done(spec, "node " + Format.text(n, "name") + " is now owned by " + Format.text(n, "owner"));
            return 0;
        }
    }
}

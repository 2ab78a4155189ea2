package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hubctl events [-f] [--node NODE] [-l SELECTOR] [--types T,…] [--last N | --after SEQ]}: the hub's recent
 * events, and with {@code -f} live ones, resuming after the last one printed when the connection
 * drops or the hub restarts.
 */
@Command(name = "events", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Print the hub's recent events; -f keeps following, across hub restarts.",
            "Types: node.online, node.offline, node.updated, node.removed, node.heartbeat, task.state, "
                    + "task.output, token.created, token.revoked, listener.dropped.",
            "-o json prints one JSON object per line (seq, at, type, node and the event's fields)."})
final class EventsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--follow"}, description = "Keep printing new events as they happen.")
    boolean follow;

    @Option(names = "--node", paramLabel = "NODE", completionCandidates = LiveValues.Nodes.class,
            description = "Only this node's events (id or unique name).")
    String node;

    @Option(names = {"-l", "--label"}, paramLabel = "SELECTOR", completionCandidates = LiveValues.Labels.class,
            description = "Only events about nodes whose labels matched when they happened: " + Selectors.HELP)
    List<String> labels;

    @Option(names = "--types", paramLabel = "TYPE[,TYPE…]", split = ",", description = "Only these event types.")
    List<String> types;

    @Option(names = "--last", paramLabel = "N", defaultValue = "20",
            description = "Recent events to show first. Default: ${DEFAULT-VALUE}")
    int last;

    @Option(names = "--after", paramLabel = "SEQ", description = "Start after this event sequence instead.")
    Long after;

    @Override
    public Integer call() throws InterruptedException {
        if (last < 0 || last > 10_000) {
            throw HubctlException.usage("--last must be between 0 and 10000");
        }
        HubctlCommand root = HubctlCommand.root(spec);
        HubClient client = root.client();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean json = root.output() == HubctlCommand.Output.json;
        AtomicLong position = new AtomicLong(after == null ? -1 : after);
        CompletableFuture<Void> stop = new CompletableFuture<>();
        try {
            Streams.follow(err, () -> HubSocket.open(client, path(position.get()), root.mapper(), o -> {
                String type = o.path("type").asText();
                if (type.equals("sync")) {
                    if (position.get() < 0) {
                        position.set(o.path("lastSeq").asLong());
                    }
                    if (!follow) {
                        stop.complete(null);
                    }
                } else if (type.equals("gap")) {
                    long from = o.path("from").asLong();
                    long to = o.path("to").asLong();
                    if (o.path("restart").asBoolean()) {
                        err.printf("hubctl: the hub restarted without a clean stop; events it published after %d "
                                + "before that, if any, were missed%n", from - 1);
                    } else {
                        err.printf("hubctl: missed %d event%s (%d-%d): the hub no longer keeps them%n",
                                to - from + 1, to == from ? "" : "s", from, to);
                    }
                    err.flush();
                } else if (o.has("seq")) {
                    position.set(o.get("seq").asLong());
                    out.println(json ? o.toString() : line(o));
                    out.flush();
                }
            }), stop);
        } catch (InterruptedException e) {
            return 0;
        }
        return 0;
    }

    /** The stream's path: from {@code position} once known, else the last N events. */
    private String path(long position) {
        List<String> q = new ArrayList<>();
        if (node != null) {
            q.add("node=" + HubClient.enc(node));
        }
        String selector = Selectors.join(labels);
        if (selector != null) {
            q.add("label=" + HubClient.enc(selector));
        }
        if (types != null && !types.isEmpty()) {
            q.add("types=" + HubClient.enc(String.join(",", types)));
        }
        if (position >= 0) {
            q.add("after=" + position);
        } else if (last > 0) {
            q.add("last=" + last);
        }
        return "api/v1/events" + (q.isEmpty() ? "" : "?" + String.join("&", q));
    }

    /** One event as a line: time, type, subject, details. */
    static String line(JsonNode o) {
        String type = o.path("type").asText();
        String what = switch (type) {
            case "node.online" -> name(o) + " online from " + o.path("remoteAddress").asText("?");
            case "node.offline" -> name(o) + " offline: " + o.path("reason").asText("?");
            case "node.updated" -> name(o) + " updated (" + o.path("hostname").asText("") + ", agent "
                    + o.path("agentVersion").asText("?") + ", labels " + Format.labels(o.get("labels")) + ")";
            case "node.removed" -> name(o) + " removed";
            case "node.heartbeat" -> o.path("node").asText();
            case "task.state" -> "task " + o.path("taskId").asText() + " on " + o.path("node").asText() + " "
                    + o.path("state").asText() + (o.hasNonNull("exitCode") ? " (exit " + o.get("exitCode").asInt()
                    + ")" : "") + (o.hasNonNull("error") ? ": " + o.get("error").asText() : "");
            case "task.output" -> "task " + o.path("taskId").asText() + " " + o.path("stream").asText() + ": "
                    + o.path("lines").size() + " lines";
            case "token.created" -> "join token " + o.path("tokenId").asText() + " by " + o.path("owner").asText()
                    + " (" + o.path("uses").asInt() + " uses, labels " + Format.labels(o.get("labels")) + ")";
            case "token.revoked" -> "join token " + o.path("tokenId").asText() + " revoked";
            case "listener.dropped" -> "listener " + o.path("listenerId").asText() + " of " + o.path("owner").asText()
                    + " dropped: " + o.path("reason").asText();
            default -> o.toString();
        };
        return String.format("%s  %-16s %s", o.path("at").asText(), type, what);
    }

    private static String name(JsonNode o) {
        return o.path("name").asText(o.path("node").asText()) + " (" + o.path("node").asText() + ")";
    }
}

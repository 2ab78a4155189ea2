package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hubctl history NODE [--tail N] [-f] [--task ID]}: a node's terminal history (ANSI already
 * stripped). Follow mode streams over the hub's WebSocket from the last offset printed and rides out
 * hub restarts by itself, resuming from that offset.
 */
@Command(name = "history", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Print a node's recent terminal output; -f keeps following, across hub restarts.",
            "-o json prints one JSON object per line (offset, taskId, stream, text, at)."})
final class HistoryCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "NODE", completionCandidates = LiveValues.Nodes.class, description = "Node id or unique name.")
    String node;

    @Option(names = "--tail", paramLabel = "N", defaultValue = "50", description = "Lines to show first. Default: ${DEFAULT-VALUE}")
    int tail;

    @Option(names = {"-f", "--follow"}, description = "Keep printing new lines as they arrive.")
    boolean follow;

    @Option(names = "--task", paramLabel = "ID", description = "Only lines of this task.")
    String task;

    @Override
    public Integer call() throws InterruptedException {
        if (tail < 0 || tail > 10_000) {
            throw HubctlException.usage("--tail must be between 0 and 10000");
        }
        HubctlCommand root = HubctlCommand.root(spec);
        HubClient client = root.client();
        String nodePath = "api/v1/nodes/" + HubClient.enc(node);
        JsonNode page = client.get(nodePath + "/history?tail=" + tail);
        HistoryFollower f = new HistoryFollower(client, nodePath, page.path("nextOffset").asLong(), task,
                spec.commandLine().getOut(), spec.commandLine().getErr(), root.output() == HubctlCommand.Output.json);
        f.print(page.path("lines"));
        if (!follow) {
            return 0;
        }
        PrintWriter err = spec.commandLine().getErr();
        try {
            Streams.follow(err, () -> HubSocket.open(client, nodePath + "/history/follow?after=" + f.offset(),
                    root.mapper(), o -> {
                        switch (o.path("type").asText()) {
                            case "line" -> f.printLine(o);
                            case "gap" -> f.gap(o);
                            default -> { } // newer hubs may send more
                        }
                    }), new CompletableFuture<>());
        } catch (InterruptedException e) {
            return 0; // stopped (Ctrl-C in the shell, or the caller): a normal end of following
        }
        return 0;
    }
}

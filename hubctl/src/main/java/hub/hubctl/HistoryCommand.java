package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hubctl history NODE [--tail N] [-f] [--task ID]}: a node's terminal history (ANSI already
 * stripped). Follow mode polls from the last offset and rides out hub restarts by itself.
 */
@Command(name = "history", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Print a node's recent terminal output; -f keeps following, across hub restarts.",
            "-o json prints one JSON object per line (offset, taskId, stream, text, at)."})
final class HistoryCommand implements Callable<Integer> {
    static final long MAX_RETRY_MS = 5000;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "NODE", description = "Node id or unique name.")
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
        long retryMs = 0;
        while (follow && !Thread.currentThread().isInterrupted()) {
            try {
                retryMs = step(f, retryMs);
            } catch (InterruptedException e) {
                return 0; // stopped (Ctrl-C in the shell, or the caller): a normal end of following
            } catch (HubctlException e) {
                if (Thread.currentThread().isInterrupted()) {
                    return 0;
                }
                throw e;
            }
        }
        return 0;
    }

    /** One poll of follow mode; returns the next retry delay (0 after a success). */
    private long step(HistoryFollower f, long retryMs) throws InterruptedException {
        try {
            boolean more = f.poll();
            if (retryMs > 0) {
                spec.commandLine().getErr().println("hubctl: reconnected; following from offset " + f.offset());
                spec.commandLine().getErr().flush();
            }
            if (!more) {
                Thread.sleep(250);
            }
            return 0;
        } catch (HubctlException e) {
            if (!e.isTransient()) {
                throw e; // a real error from the hub: node removed, token revoked
            }
            if (retryMs == 0) {
                spec.commandLine().getErr().println("hubctl: " + e.getMessage() + "; retrying");
                spec.commandLine().getErr().flush();
            }
            long next = Math.min(MAX_RETRY_MS, Math.max(250, retryMs * 2));
            Thread.sleep(next);
            return next;
        }
    }
}

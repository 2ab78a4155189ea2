package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code hubctl listeners ls|kill}: the hub's live WebSocket listeners. */
@Command(name = "listeners", mixinStandardHelpOptions = true,
        description = "List and close the hub's live event and history listeners.",
        subcommands = {ListenersCommand.Ls.class, ListenersCommand.Kill.class})
final class ListenersCommand extends GroupCommand {

    /** {@code hubctl listeners ls}. */
    @Command(name = "ls", aliases = "list", mixinStandardHelpOptions = true,
            description = "List listeners: who, from where, what they follow, how far behind (admins see all).")
    static final class Ls implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            JsonNode res = root.client().get("api/v1/listeners");
            PrintWriter out = spec.commandLine().getOut();
            if (root.printStructured(out, res, "id")) {
                return 0;
            }
            boolean wide = root.output() == HubctlCommand.Output.wide;
            Instant now = Instant.now();
            Table t = new Table(wide
                    ? List.of("ID", "KIND", "USER", "REMOTE", "SINCE", "QUEUE", "DELIVERED", "DROPPED", "LAG",
                            "LAST ACTIVITY", "FILTER")
                    : List.of("ID", "KIND", "USER", "REMOTE", "SINCE", "QUEUE", "LAG", "FILTER"));
            for (JsonNode l : res.path("items")) {
                String since = Format.age(l.get("connectedAt"), now);
                t.row(wide
                        ? List.of(Format.text(l, "id"), Format.text(l, "kind"), Format.text(l, "user"),
                                Format.text(l, "remoteAddress"), since, Format.text(l, "queueDepth"),
                                Format.text(l, "delivered"), Format.text(l, "dropped"), Format.text(l, "lag"),
                                Format.age(l.get("lastActivity"), now), Format.text(l, "filter"))
                        : List.of(Format.text(l, "id"), Format.text(l, "kind"), Format.text(l, "user"),
                                Format.text(l, "remoteAddress"), since, Format.text(l, "queueDepth"),
                                Format.text(l, "lag"), Format.text(l, "filter")));
            }
            t.styled(root).print(out);
            return 0;
        }
    }

    /** {@code hubctl listeners kill ID}. */
    @Command(name = "kill", mixinStandardHelpOptions = true,
            description = "Close a listener (its client is told it was closed by you).")
    static final class Kill implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ID", completionCandidates = LiveValues.Listeners.class,
                description = "Listener id, from 'hubctl listeners ls'.")
        String id;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            root.client().delete("api/v1/listeners/" + HubClient.enc(id));
            root.done(spec, "closed listener " + id);
            return 0;
        }
    }
}

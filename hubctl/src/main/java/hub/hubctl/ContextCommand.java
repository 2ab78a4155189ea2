package hub.hubctl;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code hubctl context ls|use|rm}: the named hubs in hubctl's config file. */
@Command(name = "context", mixinStandardHelpOptions = true,
        description = {"List, switch and remove contexts (a hub URL and token each, saved by 'hubctl login').",
            "The file is $XDG_CONFIG_HOME/hubctl/config (default ~/.config/hubctl/config; HUBCTL_CONFIG "
                    + "overrides), mode 0600."},
        subcommands = {ContextCommand.Ls.class, ContextCommand.Use.class, ContextCommand.Rm.class})
final class ContextCommand extends GroupCommand {

    /** {@code hubctl context ls}. */
    @Command(name = "ls", aliases = "list", mixinStandardHelpOptions = true,
            description = "List contexts; the current one is marked with *.")
    static final class Ls implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            Contexts contexts = root.contexts();
            PrintWriter out = spec.commandLine().getOut();
            if (root.structured() || root.output() == HubctlCommand.Output.name) {
                var items = root.mapper().createArrayNode();
                for (Contexts.Context c : contexts.all()) {
                    items.addObject().put("name", c.name()).put("hub", c.hub())
                            .put("current", c.name().equals(contexts.currentName()));
                }
                var res = root.mapper().createObjectNode();
                res.set("items", items);
                root.printStructured(out, res, "name");
                return 0;
            }
            Table t = new Table(List.of("CURRENT", "NAME", "HUB"));
            for (Contexts.Context c : contexts.all()) {
                t.row(List.of(c.name().equals(contexts.currentName()) ? "*" : " ", c.name(), c.hub()));
            }
            t.styled(root).print(out);
            return 0;
        }
    }

    /** {@code hubctl context use NAME}. */
    @Command(name = "use", mixinStandardHelpOptions = true, description = "Make a context current.")
    static final class Use implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", completionCandidates = LiveValues.Contexts.class,
                description = "The context's name.")
        String name;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            Contexts contexts = root.contexts();
            contexts.use(name);
            contexts.save();
            root.done(spec, "context '" + name + "' is current (" + contexts.current().orElseThrow().hub() + ")");
            return 0;
        }
    }

    /** {@code hubctl context rm NAME}. */
    @Command(name = "rm", aliases = "remove", mixinStandardHelpOptions = true,
            description = "Remove a context (and the token saved with it).")
    static final class Rm implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", completionCandidates = LiveValues.Contexts.class,
                description = "The context's name.")
        String name;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            Contexts contexts = root.contexts();
            contexts.remove(name);
            contexts.save();
            root.done(spec, "removed context '" + name + "'");
            return 0;
        }
    }
}

package hub.hubctl;

import java.io.IOException;
import java.util.concurrent.Callable;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code hubctl shell}: the interactive shell (see {@link Shell}). */
@Command(name = "shell", mixinStandardHelpOptions = true,
        description = {"An interactive shell: every hubctl command, with completion of commands, options, "
                + "node names and ids, label keys and values, token and listener ids; history in "
                + "$XDG_STATE_HOME/hubctl/history.",
            "Ctrl-C stops a running follow or exec; Ctrl-D or 'exit' leaves. --hub, --token and --context "
                    + "given here apply to every command in the shell."})
final class ShellCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        HubctlCommand outer = HubctlCommand.root(spec);
        try (Terminal terminal = TerminalBuilder.builder().name("hubctl").system(true).build()) {
            // The shell's --color (and NO_COLOR) decide once for every command run in it.
            boolean colorTerminal = outer.colorsFor(!Terminal.TYPE_DUMB.equals(terminal.getType())
                    && !Terminal.TYPE_DUMB_COLOR.equals(terminal.getType())).on();
            HubctlCommand.Session session = new HubctlCommand.Session(outer.hub, outer.token, outer.context,
                    colorTerminal, outer.caFile);
            return new Shell(terminal, outer.env, session).run();
        }
    }
}

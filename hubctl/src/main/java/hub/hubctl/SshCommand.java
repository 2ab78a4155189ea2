package hub.hubctl;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hubctl ssh NODE [--user U] [-- COMMAND…]} (alias {@code term}): an interactive terminal
 * on a node through its agent's stream (no inbound port on the node): the login shell, or the
 * command run by the user's shell on a pseudo-terminal. Exits with the remote exit code; 255 when
 * the hub or the connection failed, or the session was ended otherwise (as ssh).
 */
@Command(name = "ssh", aliases = "term", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Open a terminal on a node: its login shell, or COMMAND on a pseudo-terminal.",
            "The local terminal goes raw: Ctrl-C, Ctrl-Z and Ctrl-D reach the remote side. ~. at the start "
                    + "of a line disconnects, ~~ sends a ~, ~? lists the escapes. The window size follows "
                    + "resizes. The session's text goes to the node's history; its recording plays with "
                    + "'hubctl sessions play'. Needs operator on the node."})
final class SshCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NODE", completionCandidates = LiveValues.Nodes.class,
            description = "The node (id or unique name).")
    String node;

    @Parameters(index = "1..*", paramLabel = "COMMAND", arity = "0..*",
            description = "Run this (by the user's shell, as ssh does) instead of the login shell.")
    List<String> command;

    @Option(names = {"-u", "--user"}, paramLabel = "USER",
            description = "The local user on the node (the agent's default otherwise; the node's agent.conf "
                    + "decides which it allows).")
    String user;

    @Option(names = "-e", paramLabel = "CHAR|none", defaultValue = "~",
            description = "The escape character, or none. Default: ${DEFAULT-VALUE}")
    String escape;

    @Override
    public Integer call() throws InterruptedException {
        char esc = escapeChar(escape);
        HubctlCommand root = HubctlCommand.root(spec);
        Map<String, Object> start = new LinkedHashMap<>();
        if (command != null && !command.isEmpty()) {
            start.put("command", String.join(" ", command));
        }
        if (user != null) {
            start.put("user", user);
        }
        String term = root.env.get("TERM");
        start.put("term", term == null || term.isBlank() || !term.matches("[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
                ? "xterm" : term);
        start.put("env", localeEnv(root.env));
        TerminalClient.End end;
        try {
            end = new TerminalClient(root.client(), root.mapper(), root.stdio(), spec.commandLine().getErr(), root.env)
                    .run("api/v1/nodes/" + HubClient.enc(node) + "/terminal", start, true, esc);
        } catch (HubctlException e) {
            throw e.exitCode() == ExitCodes.HUB_ERROR ? new HubctlException(e.getMessage(), ExitCodes.EXEC_HUB_ERROR)
                    : e;
        }
        if (end.message() != null) {
            throw new HubctlException(end.message(), end.exitCode());
        }
        return end.exitCode();
    }

    /** The client's locale, as ssh sends it (SendEnv LANG LC_*). */
    static Map<String, String> localeEnv(Map<String, String> env) {
        Map<String, String> out = new LinkedHashMap<>();
        env.forEach((k, v) -> {
            if ((k.equals("LANG") || k.equals("LANGUAGE") || k.matches("LC_[A-Z]{1,20}")) && v.length() <= 256
                    && v.chars().noneMatch(c -> c < 0x20) && out.size() < 16) {
                out.put(k, v);
            }
        });
        return out;
    }

    static char escapeChar(String e) {
        if (e.equals("none")) {
            return 0;
        }
        if (e.length() != 1 || e.charAt(0) < 0x21 || e.charAt(0) > 0x7e) {
            throw HubctlException.usage("-e takes one printable character, or none");
        }
        return e.charAt(0);
    }
}

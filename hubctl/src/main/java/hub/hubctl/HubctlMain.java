package hub.hubctl;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;

/** hubctl's entry point. */
public final class HubctlMain {
    private HubctlMain() {
    }

    /**
     * hubctl's subcommands, in the order help lists them. Each is built only when a run needs it:
     * picocli builds a command's model by reflection, and building all of them was most of a
     * one-shot command's start-up (docs/BENCHMARKS.md).
     */
    static final Map<String, Class<?>> SUBCOMMANDS = subcommands();

    /** Runs that need every subcommand: help lists them, the shell offers them. */
    private static final Set<String> NEED_ALL = Set.of("help", "shell");

    /** Root options that take a value as the next argument. */
    private static final Set<String> ROOT_OPTIONS_WITH_VALUE = Set.of("--hub", "--token", "--context", "-o",
            "--output", "--color");

    private static Map<String, Class<?>> subcommands() {
        Map<String, Class<?>> m = new LinkedHashMap<>();
        m.put("status", StatusCommand.class);
        m.put("nodes", NodesCommand.class);
        m.put("tokens", TokensCommand.class);
        m.put("exec", ExecCommand.class);
        m.put("tasks", TasksCommand.class);
        m.put("runs", RunsCommand.class);
        m.put("history", HistoryCommand.class);
        m.put("ssh", SshCommand.class);
        m.put("sessions", SessionsCommand.class);
        m.put("cp", CpCommand.class);
        m.put("events", EventsCommand.class);
        m.put("listeners", ListenersCommand.class);
        m.put("users", UsersCommand.class);
        m.put("audit", AuditCommand.class);
        m.put("provision", ProvisionCommand.class);
        m.put("login", LoginCommand.class);
        m.put("context", ContextCommand.class);
        m.put("shell", ShellCommand.class);
        m.put("completion", CompletionCommand.class);
        m.put("help", CommandLine.HelpCommand.class);
        return Collections.unmodifiableMap(m);
    }

    /** A command line with every subcommand and hubctl's error handling. */
    public static CommandLine commandLine() {
        return commandLine(new HubctlCommand(), CommandLine.defaultFactory());
    }

    /** The same, for a given root (its environment and shell session) and factory (live completion). */
    static CommandLine commandLine(HubctlCommand root, CommandLine.IFactory factory) {
        return build(root, factory, SUBCOMMANDS.keySet());
    }

    /**
     * The command line for one run of {@code args}: the root and only the subcommand they name
     * (or none for {@code --version}); every subcommand when they name none, or an unknown one (so
     * that help and "did you mean" see them all), or one that lists them.
     */
    static CommandLine commandLineFor(HubctlCommand root, String[] args) {
        String sub = subcommandOf(args);
        if (sub != null && SUBCOMMANDS.containsKey(sub) && !NEED_ALL.contains(sub)) {
            return build(root, CommandLine.defaultFactory(), Set.of(sub));
        }
        if (sub == null && (Arrays.asList(args).contains("--version") || Arrays.asList(args).contains("-V"))
                && !Arrays.asList(args).contains("--help") && !Arrays.asList(args).contains("-h")) {
            return build(root, CommandLine.defaultFactory(), Set.of());
        }
        return commandLine(root, CommandLine.defaultFactory());
    }

    /** The first argument that is not a root option or its value: the subcommand's name, or null. */
    static String subcommandOf(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                return null;
            }
            if (a.startsWith("-")) {
                if (ROOT_OPTIONS_WITH_VALUE.contains(a)) {
                    i++; // its value
                }
                continue;
            }
            return a;
        }
        return null;
    }

    private static CommandLine build(HubctlCommand root, CommandLine.IFactory factory, Set<String> names) {
        CommandLine cli = new CommandLine(root, factory);
        for (Map.Entry<String, Class<?>> e : SUBCOMMANDS.entrySet()) {
            if (names.contains(e.getKey())) {
                try {
                    cli.addSubcommand(e.getKey(), new CommandLine(factory.create(e.getValue()), factory));
                } catch (Exception ex) {
                    throw new CommandLine.InitializationException("cannot create " + e.getValue() + ": " + ex, ex);
                }
            }
        }
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof InterruptedException
                    || e instanceof HubctlException he0 && he0.exitCode() == ExitCodes.INTERRUPTED) {
                return ExitCodes.INTERRUPTED; // Ctrl-C: the user knows; no error line
            }
            if (e instanceof HubctlException he) {
                cmd.getErr().println("hubctl: " + he.getMessage());
                cmd.getErr().flush();
                return he.exitCode();
            }
            cmd.getErr().println("hubctl: " + e);
            cmd.getErr().flush();
            return ExitCodes.HUB_ERROR;
        });
        cli.setParameterExceptionHandler((e, args) -> {
            CommandLine cmd = e.getCommandLine();
            cmd.getErr().println("hubctl: " + e.getMessage() + hint(e, args));
            cmd.getErr().println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
            cmd.getErr().flush();
            return ExitCodes.USAGE;
        });
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        Docs.apply(cli);
        return cli;
    }

    /**
     * What to add to a usage error: the command a typo was probably meant to be (as git does), or,
     * for exec, that the remote command goes after {@code --} (its options were taken for exec's).
     */
    static String hint(CommandLine.ParameterException e, String[] args) {
        if (e instanceof CommandLine.UnmatchedArgumentException u) {
            boolean exec = "exec".equals(e.getCommandLine().getCommandName());
            if (exec && !Arrays.asList(args).contains("--")) {
                return "; put the remote command after --: hubctl exec NODE -- COMMAND...";
            }
            List<String> s = u.getSuggestions();
            if (!s.isEmpty() && u.getUnmatched().size() > 0 && !u.getUnmatched().get(0).startsWith("-")) {
                return "; did you mean '" + s.get(0) + "'?";
            }
        }
        return "";
    }

    public static void main(String[] args) {
        if (args.length == 2 && args[0].equals("__complete")) { // the completion script's question
            System.exit(Completions.run(args[1], System.getenv(), System.out));
        }
        System.exit(commandLineFor(new HubctlCommand(), args).execute(args));
    }
}

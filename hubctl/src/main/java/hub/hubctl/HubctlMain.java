package hub.hubctl;

import picocli.CommandLine;

/** hubctl's entry point. */
public final class HubctlMain {
    private HubctlMain() {
    }

    /** A command line with hubctl's error handling: one stderr line and a documented exit code. */
    public static CommandLine commandLine() {
        return commandLine(new HubctlCommand(), CommandLine.defaultFactory());
    }

    /** The same, for a given root (its environment and shell session) and factory (live completion). */
    static CommandLine commandLine(HubctlCommand root, CommandLine.IFactory factory) {
        CommandLine cli = new CommandLine(root, factory);
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
            cmd.getErr().println("hubctl: " + e.getMessage());
            cmd.getErr().println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
            cmd.getErr().flush();
            return ExitCodes.USAGE;
        });
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        return cli;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}

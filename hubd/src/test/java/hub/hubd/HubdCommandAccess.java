package hub.hubd;

import hub.hubd.config.HubConfig;
import hub.hubd.config.HubdDefaults;
import java.util.Map;
import picocli.CommandLine;

/** Parses hubd's command line as {@link HubdMain} does, with a given environment. */
public final class HubdCommandAccess {
    private HubdCommandAccess() {
    }

    public static HubConfig parse(String[] args, Map<String, String> env) {
        HubdCommand command = new HubdCommand();
        CommandLine cli = new CommandLine(command);
        cli.setDefaultValueProvider(new HubdDefaults(env, HubdDefaults.configFile(args, env)));
        cli.parseArgs(args);
        return command.call();
    }
}

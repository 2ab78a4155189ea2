package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** The root {@code hubctl} command: global options, and the client every subcommand uses. */
@Command(name = "hubctl", mixinStandardHelpOptions = true, versionProvider = HubctlCommand.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Mesh Hub admin CLI: list nodes, run commands, read terminal history, watch events, "
                + "create join tokens.",
        subcommands = {StatusCommand.class, NodesCommand.class, TokensCommand.class, ExecCommand.class,
            HistoryCommand.class, EventsCommand.class, ListenersCommand.class, UsersCommand.class,
            ProvisionCommand.class, CompletionCommand.class,
            CommandLine.HelpCommand.class},
        footer = {"", "Exit codes: 0 ok, 1 error from the hub (or hub unreachable), 2 usage error.",
            "Errors are one line on stderr, with the hub's error id when it gave one."})
public final class HubctlCommand implements Runnable {

    /** How results are printed. */
    public enum Output { table, wide, json }

    @Spec
    CommandSpec spec;

    @Option(names = "--hub", paramLabel = "URL", scope = ScopeType.INHERIT,
            defaultValue = "${env:HUB_URL:-http://127.0.0.1:8080}",
            description = "Hub API URL. Env: HUB_URL. Default: ${DEFAULT-VALUE}")
    String hub;

    @Option(names = "--token", paramLabel = "TOKEN", scope = ScopeType.INHERIT,
            defaultValue = "${env:HUB_TOKEN}", description = "API token. Env: HUB_TOKEN")
    String token;

    @Option(names = {"-o", "--output"}, paramLabel = "table|wide|json", scope = ScopeType.INHERIT,
            defaultValue = "table", description = "Output format. Default: ${DEFAULT-VALUE}")
    Output output;

    final ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A client for the hub named by the global options. */
    HubClient client() {
        URI uri;
        try {
            uri = new URI(hub.endsWith("/") ? hub : hub + "/");
        } catch (URISyntaxException e) {
            throw HubctlException.usage("invalid --hub URL '" + hub + "'");
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
            throw HubctlException.usage("--hub must be an http:// or https:// URL, not '" + hub + "'");
        }
        return new HubClient(uri, token, mapper);
    }

    Output output() {
        return output;
    }

    /** Prints {@code node} as indented JSON, the {@code -o json} form. */
    void printJson(PrintWriter out, JsonNode node) {
        try {
            out.println(mapper.writeValueAsString(node));
            out.flush();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw HubctlException.hub("cannot print JSON: " + e.getOriginalMessage());
        }
    }

    /** Confirms a change on stdout, except with {@code -o json} (whose output stays parseable). */
    void done(CommandSpec spec, String message) {
        if (output != Output.json) {
            spec.commandLine().getOut().println(message);
            spec.commandLine().getOut().flush();
        }
    }

    /** The root command of the command line that {@code spec} belongs to. */
    static HubctlCommand root(CommandSpec spec) {
        return (HubctlCommand) spec.root().userObject();
    }

    /** Prints hubctl's version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = HubctlCommand.class.getPackage().getImplementationVersion();
            return new String[] {"hubctl " + (v == null ? "dev" : v)};
        }
    }
}

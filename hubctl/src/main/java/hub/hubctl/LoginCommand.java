package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hubctl login}: checks a hub URL and API token against the hub, then saves them as a named
 * context and makes it current. The token comes from {@code --token}, {@code --token-file},
 * {@code HUB_TOKEN}, or a prompt on the terminal (not echoed), or one line on stdin.
 */
@Command(name = "login", mixinStandardHelpOptions = true,
        description = {"Check a hub URL and API token, save them as a context and make it current.",
            "The token is read from --token, --token-file, HUB_TOKEN, a prompt, or one line on stdin."})
final class LoginCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--name", paramLabel = "NAME",
            description = "The context's name. Default: the hub's host, with its port if not 80/443.")
    String name;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "Read the token from this file (e.g. a hub's admin.token).")
    Path tokenFile;

    @Override
    public Integer call() throws IOException {
        HubctlCommand root = HubctlCommand.root(spec);
        String hubUrl = root.hub != null ? root.hub : root.env.getOrDefault("HUB_URL", HubctlCommand.DEFAULT_HUB);
        URI hub = HubctlCommand.hubUri(hubUrl);
        String token = readToken(root);
        JsonNode status = new HubClient(hub, token, root.mapper()).get("api/v1/status");
        String ctxName = name != null ? name : defaultName(hub);
        Contexts contexts = root.contexts();
        contexts.put(new Contexts.Context(ctxName, hub.toString().replaceAll("/$", ""), token));
        contexts.use(ctxName);
        contexts.save();
        root.done(spec, "logged in to " + hub + " as " + status.path("user").asText() + " ("
                + status.path("role").asText() + "); context '" + ctxName + "' is current, saved in "
                + contexts.file());
        if (root.output() == HubctlCommand.Output.json) {
            root.printJson(spec.commandLine().getOut(), root.mapper().createObjectNode().put("context", ctxName)
                    .put("hub", hub.toString()).put("user", status.path("user").asText())
                    .put("role", status.path("role").asText()));
        }
        return 0;
    }

    private String readToken(HubctlCommand root) throws IOException {
        if (root.token != null && tokenFile != null) {
            throw HubctlException.usage("give --token or --token-file, not both");
        }
        if (root.token != null) {
            return root.token.strip();
        }
        if (tokenFile != null) {
            try {
                return nonEmpty(Files.readString(tokenFile).strip(), tokenFile.toString());
            } catch (IOException e) {
                throw HubctlException.usage("cannot read --token-file " + tokenFile + ": " + e.getMessage());
            }
        }
        String env = root.env.get("HUB_TOKEN");
        if (env != null && !env.isBlank()) {
            return env.strip();
        }
        java.io.Console console = System.console();
        if (console != null && root.session == null) {
            char[] typed = console.readPassword("API token for %s: ", root.hub != null ? root.hub : "the hub");
            return nonEmpty(typed == null ? "" : new String(typed).strip(), "the prompt");
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line = in.readLine();
        return nonEmpty(line == null ? "" : line.strip(), "stdin");
    }

    private static String nonEmpty(String token, String from) {
        if (token.isEmpty()) {
            throw HubctlException.usage("no token in " + from);
        }
        return token;
    }

    static String defaultName(URI hub) {
        int port = hub.getPort();
        boolean standard = port == -1 || port == 80 && "http".equals(hub.getScheme())
                || port == 443 && "https".equals(hub.getScheme());
        return standard ? hub.getHost() : hub.getHost() + ":" + port;
    }
}

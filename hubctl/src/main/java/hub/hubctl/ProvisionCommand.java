package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.URI;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hubctl provision}: creates a join token and prints the one-liner that installs hub-agent
 * on a new machine, and the download-inspect-run form with the script's checksum; {@code --script}
 * prints the script itself.
 */
@Command(name = "provision", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Create a join token and print the command that installs hub-agent on a new machine "
                + "(Debian/Ubuntu with systemd; run as root).",
            "Running the script again changes nothing; 'sh install.sh --uninstall' removes the agent."})
final class ProvisionCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "15m",
            description = "How long the token is valid. Default: ${DEFAULT-VALUE}")
    String ttl;

    @Option(names = "--uses", paramLabel = "N", defaultValue = "1",
            description = "How many machines may join with it. Default: ${DEFAULT-VALUE}")
    int uses;

    @Option(names = {"-l", "--label"}, paramLabel = "KEY=VALUE",
            description = "A label every node joining with it gets; repeatable.")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(names = "--hub-address", paramLabel = "HOST:PORT[,HOST:PORT…]",
            description = "Where agents connect (gRPC), if not the API's host on the hub's agent port.")
    String hubAddress;

    @Option(names = "--script", description = "Print the whole script instead of the commands.")
    boolean script;

    @Override
    public Integer call() {
        HubctlCommand root = HubctlCommand.root(spec);
        HubClient client = root.client();
        JsonNode token = client.post("api/v1/join-tokens", Map.of("ttl", ttl, "uses", uses, "labels", labels));
        String path = "api/v1/provisioning/script?token=" + HubClient.enc(token.path("token").asText())
                + (hubAddress == null ? "" : "&hub=" + HubClient.enc(hubAddress));
        URI url = client.base().resolve(path);
        HubClient.Text r = client.getText(path, "X-Checksum-Sha256");
        PrintWriter out = spec.commandLine().getOut();
        if (script) {
            out.print(r.body());
            out.flush();
            return 0;
        }
        String sha = r.header() == null ? "" : r.header();
        String quoted = "'" + url + "'";
        if (root.output() == HubctlCommand.Output.json) {
            root.printJson(out, root.mapper().createObjectNode().put("url", url.toString()).put("sha256", sha)
                    .put("command", "curl -fsSL " + quoted + " | sudo sh").set("token", token));
            return 0;
        }
        out.println("curl -fsSL " + quoted + " | sudo sh");
        out.println();
        out.println("# or download, inspect, then run:");
        out.println("curl -fsSLo hub-agent-install.sh " + quoted);
        out.println("echo '" + sha + "  hub-agent-install.sh' | sha256sum -c -");
        out.println("sudo sh hub-agent-install.sh");
        out.flush();
        PrintWriter err = spec.commandLine().getErr();
        err.printf("join token %s: %d use(s), expires %s%s.%n", token.path("id").asText(),
                token.path("usesLeft").asInt(), Format.age(token.get("expiresAt"), Instant.now()),
                labels.isEmpty() ? "" : ", labels " + Format.labels(token.get("labels")));
        err.flush();
        return 0;
    }
}

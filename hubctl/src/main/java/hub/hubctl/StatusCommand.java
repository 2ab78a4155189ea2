package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code hubctl status}: which hub, which version, how many nodes, who you are. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show the hub's version, node counts and who you are.")
final class StatusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        HubctlCommand root = HubctlCommand.root(spec);
        HubClient client = root.client();
        JsonNode s = client.get("api/v1/status");
        PrintWriter out = spec.commandLine().getOut();
        if (root.printStructured(out, s, "hubId")) {
            return 0;
        }
        out.printf("Hub:      %s (hubd %s, id %s)%n", client.base(), s.path("version").asText(),
                s.path("hubId").asText());
        out.printf("Agents:   gRPC port %d%n", s.path("agentPort").asInt());
        out.printf("Nodes:    %d known, %d online%n", s.path("nodesTotal").asInt(), s.path("nodesOnline").asInt());
        out.printf("You:      %s (%s)%n", s.path("user").asText(), s.path("role").asText());
        JsonNode tls = s.path("tls");
        String mode = tls.path("mode").asText("");
        Colors c = root.colors();
        if (mode.equals("off")) {
            out.printf("TLS:      %s%n", c.warning("OFF")
                    + " (--insecure-plaintext): tokens and output cross the network in clear text");
        } else if (!mode.isEmpty()) {
            out.printf("TLS:      %s certificate until %s, CA pin %s%n", mode,
                    tls.path("servingCertificateExpiresAt").asText("?"), tls.path("caPin").asText("?"));
        }
        out.flush();
        return 0;
    }
}

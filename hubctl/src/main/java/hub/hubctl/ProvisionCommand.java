package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import hub.tls.HubTrust;
import hub.tls.Pins;
import java.io.PrintWriter;
import java.net.URI;
import java.security.cert.X509Certificate;
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
 *
 * <p>The one-liner fetches the script over HTTPS pinned to the public key of the certificate the
 * hub served hubctl just now (over a connection hubctl verified), with curl's
 * {@code --pinnedpubkey}; the join token goes in a header read from stdin, never in the URL or in
 * curl's arguments. When the hub's CA is not in the system's trust store (the hub's own CA), curl
 * is also given {@code -k}: the pin is then what curl checks, and it is stricter than a CA.
 */
@Command(name = "provision", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Create a join token and print the command that installs hub-agent on a new machine "
                + "(Debian/Ubuntu with systemd; run as root).",
            "The command fetches the script over HTTPS pinned to the hub's key; the script pins the hub's CA for "
                + "the agent.",
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
            description = "Where agents connect (gRPC), if not the hub's first --advertise name on its agent port.")
    String hubAddress;

    @Option(names = "--script", description = "Print the whole script instead of the commands.")
    boolean script;

    @Override
    public Integer call() {
        HubctlCommand root = HubctlCommand.root(spec);
        HubClient client = root.client();
        JsonNode token = client.post("api/v1/join-tokens", Map.of("ttl", ttl, "uses", uses, "labels", labels));
        String secret = token.path("token").asText();
        String path = "api/v1/provisioning/script" + (hubAddress == null ? "" : "?hub=" + HubClient.enc(hubAddress));
        URI url = client.base().resolve(path);
        HubClient.Text r = client.getText(path, "X-Checksum-Sha256", secret);
        PrintWriter out = spec.commandLine().getOut();
        if (script) {
            out.print(r.body());
            out.flush();
            return 0;
        }
        String sha = r.header() == null ? "" : r.header();
        String fetch = fetchCommand(url, secret, r.serverChain());
        if (root.structured()) {
            var o = root.mapper().createObjectNode().put("url", url.toString()).put("sha256", sha)
                    .put("command", fetch + " | sudo sh");
            if (r.serverCertificate() != null) {
                o.put("pinnedPublicKey", Pins.curl(r.serverCertificate()));
            }
            root.printJson(out, o.set("token", token));
            return 0;
        }
        out.println(fetch + " | sudo sh");
        out.println();
        out.println("# or download, inspect, then run:");
        out.println(fetch + " -o hub-agent-install.sh");
        out.println("echo '" + sha + "  hub-agent-install.sh' | sha256sum -c -");
        out.println("sudo sh hub-agent-install.sh");
        out.flush();
        PrintWriter err = spec.commandLine().getErr();
        err.printf("join token %s: %d use(s), expires %s%s.%n", token.path("id").asText(),
                token.path("usesLeft").asInt(), Format.age(token.get("expiresAt"), Instant.now()),
                labels.isEmpty() ? "" : ", labels " + Format.labels(token.get("labels")));
        if (r.serverCertificate() == null) {
            err.println("warning: the hub runs without TLS: the script and the join token cross the network in "
                    + "clear text");
        }
        err.flush();
        return 0;
    }

    /**
     * The curl command that fetches the script: the token as a header read from stdin (printf is a
     * shell builtin, so it is in no process's arguments), the hub's key pinned.
     */
    static String fetchCommand(URI url, String secret, X509Certificate[] chain) {
        StringBuilder b = new StringBuilder("printf 'Authorization: Bearer %s\\n' ").append(quote(secret))
                .append(" | curl -fsS");
        if (chain != null && chain.length > 0) {
            if (!publiclyTrusted(chain)) {
                b.append(" -k");
            }
            b.append(" --pinnedpubkey ").append(quote(Pins.curl(chain[0])));
        }
        return b.append(" -H @- ").append(quote(url.toString())).toString();
    }

    private static boolean publiclyTrusted(X509Certificate[] chain) {
        try {
            HubTrust.system().checkServerTrusted(chain,
                    chain[0].getPublicKey().getAlgorithm().equals("RSA") ? "RSA" : "ECDHE_ECDSA");
            return true;
        } catch (java.security.cert.CertificateException | RuntimeException e) {
            return false;
        }
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}

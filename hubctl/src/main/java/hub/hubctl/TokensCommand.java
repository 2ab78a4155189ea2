package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code hubctl tokens create|ls|revoke}: join tokens. */
@Command(name = "tokens", mixinStandardHelpOptions = true, description = "Create, list and revoke join tokens.",
        subcommands = {TokensCommand.Create.class, TokensCommand.Ls.class, TokensCommand.Revoke.class})
final class TokensCommand extends GroupCommand {

    /** {@code hubctl tokens create}. */
    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Create a join token. It is shown once; the hub keeps only its hash.",
                "Prints the token on stdout and, on stderr, the hub-agent command that joins a node with it",
                "(the hub's agent address and CA pin included); -o json gives them as agentAddress and caPin."})
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "15m",
                description = "How long it works. Default: ${DEFAULT-VALUE}")
        String ttl;

        @Option(names = "--uses", paramLabel = "N", defaultValue = "1",
                description = "How many nodes may join with it. Default: ${DEFAULT-VALUE}")
        int uses;

        @Option(names = {"-l", "--label"}, paramLabel = "KEY=VALUE",
                description = "A label every node joining with it gets; repeatable.")
        Map<String, String> labels = new LinkedHashMap<>();

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            JsonNode t = root.client().post("api/v1/join-tokens",
                    Map.of("ttl", ttl, "uses", uses, "labels", labels));
            PrintWriter out = spec.commandLine().getOut();
            if (root.printStructured(out, t, "id")) {
                return 0;
            }
            out.println(t.path("token").asText());
            out.flush();
            PrintWriter err = spec.commandLine().getErr();
            err.printf("join token %s: %d use(s), expires %s%s. It is not shown again.%n",
                    t.path("id").asText(), t.path("usesLeft").asInt(), Format.age(t.get("expiresAt"), Instant.now()),
                    labels.isEmpty() ? "" : ", labels " + Format.labels(t.get("labels")));
            err.println("join a node with:");
            err.println("  " + joinCommand(t));
            err.flush();
            return 0;
        }
    }

    /** {@code hub-agent --hub H:P --ca-pin … --join-token …}: everything a node needs to join. */
    static String joinCommand(JsonNode token) {
        String pin = token.path("caPin").asText(null);
        return "hub-agent --hub " + token.path("agentAddress").asText("HOST:PORT")
                + (pin != null ? " --ca-pin " + pin : " --insecure-plaintext")
                + " --join-token " + token.path("token").asText();
    }

    /** {@code hubctl tokens ls}. */
    @Command(name = "ls", aliases = "list", mixinStandardHelpOptions = true, description = "List join tokens.")
    static final class Ls implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            JsonNode res = root.client().get("api/v1/join-tokens");
            PrintWriter out = spec.commandLine().getOut();
            if (root.printStructured(out, res, "id")) {
                return 0;
            }
            boolean wide = root.output() == HubctlCommand.Output.wide;
            Instant now = Instant.now();
            Table t = new Table(wide
                    ? List.of("ID", "STATE", "USES LEFT", "EXPIRES", "OWNER", "CREATED", "LABELS")
                    : List.of("ID", "STATE", "USES LEFT", "EXPIRES", "OWNER", "LABELS"));
            for (JsonNode n : res.path("items")) {
                String id = Format.text(n, "id");
                String state = Format.text(n, "state");
                String uses = Format.text(n, "usesLeft");
                String exp = Format.age(n.get("expiresAt"), now);
                String owner = Format.text(n, "owner");
                String labels = Format.labels(n.get("labels"));
                t.row(wide ? List.of(id, state, uses, exp, owner, Format.age(n.get("createdAt"), now), labels)
                        : List.of(id, state, uses, exp, owner, labels));
            }
            t.styled(root).print(out);
            return 0;
        }
    }

    /** {@code hubctl tokens revoke ID}. */
    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke a join token: no node can join with it any more.")
    static final class Revoke implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ID", completionCandidates = LiveValues.Tokens.class,
                description = "The token's id (from tokens ls).")
        String id;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            JsonNode t = root.client().delete("api/v1/join-tokens/" + HubClient.enc(id));
            PrintWriter out = spec.commandLine().getOut();
            if (!root.printStructured(out, t, "id")) {
                out.println("revoked join token " + id);
                out.flush();
            }
            return 0;
        }
    }
}

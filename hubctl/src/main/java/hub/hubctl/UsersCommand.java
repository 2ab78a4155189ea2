package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code hubctl users create|ls|rm|rotate-token} (admins). */
@Command(name = "users", mixinStandardHelpOptions = true,
        description = "Manage users and their API tokens (admins only).",
        subcommands = {UsersCommand.Create.class, UsersCommand.Ls.class, UsersCommand.Rm.class,
            UsersCommand.RotateToken.class})
final class UsersCommand extends GroupCommand {

    /** Prints a new token on stdout (only it, for scripts) and what it is on stderr. */
    static void printToken(HubctlCommand root, CommandSpec spec, JsonNode u, String what) {
        PrintWriter out = spec.commandLine().getOut();
        if (root.output() == HubctlCommand.Output.json) {
            root.printJson(out, u);
            return;
        }
        out.println(u.path("token").asText());
        out.flush();
        PrintWriter err = spec.commandLine().getErr();
        err.printf("%s %s (%s): its API token is above. It is not shown again.%n", what, u.path("name").asText(),
                u.path("role").asText());
        err.flush();
    }

    /** {@code hubctl users create NAME --role R}. */
    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a user; prints its API token once.")
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", description = "User name: a-z 0-9 . _ -")
        String name;

        @Option(names = "--role", paramLabel = "admin|operator|viewer", required = true,
                description = "admin: everything; operator: its own nodes, tasks and join tokens; viewer: read only.")
        String role;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            printToken(root, spec, root.client().post("api/v1/users", Map.of("name", name, "role", role)), "user");
            return 0;
        }
    }

    /** {@code hubctl users ls}. */
    @Command(name = "ls", aliases = "list", mixinStandardHelpOptions = true, description = "List users.")
    static final class Ls implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            JsonNode res = root.client().get("api/v1/users");
            PrintWriter out = spec.commandLine().getOut();
            if (root.output() == HubctlCommand.Output.json) {
                root.printJson(out, res);
                return 0;
            }
            Instant now = Instant.now();
            Table t = new Table(List.of("NAME", "ROLE", "TOKENS", "CREATED"));
            for (JsonNode u : res.path("items")) {
                t.row(List.of(Format.text(u, "name"), Format.text(u, "role"), Format.text(u, "activeTokens"),
                        Format.age(u.get("createdAt"), now)));
            }
            t.colors(root.colors()).print(out);
            return 0;
        }
    }

    /** {@code hubctl users rm NAME}. */
    @Command(name = "rm", aliases = "remove", mixinStandardHelpOptions = true,
            description = "Remove a user: its tokens stop working and its open streams are closed. Its nodes stay.")
    static final class Rm implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", completionCandidates = LiveValues.Users.class,
                description = "User name.")
        String name;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            root.client().delete("api/v1/users/" + HubClient.enc(name));
            root.done(spec, "removed user " + name);
            return 0;
        }
    }

    /** {@code hubctl users rotate-token NAME}. */
    @Command(name = "rotate-token", mixinStandardHelpOptions = true,
            description = "Revoke every API token of a user (closing what they opened) and print a new one once.")
    static final class RotateToken implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", completionCandidates = LiveValues.Users.class,
                description = "User name.")
        String name;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            printToken(root, spec, root.client().post("api/v1/users/" + HubClient.enc(name) + "/token", Map.of()),
                    "new token for user");
            return 0;
        }
    }
}

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

/** {@code hubctl users create|ls|show|rm|rotate-token|grant|revoke} (admins). */
@Command(name = "users", mixinStandardHelpOptions = true,
        description = {"Manage users, their API tokens and their grants (admins only).",
            "A user sees the nodes it owns (joined with its join tokens, or assigned to it) and those its "
                + "grants match by label."},
        subcommands = {UsersCommand.Create.class, UsersCommand.Ls.class, UsersCommand.Show.class,
            UsersCommand.Rm.class, UsersCommand.RotateToken.class, UsersCommand.Grant.class,
            UsersCommand.Revoke.class})
final class UsersCommand extends GroupCommand {

    /** Prints a new token on stdout (only it, for scripts) and what it is on stderr. */
    static void printToken(HubctlCommand root, CommandSpec spec, JsonNode u, String what) {
        PrintWriter out = spec.commandLine().getOut();
        if (root.printStructured(out, u, "name")) {
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
            if (root.printStructured(out, res, "name")) {
                return 0;
            }
            Instant now = Instant.now();
            Table t = new Table(List.of("NAME", "ROLE", "TOKENS", "GRANTS", "CREATED"));
            for (JsonNode u : res.path("items")) {
                t.row(List.of(Format.text(u, "name"), Format.text(u, "role"), Format.text(u, "activeTokens"),
                        grants(u), Format.age(u.get("createdAt"), now)));
            }
            t.styled(root).print(out);
            return 0;
        }
    }

    /** A user's grants as {@code selector:role, ...}, or {@code -}. */
    static String grants(JsonNode u) {
        List<String> g = new java.util.ArrayList<>();
        for (JsonNode x : u.path("grants")) {
            g.add(x.path("selector").asText() + ":" + x.path("role").asText());
        }
        return g.isEmpty() ? "-" : String.join(" ", g);
    }

    /** {@code hubctl users show NAME}. */
    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a user and its grants.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", completionCandidates = LiveValues.Users.class, description = "User name.")
        String name;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            JsonNode u = root.client().get("api/v1/users/" + HubClient.enc(name));
            PrintWriter out = spec.commandLine().getOut();
            if (root.printStructured(out, u, "name")) {
                return 0;
            }
            out.printf("Name:     %s%n", Format.text(u, "name"));
            out.printf("ID:       %s%n", Format.text(u, "id"));
            out.printf("Role:     %s%n", Format.text(u, "role"));
            out.printf("Tokens:   %s%n", Format.text(u, "activeTokens"));
            out.printf("Created:  %s%n", Format.text(u, "createdAt"));
            out.printf("Grants:   %s%n", u.path("grants").isEmpty() ? "-" : "");
            for (JsonNode g : u.path("grants")) {
                out.printf("  %-9s on nodes matching %s%n", g.path("role").asText(), g.path("selector").asText());
            }
            out.flush();
            return 0;
        }
    }

    /** {@code hubctl users rm NAME [--reassign-to USER]}. */
    @Command(name = "rm", aliases = "remove", mixinStandardHelpOptions = true,
            description = {"Remove a user: its API and join tokens stop working and its open streams are closed.",
                "A user who owns nodes is removed only with --reassign-to, which gives them to another user."})
    static final class Rm implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", completionCandidates = LiveValues.Users.class,
                description = "User name.")
        String name;

        @Option(names = "--reassign-to", paramLabel = "USER", completionCandidates = LiveValues.Users.class,
                description = "Give the user's nodes to USER (an operator or admin).")
        String reassignTo;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            root.client().delete("api/v1/users/" + HubClient.enc(name)
                    + (reassignTo == null ? "" : "?reassignTo=" + HubClient.enc(reassignTo)));
            root.done(spec, "removed user " + name + (reassignTo == null ? "" : "; its nodes now belong to " + reassignTo));
            return 0;
        }
    }

    /** {@code hubctl users grant NAME -l SELECTOR --role viewer|operator}. */
    @Command(name = "grant", mixinStandardHelpOptions = true,
            description = {"Let a user see (viewer) or also run commands on (operator) every node whose labels "
                + "match SELECTOR, now and as nodes join. Granting the same selector again changes its role.",
                "Its open streams are closed and reopen with the new access."})
    static final class Grant implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", completionCandidates = LiveValues.Users.class, description = "User name.")
        String name;

        @Option(names = {"-l", "--label"}, paramLabel = "SELECTOR", required = true,
                description = "Label selector: k=v, k!=v, 'k in (a,b)', 'k notin (a,b)', k, !k, joined by commas.")
        String selector;

        @Option(names = "--role", paramLabel = "viewer|operator", required = true,
                description = "viewer: read the nodes, their history and events; operator: also run and cancel commands.")
        String role;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            JsonNode g = root.client().post("api/v1/users/" + HubClient.enc(name) + "/grants",
                    Map.of("selector", selector, "role", role));
            if (root.printStructured(spec.commandLine().getOut(), g, "name")) {
                return 0;
            }
            root.done(spec, "granted " + name + " " + g.path("role").asText() + " on nodes matching "
                    + g.path("selector").asText());
            return 0;
        }
    }

    /** {@code hubctl users revoke NAME -l SELECTOR}. */
    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Take back a user's grant for SELECTOR (as shown by 'users show').")
    static final class Revoke implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", completionCandidates = LiveValues.Users.class, description = "User name.")
        String name;

        @Option(names = {"-l", "--label"}, paramLabel = "SELECTOR", required = true, description = "The grant's selector.")
        String selector;

        @Override
        public Integer call() {
            HubctlCommand root = HubctlCommand.root(spec);
            root.client().delete("api/v1/users/" + HubClient.enc(name) + "/grants?selector=" + HubClient.enc(selector));
            root.done(spec, "revoked the grant of " + name + " on nodes matching " + selector);
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

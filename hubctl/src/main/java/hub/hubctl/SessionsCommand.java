package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code hubctl sessions ls|play|join}: terminal sessions, live and recorded. */
@Command(name = "sessions", mixinStandardHelpOptions = true,
        description = "Terminal sessions (hubctl ssh): list them, play a recording, watch a live one.",
        subcommands = {SessionsCommand.Ls.class, SessionsCommand.Play.class, SessionsCommand.Join.class})
final class SessionsCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give a subcommand: ls, play or join");
    }

    /** {@code hubctl sessions ls [NODE]}. */
    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List sessions, newest first.")
    static final class Ls implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NODE", arity = "0..1", completionCandidates = LiveValues.Nodes.class,
                description = "Only this node's sessions.")
        String node;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "20",
                description = "At most this many (1 to 500). Default: ${DEFAULT-VALUE}")
        int limit;

        @Override
        public Integer call() {
            if (limit < 1 || limit > 500) {
                throw HubctlException.usage("--limit must be between 1 and 500");
            }
            HubctlCommand root = HubctlCommand.root(spec);
            JsonNode res = root.client().get("api/v1/sessions?limit=" + limit
                    + (node == null ? "" : "&node=" + HubClient.enc(node)));
            PrintWriter out = spec.commandLine().getOut();
            if (root.printStructured(out, res, "id")) {
                return 0;
            }
            Instant now = Instant.now();
            Table t = new Table(List.of("ID", "NODE", "USER", "STATE", "STARTED", "DURATION", "COMMAND"));
            for (JsonNode n : res.path("items")) {
                String state = n.path("live").asBoolean() ? "live" + (n.path("watchers").asInt() > 0
                        ? " (" + n.path("watchers").asInt() + " watching)" : "") : Format.text(n, "state")
                        + (n.hasNonNull("exitCode") ? " " + n.path("exitCode").asInt() : "");
                Instant started = Instant.parse(n.path("startedAt").asText());
                Instant ended = n.hasNonNull("endedAt") ? Instant.parse(n.path("endedAt").asText()) : now;
                t.row(java.util.Arrays.asList(Format.text(n, "id"),
                        n.hasNonNull("nodeName") ? n.path("nodeName").asText() : Format.text(n, "node"),
                        Format.text(n, "user") + (n.hasNonNull("runAs") ? " as " + n.path("runAs").asText() : ""),
                        state, Format.age(n.get("startedAt"), now), Format.human(Duration.between(started, ended)),
                        n.hasNonNull("command") ? n.path("command").asText() : "(login shell)"));
            }
            t.styled(root).print(out);
            return 0;
        }
    }

    /** {@code hubctl sessions play ID [--speed N] [--max-idle D]}. */
    @Command(name = "play", mixinStandardHelpOptions = true,
            description = {"Replay a session's recording with its timing (a live one up to now, then as it goes).",
                "Pauses longer than --max-idle are cut to it."})
    static final class Play implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ID", description = "The session (from sessions ls).")
        String id;

        @Option(names = "--speed", paramLabel = "N", defaultValue = "1",
                description = "Play N times as fast (0 for no pauses at all). Default: ${DEFAULT-VALUE}")
        double speed;

        @Option(names = "--max-idle", paramLabel = "DURATION", defaultValue = "2s",
                description = "Longest pause played. Default: ${DEFAULT-VALUE}")
        String maxIdle;

        @Override
        public Integer call() throws InterruptedException {
            if (speed < 0 || speed > 1000 || Double.isNaN(speed)) {
                throw HubctlException.usage("--speed must be between 0 and 1000");
            }
            long maxIdleMs = millis(maxIdle);
            HubctlCommand root = HubctlCommand.root(spec);
            OutputStream out = root.stdio().out();
            String after = "0";
            long lastAt = -1;
            Base64.Decoder b64 = Base64.getDecoder();
            try {
                while (true) {
                    JsonNode page = root.client().get("api/v1/sessions/" + HubClient.enc(id) + "/recording?after="
                            + HubClient.enc(after));
                    for (JsonNode item : page.path("items")) {
                        long at = item.path("atMs").asLong();
                        if (lastAt >= 0 && speed > 0) {
                            long wait = Math.min(maxIdleMs, at - lastAt);
                            if (wait > 0) {
                                out.flush();
                                Thread.sleep(Math.max(1, (long) (wait / speed)));
                            }
                        }
                        lastAt = at;
                        if (item.path("kind").asText().equals("output")) {
                            out.write(b64.decode(item.path("data").asText()));
                        }
                    }
                    out.flush();
                    after = page.path("next").asText();
                    if (page.path("end").asBoolean()) {
                        return 0;
                    }
                    if (page.path("items").isEmpty()) {
                        Thread.sleep(300); // a live session: wait for more
                    }
                }
            } catch (IOException e) {
                throw HubctlException.hub("cannot write the recording: " + e.getMessage());
            }
        }
    }

    /** A duration as hubctl writes them everywhere: 500ms, 2s, 1m, 1h. */
    static long millis(String d) {
        var m = java.util.regex.Pattern.compile("(\\d{1,9})(ms|s|m|h)").matcher(d);
        if (!m.matches()) {
            throw HubctlException.usage("--max-idle must be a duration such as 500ms, 2s or 1m, not '" + d + "'");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> n;
            case "s" -> n * 1000;
            case "m" -> n * 60_000;
            default -> n * 3_600_000;
        };
    }

    /** {@code hubctl sessions join ID [--rw]}. */
    @Command(name = "join", mixinStandardHelpOptions = true,
            description = {"Watch a live session from now on (read-only: what you type is not sent; ~. leaves).",
                "--rw types into it too (admins). Needs admin, or to be the user who opened it."})
    static final class Join implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ID", description = "The session (from sessions ls).")
        String id;

        @Option(names = "--rw", description = "Type into the session too (admins only).")
        boolean readWrite;

        @Option(names = "-e", paramLabel = "CHAR|none", defaultValue = "~",
                description = "The escape character, or none. Default: ${DEFAULT-VALUE}")
        String escape;

        @Override
        public Integer call() throws InterruptedException {
            char esc = SshCommand.escapeChar(escape);
            HubctlCommand root = HubctlCommand.root(spec);
            TerminalClient.End end = new TerminalClient(root.client(), root.mapper(), root.stdio(),
                    spec.commandLine().getErr(), root.env).run("api/v1/sessions/" + HubClient.enc(id) + "/join"
                    + (readWrite ? "?rw=true" : ""), null, readWrite, esc);
            if (end.message() != null) {
                throw new HubctlException(end.message(), end.exitCode() == ExitCodes.EXEC_HUB_ERROR
                        ? ExitCodes.HUB_ERROR : end.exitCode());
            }
            return 0; // the session ended: its exit code is the owner's, not the watcher's
        }
    }
}

package hub.hubctl;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

/** Runs hubctl in-process against a hub, capturing stdout, stderr and the exit code. */
final class Cli {
    private Cli() {
    }

    /** The CA file of each hub URL a test registered with {@link #url}: hubctl is given it as --ca-file. */
    private static final java.util.Map<String, String> CA_FILES = new java.util.concurrent.ConcurrentHashMap<>();

    /** The hub's API URL (https), registering its CA so that {@link #run} trusts it. */
    static String url(hub.hubd.HubDaemon d) {
        String url = hub.hubd.TestTls.url(d);
        if (d.tls() != null) {
            CA_FILES.put(url, hub.hubd.TestTls.caFile(d).toString());
        }
        return url;
    }

    /** {@code --hub URL --token TOKEN} and, for a registered https hub, {@code --ca-file}. */
    static List<String> target(String url, String token) {
        List<String> all = new ArrayList<>(List.of("--hub", url, "--token", token));
        String ca = CA_FILES.get(url.replaceAll("/$", ""));
        if (ca != null) {
            all.addAll(List.of("--ca-file", ca));
        }
        return all;
    }

    /** One run's outcome. */
    record Run(int code, String out, String err) {
        com.fasterxml.jackson.databind.JsonNode json() throws java.io.IOException {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(out);
        }
    }

    static Run run(String url, String token, String... args) {
        List<String> all = target(url, token);
        all.addAll(List.of(args));
        return runWith(java.util.Map.of(), all.toArray(String[]::new));
    }

    /** Runs hubctl with exactly {@code args}, in the environment {@code env} only (no HUB_* of the machine's). */
    static Run runWith(java.util.Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        // The same command line main() builds for these arguments (only the subcommand they name).
        HubctlCommand root = new HubctlCommand(env);
        root.stdio = emptyStdio();
        var cli = HubctlMain.commandLineFor(root, args);
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return new Run(cli.execute(args), out.toString(), err.toString());
    }

    /** Stdin with nothing in it (never the test JVM's: surefire talks over it), bytes out to nowhere. */
    static HubctlCommand.Stdio emptyStdio() {
        return new HubctlCommand.Stdio(new java.io.ByteArrayInputStream(new byte[0]),
                java.io.OutputStream.nullOutputStream(), java.io.OutputStream.nullOutputStream(), false);
    }

    /** One run's outcome with its byte streams: what {@code exec --raw} wrote, and the text. */
    record Bytes(int code, byte[] stdout, byte[] stderr, String out, String err) {
    }

    /** Runs hubctl with {@code stdin} as its standard input, capturing the bytes it writes too. */
    static Bytes runBytes(String url, String token, byte[] stdin, String... args) {
        List<String> all = target(url, token);
        all.addAll(List.of(args));
        String[] argv = all.toArray(String[]::new);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var stdout = new java.io.ByteArrayOutputStream();
        var stderr = new java.io.ByteArrayOutputStream();
        HubctlCommand root = new HubctlCommand(java.util.Map.of());
        root.stdio = new HubctlCommand.Stdio(new java.io.ByteArrayInputStream(stdin), stdout, stderr, false);
        var cli = HubctlMain.commandLineFor(root, argv);
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(argv);
        return new Bytes(code, stdout.toByteArray(), stderr.toByteArray(), out.toString(), err.toString());
    }

    /** A hubctl run in the background (follow and watch modes): its output so far, stoppable. */
    static final class Background {
        private final StringWriter out = new StringWriter();
        private final StringWriter err = new StringWriter();
        private final Thread thread;
        private volatile int code = -1;

        Background(String url, String token, String... args) {
            List<String> all = target(url, token);
            all.addAll(List.of(args));
            thread = new Thread(() -> {
                var cli = HubctlMain.commandLine();
                ((HubctlCommand) cli.getCommand()).stdio = emptyStdio();
                cli.setOut(new PrintWriter(out, true));
                cli.setErr(new PrintWriter(err, true));
                code = cli.execute(all.toArray(String[]::new));
            }, "hubctl-" + args[0]);
            thread.setDaemon(true);
            thread.start();
        }

        String out() {
            synchronized (out.getBuffer()) {
                return out.toString();
            }
        }

        String err() {
            synchronized (err.getBuffer()) {
                return err.toString();
            }
        }

        /** The exit code once it ended by itself, else -1. */
        int code() {
            return code;
        }

        boolean alive() {
            return thread.isAlive();
        }

        /** Interrupts it (Ctrl-C in the shell) and returns its exit code. */
        int stop() throws InterruptedException {
            thread.interrupt();
            thread.join(5000);
            return code;
        }
    }
}

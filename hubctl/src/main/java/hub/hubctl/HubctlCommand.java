package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Map;
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
        // Subcommands are added by HubctlMain: all of them, or only the one a run needs (start-up).
        exitCodeListHeading = "%nExit codes (errors are one line on stderr, with the hub's error id when it "
                + "gave one):%n",
        exitCodeList = {"0:ok",
            "1:error from the hub, or the hub could not be reached",
            "2:usage error",
            "130:stopped by Ctrl-C",
            "N:hubctl exec exits with the remote command's code (124 timed out, 130 cancelled)"},
        footerHeading = "%nEnvironment:%n",
        footer = {"HUB_URL, HUB_TOKEN, HUB_CONTEXT, HUB_CA: as --hub, --token, --context, --ca-file.",
            "HUBCTL_CONFIG: the contexts file; default $XDG_CONFIG_HOME/hubctl/config (~/.config/hubctl/config).",
            "XDG_STATE_HOME: the shell's history is in $XDG_STATE_HOME/hubctl/history (~/.local/state/...).",
            "NO_COLOR: when set and not empty, never color (as --color never).",
            "HUBCTL_JAVA_OPTS: replaces the launcher's JVM options."})
public final class HubctlCommand implements Runnable {

    /** How results are printed. */
    public enum Output { table, wide, json, yaml, name }

    @Spec
    CommandSpec spec;

    /** When to color output. */
    public enum ColorMode { auto, always, never }

    /** The hub used when no flag, environment variable or context names one. */
    static final String DEFAULT_HUB = "https://127.0.0.1:8080";

    @Option(names = "--hub", paramLabel = "URL", scope = ScopeType.INHERIT,
            description = "Hub API URL. Env: HUB_URL. Else the current context's; else " + DEFAULT_HUB)
    String hub;

    @Option(names = "--token", paramLabel = "TOKEN", scope = ScopeType.INHERIT,
            description = "API token. Env: HUB_TOKEN. Else the current context's.")
    String token;

    @Option(names = "--ca-file", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "Verify the hub against the CA certificates in this PEM file (e.g. a hub's "
                    + "<data-dir>/tls/ca.crt), instead of the context's CA or the system's. Env: HUB_CA")
    String caFile;

    @Option(names = "--context", paramLabel = "NAME", scope = ScopeType.INHERIT,
            description = "Use this context from the config file instead of the current one. Env: HUB_CONTEXT")
    String context;

    @Option(names = {"-o", "--output"}, paramLabel = "table|wide|json|yaml|name", scope = ScopeType.INHERIT,
            defaultValue = "table", description = {"Output format: table, wide (more columns), json or yaml (the "
                + "hub's fields), name (one id or name per line, for scripts; as kubectl). Follow modes print "
                + "text or, with json, one object per line. Default: ${DEFAULT-VALUE}"})
    Output output;

    @Option(names = "--no-headers", scope = ScopeType.INHERIT, description = "Print tables without their header line.")
    boolean noHeaders;

    @Option(names = "--color", paramLabel = "auto|always|never", scope = ScopeType.INHERIT,
            defaultValue = "auto",
            description = "Color status words: auto (on a terminal, unless NO_COLOR is set), always, never. "
                    + "Default: ${DEFAULT-VALUE}")
    ColorMode color;

    /** Made on first use: Jackson is a few hundred classes that --version and --help never need. */
    private ObjectMapper mapper;

    /** The environment hubctl reads (tests give their own). */
    final Map<String, String> env;

    /** Settings of the interactive shell this command runs in, or null outside one. */
    Session session;

    /**
     * The process's byte streams, for what is not text: {@code exec --raw} output and the stdin exec
     * streams to the remote command. Tests give their own.
     *
     * @param in  stdin, or null when the command must not read it (inside {@code hubctl shell})
     * @param out stdout, unbuffered
     * @param err stderr, unbuffered
     */
    record Stdio(java.io.InputStream in, java.io.OutputStream out, java.io.OutputStream err, boolean inIsTerminal) {
        static Stdio system() {
            return new Stdio(System.in, new java.io.FileOutputStream(java.io.FileDescriptor.out),
                    new java.io.FileOutputStream(java.io.FileDescriptor.err), stdinIsTerminal());
        }

        /** Whether fd 0 is a terminal: /proc/self/fd/0 names a tty (else, where there is no /proc, a console). */
        private static boolean stdinIsTerminal() {
            try {
                String target = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/0")).toString();
                return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
            } catch (java.io.IOException | UnsupportedOperationException e) {
                return System.console() != null;
            }
        }
    }

    /** The byte streams; null until first asked for (then the process's own). */
    Stdio stdio;

    Stdio stdio() {
        if (stdio == null) {
            stdio = Stdio.system();
        }
        return stdio;
    }

    /** Who answers questions: the shell's reader inside {@code hubctl shell}; else the console. */
    Prompter prompter;

    /** The person at the terminal, or null when there is none. */
    Prompter prompter() {
        return prompter != null ? prompter : Prompter.console();
    }

    /** The defaults an interactive shell gives every command it runs: its own startup flags. */
    record Session(String hub, String token, String context, boolean colorTerminal, String caFile) {
    }

    /**
     * Where a command's hub and token came from, and how the hub is verified.
     *
     * @param ca     the CA the context trusts for this hub, or null
     * @param caFile {@code --ca-file}/{@code HUB_CA}, which wins over the context's CA, or null
     */
    record Target(URI hub, String token, String context, java.security.cert.X509Certificate ca,
            java.nio.file.Path caFile) {
    }

    public HubctlCommand() {
        this(System.getenv());
    }

    HubctlCommand(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    ObjectMapper mapper() {
        if (mapper == null) {
            mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        }
        return mapper;
    }

    /** A client for the hub the options, environment and contexts name. */
    HubClient client() {
        Target t = target();
        return new HubClient(t.hub(), t.token(), mapper(), Trust.context(t));
    }

    /**
     * The hub and token to use. The hub: {@code --hub}, else the shell's startup {@code --hub}, else
     * the hub of a context named by {@code --context}, else {@code HUB_URL}, else the context named by
     * {@code HUB_CONTEXT} or the current one, else the default. The token likewise; but a context's
     * token is only ever sent to that context's hub, so that pointing {@code HUB_URL} elsewhere never
     * leaks it.
     */
    Target target() {
        String sessionHub = session == null ? null : session.hub();
        String sessionToken = session == null ? null : session.token();
        String explicitName = first(context, session == null ? null : session.context());
        String implicitName = explicitName != null ? null : env.get("HUB_CONTEXT");
        Contexts.Context ctx = null;
        String ctxName = first(explicitName, implicitName);
        if (ctxName != null) {
            ctx = contexts().get(ctxName).orElseThrow(() -> HubctlException.usage(
                    "no context named '" + ctxName + "' (see 'hubctl context ls')"));
        }
        String h;
        if (explicitName != null) {
            h = first(hub, sessionHub, ctx.hub());
        } else {
            h = first(hub, sessionHub, env.get("HUB_URL"));
            if (h == null) {
                if (ctx == null) {
                    ctx = contexts().current().orElse(null);
                }
                h = ctx == null ? null : ctx.hub();
            }
        }
        if (h == null) {
            h = DEFAULT_HUB;
        }
        URI uri = hubUri(h);
        String t = explicitName != null ? first(token, sessionToken)
                : first(token, sessionToken, env.get("HUB_TOKEN"));
        if (ctx == null && t == null && explicitName == null) {
            ctx = contexts().current().orElse(null);
        }
        Contexts.Context used = ctx != null && ctx.hub() != null && uri.equals(hubUri(ctx.hub())) ? ctx : null;
        if (t == null && used != null) {
            t = used.token();
        }
        // Trust, like ssh's known hosts, is per hub: a context that trusts a CA for this URL lends it,
        // even when the token comes from elsewhere.
        Contexts.Context trusted = used != null && used.ca() != null ? used : knownHub(uri);
        java.security.cert.X509Certificate ca = trusted != null ? Trust.parse(trusted.ca(), trusted.name()) : null;
        return new Target(uri, t, used == null ? null : used.name(), ca,
                Trust.file(first(caFile, session == null ? null : session.caFile(), env.get("HUB_CA"))));
    }

    /** The first context with a CA for {@code uri}, or null. */
    private Contexts.Context knownHub(URI uri) {
        if (!"https".equals(uri.getScheme())) {
            return null;
        }
        for (Contexts.Context c : contexts().all()) {
            if (c.ca() != null && c.hub() != null && uri.equals(hubUri(c.hub()))) {
                return c;
            }
        }
        return null;
    }

    /** Parses and checks a hub URL. */
    static URI hubUri(String hub) {
        URI uri;
        try {
            uri = new URI(hub.endsWith("/") ? hub : hub + "/");
        } catch (URISyntaxException e) {
            throw HubctlException.usage("invalid hub URL '" + hub + "'");
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
            throw HubctlException.usage("the hub must be an http:// or https:// URL, not '" + hub + "'");
        }
        return uri;
    }

    /** The contexts file named by the environment. */
    Contexts contexts() {
        return Contexts.load(Contexts.file(env));
    }

    /** The colors for this command's output: on for a terminal (or --color always), never when piped. */
    Colors colors() {
        return colorsFor(session != null ? session.colorTerminal() : System.console() != null);
    }

    /** {@code --color} applied to output going to a terminal that can ({@code terminal}) or cannot show color. */
    Colors colorsFor(boolean terminal) {
        boolean on = switch (color == null ? ColorMode.auto : color) {
            case always -> true;
            case never -> false;
            case auto -> {
                String noColor = env.get("NO_COLOR");
                yield terminal && (noColor == null || noColor.isEmpty()) && !"dumb".equals(env.get("TERM"));
            }
        };
        return on ? Colors.ON : Colors.OFF;
    }

    private static String first(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return null;
    }

    Output output() {
        return output;
    }

    /** Prints {@code node} as indented JSON ({@code -o json}), or as YAML with {@code -o yaml}. */
    void printJson(PrintWriter out, JsonNode node) {
        try {
            if (output == Output.yaml) {
                out.print(YAML.writeValueAsString(node));
            } else {
                out.println(mapper().writeValueAsString(node));
            }
            out.flush();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw HubctlException.hub("cannot print " + output + ": " + e.getOriginalMessage());
        }
    }

    private static final com.fasterxml.jackson.dataformat.yaml.YAMLMapper YAML =
            new com.fasterxml.jackson.dataformat.yaml.YAMLMapper();

    /** Whether the output is the hub's fields (json or yaml) rather than text. */
    boolean structured() {
        return output == Output.json || output == Output.yaml;
    }

    /** Whether tables print their header line ({@code --no-headers} says no). */
    boolean headers() {
        return !noHeaders;
    }

    /**
     * Prints {@code answer} in the structured forms: json or yaml as it is, and for {@code -o name}
     * the {@code field} of each of its {@code items} (of the answer itself when it is one object),
     * one per line. False for the text forms, which the command prints itself.
     */
    boolean printStructured(PrintWriter out, JsonNode answer, String field) {
        if (structured()) {
            printJson(out, answer);
            return true;
        }
        if (output != Output.name) {
            return false;
        }
        if (answer.has("items")) {
            answer.get("items").forEach(i -> out.println(i.path(field).asText()));
        } else {
            out.println(answer.path(field).asText());
        }
        out.flush();
        return true;
    }

    /** Confirms a change on stdout, except with {@code -o json} (whose output stays parseable). */
    void done(CommandSpec spec, String message) {
        if (!structured() && output != Output.name) {
            spec.commandLine().getOut().println(message);
            spec.commandLine().getOut().flush();
        }
    }

    /** The root command of the command line that {@code spec} belongs to. */
    static HubctlCommand root(CommandSpec spec) {
        return (HubctlCommand) spec.root().userObject();
    }

    /** Prints hubctl's version, from a resource Maven fills in (so it is right from classes too). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws java.io.IOException {
            java.util.Properties p = new java.util.Properties();
            try (var in = HubctlCommand.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"hubctl " + p.getProperty("version", "dev")};
        }
    }
}

package hub.agent;

import hub.tls.HubTrust;
import hub.tls.Pem;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import sun.misc.Signal;

/** hub-agent's command line: run the agent, or {@code simulate} many. */
@Command(name = "hub-agent", mixinStandardHelpOptions = true, versionProvider = AgentMain.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        subcommands = {SimulateCommand.class},
        description = {"The Mesh Hub agent: keeps one gRPC stream open to hubd over TLS, verifying the hub by",
            "its CA pin; joins once with a join token and a CSR, then reconnects with the node certificate",
            "the hub signed (kept with its key in the state dir, renewed at 2/3 of its life)."})
public final class AgentMain implements Callable<Integer> {

    @Option(names = "--hub", paramLabel = "HOST:PORT[,HOST:PORT…]", scope = ScopeType.INHERIT,
            defaultValue = "${env:HUB_AGENT_HUB}",
            description = "Hub gRPC address(es); with several it fails over. Env: HUB_AGENT_HUB")
    String hub;

    @Option(names = "--join-token", paramLabel = "TOKEN", scope = ScopeType.INHERIT,
            defaultValue = "${env:HUB_AGENT_JOIN_TOKEN}",
            description = "Join token for the first start. Env: HUB_AGENT_JOIN_TOKEN")
    String joinToken;

    @Option(names = "--state-dir", paramLabel = "DIR",
            defaultValue = "${env:HUB_AGENT_STATE_DIR:-/var/lib/hub-agent}",
            description = "Where the node credential is kept (mode 0600). Env: HUB_AGENT_STATE_DIR. "
                    + "Default: ${DEFAULT-VALUE}")
    Path stateDir;

    @Option(names = "--name", paramLabel = "NAME", defaultValue = "${env:HUB_AGENT_NAME}",
            description = "Display name; default the hostname. Env: HUB_AGENT_NAME")
    String name;

    @Option(names = "--run-as", paramLabel = "USER", defaultValue = "${env:HUB_AGENT_RUN_AS}",
            description = "Run tasks as this local user when the hub names none (hubctl exec --user names one). "
                    + "Default: the user the agent runs as (root for the packaged agent). Env: HUB_AGENT_RUN_AS")
    String runAs;

    @Option(names = "--config", paramLabel = "FILE", defaultValue = "${env:HUB_AGENT_CONFIG:-/etc/hub-agent/agent.conf}",
            description = "This node's cap on what the hub may do: allow-users=U1,U2 and deny-root=true|false, "
                    + "read at each task (a missing file allows any user). Env: HUB_AGENT_CONFIG. "
                    + "Default: ${DEFAULT-VALUE}")
    Path config;

    @Option(names = {"-l", "--label"}, paramLabel = "KEY=VALUE", scope = ScopeType.INHERIT,
            description = "A label for this node; repeatable.")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(names = "--ca-pin", paramLabel = "sha256:HEX", scope = ScopeType.INHERIT,
            defaultValue = "${env:HUB_AGENT_CA_PIN}",
            description = "Verify the hub by its CA's pin (from 'hubd ca show', 'hubctl tokens create' or the "
                    + "provisioning script). Env: HUB_AGENT_CA_PIN")
    String caPin;

    @Option(names = "--ca-file", paramLabel = "FILE", scope = ScopeType.INHERIT,
            defaultValue = "${env:HUB_AGENT_CA_FILE}",
            description = "Verify the hub against the CA certificates in this PEM file instead. Env: HUB_AGENT_CA_FILE")
    Path caFile;

    @Option(names = "--insecure-skip-verify", scope = ScopeType.INHERIT,
            defaultValue = "${env:HUB_AGENT_INSECURE_SKIP_VERIFY:-false}",
            description = "Use TLS but do not verify the hub: anyone on the network path can pose as it and run "
                    + "commands here. Warned about at every connect. Env: HUB_AGENT_INSECURE_SKIP_VERIFY")
    boolean insecureSkipVerify;

    @Option(names = "--insecure-plaintext", scope = ScopeType.INHERIT,
            defaultValue = "${env:HUB_AGENT_INSECURE_PLAINTEXT:-false}",
            description = "No TLS, for a hub started with --insecure-plaintext (labs only). "
                    + "Env: HUB_AGENT_INSECURE_PLAINTEXT")
    boolean insecurePlaintext;

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AgentMain.class);

    /**
     * How the hub is verified, from the options: exactly one of a pin, a CA file, not at all
     * (said so), or no TLS.
     *
     * @return the trust manager, or null for plain text
     * @throws IllegalArgumentException when none or several are given
     */
    javax.net.ssl.X509ExtendedTrustManager trust() {
        int given = (blank(caPin) ? 0 : 1) + (caFile == null ? 0 : 1) + (insecureSkipVerify ? 1 : 0)
                + (insecurePlaintext ? 1 : 0);
        if (given == 0) {
            throw new IllegalArgumentException("no way to verify the hub: give --ca-pin sha256:… (from 'hubd ca show' "
                    + "or 'hubctl tokens create'), or --ca-file FILE; --insecure-skip-verify only for tests");
        }
        if (given > 1) {
            throw new IllegalArgumentException("give one of --ca-pin, --ca-file, --insecure-skip-verify and "
                    + "--insecure-plaintext");
        }
        if (insecurePlaintext) {
            return null;
        }
        if (insecureSkipVerify) {
            return HubTrust.insecure(chain -> log.warn("NOT verifying the hub (--insecure-skip-verify): it "
                    + "presents {}; anyone on the network path could pose as it", HubTrust.describe(chain)));
        }
        if (caFile != null) {
            return HubTrust.anchoredTo(Pem.certificates(caFile));
        }
        return HubTrust.pinned(caPin);
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    /** The link to the hubs these options describe. */
    HubLink link(java.util.concurrent.Executor executor,
            io.grpc.netty.shaded.io.netty.channel.EventLoopGroup group) {
        List<String> addresses = HubAddresses.parse(hub);
        var trust = trust();
        if (trust == null) {
            log.warn("TLS is OFF (--insecure-plaintext): the join token, the node credential and all task output "
                    + "cross the network in clear text");
            return HubLink.plaintext(addresses, executor, group);
        }
        return HubLink.tls(addresses, trust, executor, group);
    }

    @Override
    public Integer call() throws InterruptedException {
        HubLink link = link(null, null);
        requireWritableStateDir(stateDir);
        ScheduledExecutorService scheduler = Timers.create("agent-timers", 1);
        AgentConnection conn = new AgentConnection(AgentIdentity.local(name, labels), link,
                IdentityStore.file(stateDir), CredentialStore.file(stateDir), joinToken, scheduler, Backoff.standard(),
                new AgentConnection.Listener() { });
        conn.runAs(new RunAs(runAs, config, System.getProperty("user.name")));
        CountDownLatch stop = new CountDownLatch(1);
        Signal.handle(new Signal("TERM"), s -> stop.countDown());
        Signal.handle(new Signal("INT"), s -> stop.countDown());
        conn.start();
        stop.await();
        conn.close(Duration.ofSeconds(2));
        scheduler.shutdownNow();
        return 0;
    }

    /** Fails before connecting when the credential could not be stored after a join. */
    static void requireWritableStateDir(Path dir) {
        try {
            java.nio.file.Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot create state dir " + dir + ": " + e.getMessage());
        }
        if (!java.nio.file.Files.isWritable(dir)) {
            throw new IllegalArgumentException("state dir " + dir + " is not writable (--state-dir)");
        }
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with hub-agent's error handling: bad settings are one stderr line, exit 2. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new AgentMain());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof IllegalArgumentException || e instanceof java.io.UncheckedIOException
                    || e instanceof IllegalStateException) {
                cmd.getErr().println("hub-agent: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cli;
    }

    /** Prints hub-agent's version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"hub-agent " + AgentIdentity.agentVersion()};
        }
    }
}

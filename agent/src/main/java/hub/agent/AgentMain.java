package hub.agent;

import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
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
        description = {"The Mesh Hub agent: keeps one gRPC stream open to hubd, joins once with a join",
            "token, then reconnects with the credential kept in its state dir."})
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

    @Option(names = {"-l", "--label"}, paramLabel = "KEY=VALUE", scope = ScopeType.INHERIT,
            description = "A label for this node; repeatable.")
    Map<String, String> labels = new LinkedHashMap<>();

    @Override
    public Integer call() throws InterruptedException {
        List<String> addresses = HubAddresses.parse(hub);
        requireWritableStateDir(stateDir);
        List<ManagedChannel> channels = addresses.stream().map(HubAddresses::channel).toList();
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "agent-timers");
            t.setDaemon(true);
            return t;
        });
        AgentConnection conn = new AgentConnection(AgentIdentity.local(name, labels), channels,
                CredentialStore.file(stateDir), joinToken, scheduler, Backoff.standard(),
                new AgentConnection.Listener() { });
        CountDownLatch stop = new CountDownLatch(1);
        Signal.handle(new Signal("TERM"), s -> stop.countDown());
        Signal.handle(new Signal("INT"), s -> stop.countDown());
        conn.start();
        stop.await();
        conn.close();
        scheduler.shutdownNow();
        for (ManagedChannel ch : channels) {
            ch.shutdown().awaitTermination(2, TimeUnit.SECONDS);
        }
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
            if (e instanceof IllegalArgumentException || e instanceof java.io.UncheckedIOException) {
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

package hub.agent;

import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import sun.misc.Signal;

/**
 * {@code hub-agent simulate --count N}: N virtual agents in one JVM, each with its own Connect
 * stream, credential (in memory) and heartbeat, for load tests. Prints progress and the time
 * until all N were welcomed.
 */
@Command(name = "simulate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run N virtual agents in this JVM, each with its own stream (load tests).")
final class SimulateCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(SimulateCommand.class);

    @ParentCommand
    AgentMain parent;

    @Option(names = "--count", required = true, paramLabel = "N", description = "Number of virtual agents.")
    int count;

    @Option(names = "--rate", paramLabel = "PER_SECOND", defaultValue = "1000",
            description = "Agents started per second. Default: ${DEFAULT-VALUE}")
    int rate;


    @Option(names = "--name-prefix", paramLabel = "PREFIX", defaultValue = "sim",
            description = "Virtual agents are named PREFIX-0, PREFIX-1, … Default: ${DEFAULT-VALUE}")
    String prefix;

    @Option(names = "--hollow-tasks", description = "Answer every task at once with exit 0 and run nothing: "
            + "measures the hub, not how fast this machine forks (as kubemark's hollow nodes).")
    boolean hollowTasks;

    @Option(names = "--file-root", paramLabel = "DIR", description = "Give each virtual agent DIR/NAME as its "
            + "file system root for file copies (hubctl cp), so that they do not write over each other; without "
            + "it they all use the real /.")
    java.nio.file.Path fileRoot;

    @Option(names = "--duration", paramLabel = "SECONDS", defaultValue = "0",
            description = "Stop after this many seconds; 0 runs until SIGTERM/SIGINT.")
    long durationSeconds;

    @Override
    public Integer call() throws InterruptedException, java.io.IOException {
        if (count < 1 || rate < 1) {
            throw new IllegalArgumentException("--count and --rate must be positive");
        }
        // N agents joining and reconnecting would print N lines each time; print the totals instead.
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(AgentConnection.class))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        // Callbacks of every virtual agent on a few threads: they only update counters and state.
        java.util.concurrent.ExecutorService callbacks = Executors.newFixedThreadPool(
                Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
                    Thread t = new Thread(r, "sim-grpc");
                    t.setDaemon(true);
                    return t;
                });
        // Each virtual agent is a node of its own: its own connection and, over TLS, certificate. They
        // share event loops, and one key pair (the hub does not mind; the driver's CPU goes to the hub).
        var group = new io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup(
                Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
                    Thread t = new Thread(r, "sim-netty");
                    t.setDaemon(true);
                    return t;
                });
        AgentConnection.KeyMaker sharedKey = sharedKey();
        parent.trust(); // fail on bad trust options before starting anything
        ScheduledExecutorService scheduler = Timers.create("sim-timers", 2);
        AtomicInteger online = new AtomicInteger();
        AtomicLong firstWelcomes = new AtomicLong();
        long start = System.nanoTime();
        List<AgentConnection> agents = new ArrayList<>(count);
        AgentConnection.Listener listener = new AgentConnection.Listener() {
            @Override
            public void welcomed(String nodeId, boolean firstJoin) {
                online.incrementAndGet();
                if (firstWelcomes.incrementAndGet() == count) {
                    log.info("all {} agents welcomed in {} ms", count,
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                }
            }

            @Override
            public void disconnected(Status status, Duration retryIn) {
                online.decrementAndGet();
            }
        };
        long intervalNanos = 1_000_000_000L / rate;
        for (int i = 0; i < count; i++) {
            AgentIdentity id = new AgentIdentity(prefix + "-" + i, "Linux", "amd64",
                    AgentIdentity.agentVersion(), "", parent.labels == null ? Map.of() : parent.labels);
            AgentConnection a = new AgentConnection(id, parent.link(callbacks, group), IdentityStore.memory(),
                    CredentialStore.memory(), parent.joinToken, scheduler, Backoff.standard(), listener,
                    java.time.Clock.systemUTC(), Duration.ofMinutes(1), sharedKey);
            if (hollowTasks) {
                a.hollowTasks();
            }
            if (fileRoot != null) {
                java.nio.file.Path own = fileRoot.resolve(prefix + "-" + i);
                java.nio.file.Files.createDirectories(own);
                a.fileRoot(own);
            }
            agents.add(a);
            long due = start + i * intervalNanos;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            a.start();
        }
        CountDownLatch stop = new CountDownLatch(1);
        Signal.handle(new Signal("TERM"), s -> stop.countDown());
        Signal.handle(new Signal("INT"), s -> stop.countDown());
        long deadline = durationSeconds > 0 ? System.nanoTime() + TimeUnit.SECONDS.toNanos(durationSeconds)
                : Long.MAX_VALUE;
        while (!stop.await(5, TimeUnit.SECONDS) && System.nanoTime() < deadline) {
            log.info("simulate: {} of {} online", online.get(), count);
        }
        agents.forEach(AgentConnection::close);
        scheduler.shutdownNow();
        callbacks.shutdownNow();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        return 0;
    }

    /** One key pair and CSR for every virtual agent. */
    private static AgentConnection.KeyMaker sharedKey() {
        java.security.KeyPair keys = NodeKeys.newKeyPair();
        byte[] csr = NodeKeys.csr(keys, "sim");
        return new AgentConnection.KeyMaker() {
            @Override
            public java.security.KeyPair newKeyPair() {
                return keys;
            }

            @Override
            public byte[] csr(java.security.KeyPair k, String hostname) {
                return csr;
            }
        };
    }
}

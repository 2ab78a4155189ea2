package hub.hubctl;

import static org.awaitility.Awaitility.await;

import hub.agent.AgentConnection;
import hub.agent.AgentIdentity;
import hub.agent.Backoff;
import hub.agent.CredentialStore;
import hub.hubd.HubDaemon;
import hub.hubd.config.HubConfig;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** A real hubd on a temp data dir, and real agents connected to it over loopback gRPC. */
final class TestHub implements AutoCloseable {
    final HubDaemon hub;
    final String url;
    final String token;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final List<AgentConnection> agents = new ArrayList<>();

    TestHub(Path dir) {
        this(HubConfig.defaults(dir.resolve("data")));
    }

    TestHub(HubConfig config) {
        hub = HubDaemon.start(config);
        url = Cli.url(hub);
        token = hub.adminToken();
    }

    /** Joins an agent named {@code name} (with labels {@code k=v}) with a fresh join token; waits until it is connected. */
    AgentConnection agent(String name, String... labels) {
        List<String> args = new ArrayList<>(List.of("tokens", "create", "--uses", "1"));
        for (String l : labels) {
            args.addAll(List.of("--label", l));
        }
        Cli.Run created = Cli.run(url, token, args.toArray(String[]::new));
        if (created.code() != 0) {
            throw new IllegalStateException(created.err());
        }
        AgentConnection a = Agents.start(hub, name, created.out().strip(), scheduler);
        agents.add(a);
        return a;
    }

    @Override
    public void close() {
        agents.forEach(AgentConnection::close);
        scheduler.shutdownNow();
        hub.close();
    }
}

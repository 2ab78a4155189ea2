package hub.hubctl;

import static org.awaitility.Awaitility.await;

import hub.agent.AgentConnection;
import hub.agent.AgentIdentity;
import hub.agent.Backoff;
import hub.agent.CredentialStore;
import hub.agent.IdentityStore;
import hub.hubd.HubDaemon;
import hub.hubd.TestTls;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;

/** Real agents for hubctl's tests: TLS to the hub, pinned to its CA, as hub-agent runs. */
final class Agents {
    private Agents() {
    }

    /** Starts an agent named {@code name} that joins with {@code joinToken}; waits until it is connected. */
    static AgentConnection start(HubDaemon hub, String name, String joinToken, ScheduledExecutorService scheduler) {
        AgentConnection a = new AgentConnection(new AgentIdentity("host-" + name, "Linux", "amd64", "t", name,
                Map.of()), TestTls.link(hub), IdentityStore.memory(), CredentialStore.memory(), joinToken, scheduler,
                new Backoff(Duration.ofMillis(50), Duration.ofMillis(200)), new AgentConnection.Listener() { });
        a.start();
        await().atMost(Duration.ofSeconds(10)).until(a::connected);
        return a;
    }
}

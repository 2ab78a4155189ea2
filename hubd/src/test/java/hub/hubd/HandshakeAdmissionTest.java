package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.agent.AgentConnection;
import hub.agent.AgentIdentity;
import hub.agent.Backoff;
import hub.agent.CredentialStore;
import hub.agent.IdentityStore;
import hub.hubd.grpc.AgentGrpcServer;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent listener takes a bounded number of TLS handshakes at a time, so a restart storm (or
 * a host that connects and says nothing) cannot make every handshake wait past the agents' patience.
 */
class HandshakeAdmissionTest {
    @TempDir
    Path dir;

    @Test
    void connectionsPastTheLimitWaitForASlotAreRefusedPastTheQueueAndAgentsStillJoin() throws Exception {
        try (TestHub hub = new TestHub(dir.resolve("data"), Duration.ofSeconds(10))) {
            int port = hub.daemon.grpcPort();
            int slots = AgentGrpcServer.MAX_HANDSHAKES_PER_ADDRESS;
            List<Socket> silent = new ArrayList<>();
            try {
                for (int i = 0; i < slots; i++) {
                    silent.add(new Socket("127.0.0.1", port));
                }
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> metric(hub, "hub_agent_handshakes_in_progress") == slots);
                // One more from the same address waits for a slot, its reads paused: not closed.
                Socket waiter = new Socket("127.0.0.1", port);
                silent.add(waiter);
                await().atMost(Duration.ofSeconds(2)).until(() -> metric(hub, "hub_agent_handshakes_waiting") == 1);
                // Past the queue (eight times the handshake limit) a connection is closed at once.
                int queue = 8 * AgentGrpcServer.MAX_HANDSHAKES;
                for (int i = 1; i < queue; i++) {
                    silent.add(new Socket("127.0.0.1", port));
                }
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> metric(hub, "hub_agent_handshakes_waiting") == queue);
                assertThat(metric(hub, "hub_agent_handshakes_refused_total")).isZero();
                try (Socket extra = new Socket("127.0.0.1", port)) {
                    extra.setSoTimeout(2000);
                    assertThat(extra.getInputStream().read()).isEqualTo(-1);
                }
                assertThat(metric(hub, "hub_agent_handshakes_refused_total")).isEqualTo(1.0);
                // The first silent ones are closed once they have said nothing for the first-byte
                // deadline; the slots they held go to the waiting ones, oldest first.
                for (Socket s : silent.subList(0, slots)) {
                    s.setSoTimeout(10_000);
                    InputStream in = s.getInputStream();
                    assertThat(in.read()).isEqualTo(-1);
                }
                await().atMost(Duration.ofSeconds(3))
                        .until(() -> metric(hub, "hub_agent_handshakes_waiting") == queue - slots);
                assertThat(metric(hub, "hub_agent_handshakes_in_progress")).isEqualTo(slots);
                assertThat(waiter.isClosed()).isFalse();
            } finally {
                for (Socket s : silent) {
                    s.close();
                }
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> metric(hub, "hub_agent_handshakes_in_progress") == 0
                    && metric(hub, "hub_agent_handshakes_waiting") == 0);
            // The permits came back: an agent joins over TLS, and its handshake gives its permit back too.
            AgentConnection a = new AgentConnection(new AgentIdentity("h", "Linux", "amd64", "t", "after-storm",
                    Map.of()), TestTls.link(hub.daemon), IdentityStore.memory(), CredentialStore.memory(),
                    hub.joinToken(1, "15m", Map.of()), hub.scheduler,
                    new Backoff(Duration.ofMillis(50), Duration.ofMillis(200)), new AgentConnection.Listener() { });
            try {
                a.start();
                await().atMost(Duration.ofSeconds(10)).until(a::connected);
                assertThat(metric(hub, "hub_agent_handshakes_in_progress")).isZero();
            } finally {
                a.close();
            }
        }
    }

    private static double metric(TestHub hub, String name) {
        for (String line : hub.call("GET", "/metrics", null, null).body().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1));
            }
        }
        throw new AssertionError("no metric " + name);
    }
}

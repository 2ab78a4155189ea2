package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.agent.AgentConnection;
import hub.hubd.config.HubConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --node-expiry}: a node offline for longer is removed (and audited); an online one stays. */
class NodeExpiryTest {
    @Test
    void aNodeOfflineForLongerThanTheExpiryIsRemovedAndOnlineOnesStay(@TempDir Path dir) throws Exception {
        try (TestHub hub = new TestHub(HubConfig.defaults(dir.resolve("data")).withNodeExpiry(Duration.ofSeconds(2)))) {
            AgentConnection gone = hub.agent("gone-1", hub.joinToken(1, "1h", Map.of()));
            AgentConnection stays = hub.agent("stays-1", hub.joinToken(1, "1h", Map.of()));
            await().atMost(Duration.ofSeconds(10)).until(() -> gone.connected() && stays.connected());
            String id = gone.nodeId();
            gone.close();
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    hub.call("GET", "/api/v1/nodes/" + id, null, hub.adminToken()).status() == 404);
            assertThat(hub.node("stays-1").get("status").asText()).isEqualTo("online");
            var expired = hub.get("/api/v1/audit?node=" + id).get("items");
            assertThat(expired).anyMatch(e -> e.get("action").asText().equals("node.expire")
                    && e.get("userName").asText().equals("hub"));
            Thread.sleep(3000); // several sweeps later, the online node is still there
            assertThat(hub.node("stays-1").get("status").asText()).isEqualTo("online");
        }
    }
}

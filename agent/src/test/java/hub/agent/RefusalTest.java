package hub.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Metadata;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

/** Which refusals make an agent give its node identity up and join again: only "node unknown". */
class RefusalTest {
    private static Metadata refusal(String why) {
        Metadata m = new Metadata();
        m.put(AgentConnection.REFUSAL, why);
        return m;
    }

    @Test
    void onlyAnUnknownNodeSaidInTheTrailerMakesTheAgentJoinAgain() {
        assertThat(AgentConnection.nodeGone(Status.UNAUTHENTICATED.withDescription("node x is not known"),
                refusal("node-unknown"))).isTrue();
        // Refused for something about the connection, not the node: the identity stays.
        assertThat(AgentConnection.nodeGone(Status.UNAUTHENTICATED.withDescription(
                "no client certificate on this connection"), new Metadata())).isFalse();
        assertThat(AgentConnection.nodeGone(Status.UNAUTHENTICATED, null)).isFalse();
        assertThat(AgentConnection.nodeGone(Status.UNAVAILABLE, refusal("node-unknown"))).isFalse();
        assertThat(AgentConnection.nodeGone(Status.UNAUTHENTICATED, refusal("something-else"))).isFalse();
    }
}

package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.proto.agent.v1.Hello;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bad join token or credential is UNAUTHENTICATED and registers nothing. */
class JoinTokenRejectionTest {
    @TempDir
    Path dir;
    TestHub hub;

    @BeforeEach
    void start() {
        hub = new TestHub(dir.resolve("data"), Duration.ofSeconds(10));
    }

    @AfterEach
    void stop() throws Exception {
        hub.close();
    }

    private Status join(Hello.Builder hello) throws Exception {
        RawAgent raw = new RawAgent(hub.channel()).send(hello);
        Status s = raw.ended.get(10, TimeUnit.SECONDS);
        assertThat(raw.received).as("nothing but the status").isEmpty();
        return s;
    }

    private void assertRejected(Hello.Builder hello, String why) throws Exception {
        Status s = join(hello);
        assertThat(s.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(s.getDescription()).contains(why);
        assertThat(hub.get("/api/v1/nodes").get("items")).isEmpty();
    }

    @Test
    void malformedToken() throws Exception {
        assertRejected(RawAgent.hello("a").setJoinToken("not-a-token"), "invalid join token");
    }

    @Test
    void unknownToken() throws Exception {
        assertRejected(RawAgent.hello("a").setJoinToken("hjt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                "unknown join token");
    }

    @Test
    void expiredToken() throws Exception {
        String token = hub.joinToken(1, "1ms", Map.of());
        await().atMost(Duration.ofSeconds(5)).until(() ->
                hub.get("/api/v1/join-tokens").get("items").get(0).get("state").asText().equals("expired"));
        assertRejected(RawAgent.hello("a").setJoinToken(token), "join token expired");
    }

    @Test
    void revokedToken() throws Exception {
        String token = hub.joinToken(3, "15m", Map.of());
        String id = hub.get("/api/v1/join-tokens").get("items").get(0).get("id").asText();
        TestHub.Answer a = hub.call("DELETE", "/api/v1/join-tokens/" + id, null, hub.adminToken());
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.json().get("state").asText()).isEqualTo("revoked");
        assertRejected(RawAgent.hello("a").setJoinToken(token), "join token revoked");
    }

    @Test
    void usedUpToken() throws Exception {
        String token = hub.joinToken(1, "15m", Map.of());
        RawAgent first = new RawAgent(hub.channel()).send(RawAgent.hello("first").setJoinToken(token));
        assertThat(first.next(Duration.ofSeconds(10)).hasWelcome()).isTrue();
        Status s = join(RawAgent.hello("second").setJoinToken(token));
        assertThat(s.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(s.getDescription()).contains("join token used up");
        assertThat(hub.get("/api/v1/nodes").get("items")).hasSize(1);
    }

    @Test
    void unknownCredential() throws Exception {
        assertRejected(RawAgent.hello("a").setNodeCredential("hnc_nope"), "unknown node credential");
    }

    @Test
    void helloWithoutCredentials() throws Exception {
        assertRejected(RawAgent.hello("a"), "join token, a node id (with the node's client certificate) or a node credential");
    }

    @Test
    void invalidLabelIsRejectedAndRegistersNothing() throws Exception {
        String token = hub.joinToken(1, "15m", Map.of());
        Status s = join(RawAgent.hello("a").setJoinToken(token).putLabels("bad key", "x"));
        assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(hub.get("/api/v1/nodes").get("items")).isEmpty();
        assertThat(hub.get("/api/v1/join-tokens").get("items").get(0).get("usesLeft").asInt())
                .as("the use is given back").isEqualTo(1);
    }
}

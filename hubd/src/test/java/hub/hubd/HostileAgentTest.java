package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import hub.proto.agent.v1.AgentMessage;
import hub.proto.agent.v1.HubMessage;
import hub.proto.agent.v1.OutputStream;
import hub.proto.agent.v1.TaskOutcome;
import hub.proto.agent.v1.TaskOutput;
import hub.proto.agent.v1.TaskResult;
import hub.proto.agent.v1.TaskStarted;
import hub.proto.agent.v1.Welcome;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Agents as an attacker would write them, over real gRPC with TLS: a joined node that talks about
 * another node's task, floods the hub with task ids it was never given, abuses sequence numbers,
 * oversizes chunks, or speaks another protocol version. The stream ends with a status naming the
 * fault, nothing is stored or acknowledged, nothing stays in the hub's memory, and the other node's
 * task is untouched.
 */
class HostileAgentTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

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

    /** A node joined by hand, and the stream it can keep talking on. */
    record Node(String id, RawAgent stream, Welcome welcome) {
    }

    private Node join(String name) throws Exception {
        RawAgent raw = new RawAgent(hub.channel()).send(RawAgent.hello(name).setName(name)
                .setJoinToken(hub.joinToken(1, "15m", Map.of())));
        Welcome w = raw.next(WAIT).getWelcome();
        return new Node(w.getNodeId(), raw, w);
    }

    /** Starts {@code command} on {@code node} and returns the task id the agent was sent. */
    private String task(Node node, String command) throws Exception {
        TestHub.Answer a = hub.call("POST", "/api/v1/nodes/" + node.id() + "/tasks",
                "{\"command\": \"" + command + "\"}", hub.adminToken());
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        String id = a.json().get("id").asText();
        assertThat(node.stream().next(WAIT).getRunCommand().getTaskId()).isEqualTo(id);
        return id;
    }

    private static AgentMessage output(String task, long seq, String text) {
        return AgentMessage.newBuilder().setTaskOutput(TaskOutput.newBuilder().setTaskId(task).setSequence(seq)
                .setStream(OutputStream.OUTPUT_STREAM_STDOUT).setData(ByteString.copyFrom(text, StandardCharsets.UTF_8)))
                .build();
    }

    private static AgentMessage result(String task, int code, long lastSeq) {
        return AgentMessage.newBuilder().setTaskResult(TaskResult.newBuilder().setTaskId(task)
                .setOutcome(TaskOutcome.TASK_OUTCOME_EXITED).setExitCode(code).setLastSequence(lastSeq)
                .setFinishedAtUnixMillis(System.currentTimeMillis())).build();
    }

    private static Status ended(RawAgent raw) throws Exception {
        return raw.ended.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private double metric(String line) {
        String body = hub.call("GET", "/metrics", null, null).body();
        return body.lines().filter(l -> l.startsWith(line)).mapToDouble(l -> Double.parseDouble(l.substring(
                l.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void aNodeCannotTouchAnotherNodesTask() throws Exception {
        Node alice = join("alice-node");
        Node mallory = join("mallory-node");
        String id = task(alice, "sleep 600");

        for (AgentMessage forged : List.of(result(id, 99, 0), output(id, 1, "forged\n"),
                AgentMessage.newBuilder().setTaskStarted(TaskStarted.newBuilder().setTaskId(id)).build())) {
            Node m = forged == null ? null : join("mallory-" + forged.getBodyCase());
            m.stream().send(forged);
            Status s = ended(m.stream());
            assertThat(s.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(s.getDescription()).contains("task " + id + " was not issued to this node");
            assertThat(m.stream().received).noneMatch(HubMessage::hasOutputAck).noneMatch(HubMessage::hasResultAck);
        }
        // The stream of the first impostor stays fine as long as it says nothing of others' tasks.
        mallory.stream().heartbeat();
        assertThat(hub.get("/api/v1/tasks/" + id).get("state").asText()).isEqualTo("sent");
        assertThat(hub.get("/api/v1/nodes/" + alice.id() + "/history?tail=10").get("lines")).isEmpty();
        assertThat(metric("hub_agent_violations_total{kind=\"not_yours\"")).isEqualTo(3.0);

        // The real node's output and result are all stored.
        alice.stream().send(output(id, 1, "real\n")).send(result(id, 0, 1));
        await().atMost(WAIT).until(() -> hub.get("/api/v1/tasks/" + id).get("state").asText().equals("exited"));
        assertThat(hub.get("/api/v1/tasks/" + id).get("exitCode").asInt()).isZero();
        assertThat(hub.get("/api/v1/nodes/" + alice.id() + "/history?tail=10").get("lines").get(0).get("text").asText())
                .isEqualTo("real");
    }

    @Test
    void aFloodOfNeverIssuedTaskIdsEndsTheStreamAndLeavesNothingBehind() throws Exception {
        Node flood = join("flood-node");
        String line = "x".repeat(1000) + "\n";
        for (int i = 0; i < 31_000 && !flood.stream().ended.isDone(); i++) {
            flood.stream().send(output("t" + String.format("%015d", i), 1, line));
        }
        Status s = ended(flood.stream());
        assertThat(s.getCode()).isIn(Status.Code.PERMISSION_DENIED, Status.Code.UNAVAILABLE);
        assertThat(flood.stream().received).noneMatch(HubMessage::hasOutputAck);
        await().atMost(WAIT).until(() -> metric("hub_agent_violations_total{kind=\"not_yours\"") >= 1);
        // Nothing is held for any of those ids, and the hub answers as before.
        assertThat(metric("hub_ingest_open_tasks")).isZero();
        assertThat(hub.get("/api/v1/nodes/" + flood.id() + "/history?tail=10").get("lines")).isEmpty();
        assertThat(hub.call("GET", "/readyz", null, null).status()).isEqualTo(200);
    }

    @Test
    void sequenceAbuseIsRefusedAndAcknowledgementsOnlyGrow() throws Exception {
        Node n = join("seq-node");
        String id = task(n, "sleep 600");
        n.stream().send(output(id, 1, "one\n")).send(output(id, 2, "two\n"));
        n.stream().send(output(id, 5, "five\n"));       // a gap: dropped, not acknowledged
        n.stream().send(output(id, 1, "one again\n"));  // a resend: acknowledged up to what is stored
        n.stream().send(output(id, 3, "three\n"));
        List<Long> acks = new ArrayList<>();
        await().atMost(WAIT).until(() -> {
            HubMessage m = n.stream().received.poll(50, TimeUnit.MILLISECONDS);
            if (m != null && m.hasOutputAck()) {
                acks.add(m.getOutputAck().getSequence());
            }
            return acks.contains(3L);
        });
        for (int i = 1; i < acks.size(); i++) {
            assertThat(acks.get(i)).as("acks %s", acks).isGreaterThanOrEqualTo(acks.get(i - 1));
        }
        assertThat(acks).doesNotContain(5L);
        var lines = hub.get("/api/v1/nodes/" + n.id() + "/history?tail=10").get("lines");
        assertThat(lines).extracting(l -> l.get("text").asText()).containsExactly("one", "two", "three");

        // Sequence 0 and one past 2^63 (negative as a signed number) end the stream.
        Node zero = join("seq-zero");
        String z = task(zero, "sleep 600");
        zero.stream().send(output(z, 0, "zero\n"));
        Status s = ended(zero.stream());
        assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(s.getDescription()).contains("output sequence 0");
        Node huge = join("seq-huge");
        String h = task(huge, "sleep 600");
        huge.stream().send(output(h, Long.MIN_VALUE, "huge\n"));
        assertThat(ended(huge.stream()).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void outputAfterTheEndIsNotStoredAndAnOversizedChunkEndsTheStream() throws Exception {
        Node n = join("end-node");
        String id = task(n, "true");
        n.stream().send(output(id, 1, "done\n")).send(result(id, 0, 1));
        await().atMost(WAIT).until(() -> hub.get("/api/v1/tasks/" + id).get("state").asText().equals("exited"));
        n.stream().send(output(id, 2, "too late\n"));
        n.stream().send(output(id, 1, "done\n")); // a resend: acknowledged, not stored again
        await().atMost(WAIT).until(() -> n.stream().received.stream()
                .filter(HubMessage::hasOutputAck).count() >= 2);
        var texts = hub.get("/api/v1/nodes/" + n.id() + "/history?tail=10").get("lines").findValuesAsText("text");
        assertThat(texts).containsExactly("done");

        Node big = join("big-node");
        String b = task(big, "sleep 600");
        big.stream().send(AgentMessage.newBuilder().setTaskOutput(TaskOutput.newBuilder().setTaskId(b).setSequence(1)
                .setData(ByteString.copyFrom(new byte[(1 << 20) + 1]))).build());
        Status s = ended(big.stream());
        assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(s.getDescription()).contains("at most 1048576");
    }

    @Test
    void anotherProtocolVersionIsRefusedWithTheOneTheHubSpeaks() throws Exception {
        for (int v : new int[] {0, 2}) {
            RawAgent raw = new RawAgent(hub.channel()).send(RawAgent.hello("v" + v).setProtocolVersion(v)
                    .setJoinToken(hub.joinToken(1, "15m", Map.of())));
            Status s = ended(raw);
            assertThat(s.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(s.getDescription()).contains("protocol_version 1").contains("sent " + v);
        }
        assertThat(hub.get("/api/v1/join-tokens").get("items")).allMatch(t -> t.get("usesLeft").asInt() == 1);
    }
}

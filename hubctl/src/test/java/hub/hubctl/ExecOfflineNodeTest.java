package hub.hubctl;

import hub.hubd.TestTls;
import hub.tls.KeySlot;
import hub.tls.Pem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import hub.proto.agent.v1.AgentMessage;
import hub.proto.agent.v1.AgentServiceGrpc;
import hub.proto.agent.v1.Hello;
import hub.proto.agent.v1.HubMessage;
import hub.proto.agent.v1.OutputStream;
import hub.proto.agent.v1.TaskOutcome;
import hub.proto.agent.v1.TaskOutput;
import hub.proto.agent.v1.TaskResult;
import hub.proto.agent.v1.TaskStarted;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hubctl exec while its node drops off and comes back, driven by a hand-made agent stream (a real
 * agent would kill its task when stopped): exec says so both times and still ends with the result.
 */
class ExecOfflineNodeTest {
    static final Duration WAIT = Duration.ofSeconds(10);
    TestHub hub;
    ManagedChannel channel;

    @BeforeEach
    void start(@TempDir Path dir) {
        hub = new TestHub(dir);
        channel = TestTls.channel(hub.hub, new KeySlot());
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        hub.close();
    }

    /** One agent stream, by hand. */
    final class Stream {
        final LinkedBlockingQueue<HubMessage> received = new LinkedBlockingQueue<>();
        final StreamObserver<AgentMessage> out;

        Stream(io.grpc.Channel via, Hello.Builder hello) {
            out = AgentServiceGrpc.newStub(via).connect(new StreamObserver<>() {
                @Override
                public void onNext(HubMessage m) {
                    received.add(m);
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                }
            });
            out.onNext(AgentMessage.newBuilder().setHello(hello.setHostname("h").setOs("Linux").setArch("amd64")
                    .setAgentVersion("raw").setProtocolVersion(1).setName("flaky-1")).build());
        }

        HubMessage next() throws InterruptedException {
            HubMessage m = received.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(m).as("a message from the hub").isNotNull();
            return m;
        }

        void send(AgentMessage m) {
            out.onNext(m);
        }
    }

    @Test
    void execSaysWhenTheNodeWentOfflineAndWhenItIsBackAndEndsWithTheResult() throws Exception {
        String joinToken = Cli.run(hub.url, hub.token, "tokens", "create").out().strip();
        java.security.KeyPair keys = TestTls.keys();
        Stream first = new Stream(channel, Hello.newBuilder().setJoinToken(joinToken)
                .setCsr(ByteString.copyFrom(TestTls.csr(keys))));
        var welcome = first.next().getWelcome();
        KeySlot identity = new KeySlot();
        identity.set(keys.getPrivate(), java.util.List.of(Pem.certificate(welcome.getNodeCertificate().toByteArray())));
        io.grpc.ManagedChannel withCert = TestTls.channel(hub.hub, identity);

        Cli.Background exec = new Cli.Background(hub.url, hub.token, "exec", "flaky-1", "--", "sleep", "600");
        String taskId = first.next().getRunCommand().getTaskId();
        first.send(AgentMessage.newBuilder().setTaskStarted(TaskStarted.newBuilder().setTaskId(taskId)
                .setStartedAtUnixMillis(System.currentTimeMillis())).build());

        first.out.onCompleted(); // the link drops; the task would still run on the node
        await().atMost(WAIT).until(() -> exec.err().contains(
                "hubctl: node flaky-1 went offline (stream closed); waiting for it to come back"));
        assertThat(exec.alive()).isTrue();

        Stream second = new Stream(withCert, Hello.newBuilder().setNodeId(welcome.getNodeId()).addPendingTaskIds(taskId));
        assertThat(second.next().hasWelcome()).isTrue();
        await().atMost(WAIT).until(() -> exec.err().contains("hubctl: node flaky-1 is back online"));
        second.send(AgentMessage.newBuilder().setTaskOutput(TaskOutput.newBuilder().setTaskId(taskId)
                .setStream(OutputStream.OUTPUT_STREAM_STDOUT).setSequence(1)
                .setData(ByteString.copyFrom("woke up\n", StandardCharsets.UTF_8))).build());
        second.send(AgentMessage.newBuilder().setTaskResult(TaskResult.newBuilder().setTaskId(taskId)
                .setOutcome(TaskOutcome.TASK_OUTCOME_EXITED).setExitCode(0).setLastSequence(1)
                .setFinishedAtUnixMillis(System.currentTimeMillis())).build());

        await().atMost(WAIT).until(() -> !exec.alive());
        assertThat(exec.code()).as(exec.err()).isZero();
        assertThat(exec.out()).isEqualTo("woke up\n");
        second.out.onCompleted();
        withCert.shutdownNow();
    }
}

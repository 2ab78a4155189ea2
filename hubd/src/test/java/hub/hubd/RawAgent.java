package hub.hubd;

import hub.proto.agent.v1.AgentMessage;
import hub.proto.agent.v1.AgentServiceGrpc;
import hub.proto.agent.v1.Heartbeat;
import hub.proto.agent.v1.Hello;
import hub.proto.agent.v1.HubMessage;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A hand-driven agent stream for tests that need to misbehave (no heartbeats) or to see exactly
 * what the hub sends.
 */
final class RawAgent {
    /** The key pair every raw agent's CSR is for (the hub does not mind a shared key). */
    static final java.security.KeyPair KEYS = TestTls.keys();
    private static final com.google.protobuf.ByteString CSR = com.google.protobuf.ByteString.copyFrom(TestTls.csr(KEYS));

    final LinkedBlockingQueue<HubMessage> received = new LinkedBlockingQueue<>();
    final CompletableFuture<Status> ended = new CompletableFuture<>();
    /** The trailers the stream ended with (empty when it ended without any). */
    final CompletableFuture<io.grpc.Metadata> trailers = new CompletableFuture<>();
    private final StreamObserver<AgentMessage> out;

    RawAgent(Channel channel) {
        out = AgentServiceGrpc.newStub(channel).connect(new StreamObserver<>() {
            @Override
            public void onNext(HubMessage m) {
                received.add(m);
            }

            @Override
            public void onError(Throwable t) {
                io.grpc.Metadata m = Status.trailersFromThrowable(t);
                trailers.complete(m == null ? new io.grpc.Metadata() : m);
                ended.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                ended.complete(Status.OK);
            }
        });
    }

    /** A Hello with a CSR for {@link #KEYS}, as a joining agent sends it; add the auth. */
    static Hello.Builder hello(String hostname) {
        return Hello.newBuilder().setHostname(hostname).setOs("Linux").setArch("amd64").setAgentVersion("raw")
                .setProtocolVersion(1).setCsr(CSR);
    }

    /** A key slot presenting the certificate a Welcome carried, for the node's later connections. */
    static hub.tls.KeySlot identity(hub.proto.agent.v1.Welcome w) {
        hub.tls.KeySlot slot = new hub.tls.KeySlot();
        slot.set(KEYS.getPrivate(), java.util.List.of(hub.tls.Pem.certificate(w.getNodeCertificate().toByteArray())));
        return slot;
    }

    RawAgent send(Hello.Builder hello) {
        out.onNext(AgentMessage.newBuilder().setHello(hello).build());
        return this;
    }

    RawAgent send(AgentMessage message) {
        out.onNext(message);
        return this;
    }

    void heartbeat() {
        out.onNext(AgentMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder()
                .setSentAtUnixMillis(System.currentTimeMillis())).build());
    }

    HubMessage next(Duration timeout) throws InterruptedException {
        HubMessage m = received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (m == null) {
            throw new AssertionError("nothing from the hub within " + timeout
                    + (ended.isDone() ? "; stream ended with " + ended.getNow(null) : ""));
        }
        return m;
    }

    void close() {
        out.onCompleted();
    }
}

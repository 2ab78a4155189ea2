package hub.hubd.grpc;

import hub.hubd.registry.NodeJoiner;
import hub.hubd.registry.NodeRegistry;
import hub.proto.agent.v1.AgentMessage;
import hub.proto.agent.v1.AgentServiceGrpc;
import hub.proto.agent.v1.HubMessage;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.net.SocketAddress;
import java.util.concurrent.ScheduledExecutorService;

/** The {@code hub.agent.v1.AgentService} implementation: one {@link AgentStream} per Connect. */
final class AgentService extends AgentServiceGrpc.AgentServiceImplBase {
    static final Context.Key<SocketAddress> REMOTE = Context.key("remote");
    static final Context.Key<javax.net.ssl.SSLSession> TLS_SESSION = Context.key("tls-session");

    private final NodeRegistry registry;
    private final NodeJoiner joiner;
    private final hub.hubd.tasks.TaskIngest ingest;
    private final hub.hubd.files.FileRelay files;
    private final String hubId;
    private final ScheduledExecutorService timers;
    private final hub.hubd.tls.NodeCertificates certificates;
    private final java.util.concurrent.Executor callbacks;
    private final Violations violations;

    AgentService(NodeRegistry registry, NodeJoiner joiner, hub.hubd.tasks.TaskIngest ingest,
            hub.hubd.files.FileRelay files, String hubId,
            ScheduledExecutorService timers, hub.hubd.tls.NodeCertificates certificates,
            java.util.concurrent.Executor callbacks, Violations violations) {
        this.violations = violations;
        this.certificates = certificates;
        this.callbacks = callbacks;
        this.registry = registry;
        this.joiner = joiner;
        this.ingest = ingest;
        this.files = files;
        this.hubId = hubId;
        this.timers = timers;
    }

    @Override
    public StreamObserver<AgentMessage> connect(StreamObserver<HubMessage> responseObserver) {
        SocketAddress remote = REMOTE.get();
        return new AgentStream((ServerCallStreamObserver<HubMessage>) responseObserver, registry, joiner, ingest, files,
                remote == null ? "unknown" : remote.toString(), hubId, timers, certificates,
                PeerCertificate.of(TLS_SESSION.get()), callbacks, violations);
    }

    /** Puts the peer address (for logs) and the TLS session (for the client certificate) into the call context. */
    static final class RemoteAddressInterceptor implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                ServerCallHandler<Q, R> next) {
            Context ctx = Context.current().withValues(REMOTE,
                    call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), TLS_SESSION,
                    call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
            return Contexts.interceptCall(ctx, call, headers, next);
        }
    }
}

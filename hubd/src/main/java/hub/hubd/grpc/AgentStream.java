package hub.hubd.grpc;

import hub.hubd.core.HubException;
import hub.hubd.core.Ids;
import hub.hubd.registry.AgentHello;
import hub.hubd.registry.NodeJoiner;
import hub.hubd.registry.NodeRegistry;
import hub.hubd.registry.NodeSession;
import hub.hubd.registry.NodeSession.Violation;
import hub.hubd.registry.OfflineReason;
import hub.hubd.registry.Welcome;
import hub.hubd.tasks.TaskIngest;
import hub.hubd.tasks.TaskState;
import hub.proto.agent.v1.AgentMessage;
import hub.proto.agent.v1.Cancel;
import hub.proto.agent.v1.OutputAck;
import hub.proto.agent.v1.OutputStream;
import hub.proto.agent.v1.ResultAck;
import hub.proto.agent.v1.RunCommand;
import hub.proto.agent.v1.TaskOutcome;
import hub.proto.agent.v1.Drain;
import hub.proto.agent.v1.Hello;
import hub.proto.agent.v1.HubMessage;
import hub.proto.agent.v1.NodeCertificate;
import com.google.protobuf.ByteString;
import hub.hubd.tls.NodeCertificates;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent's Connect stream. gRPC calls {@link #onNext} serially on its executor; the registry
 * may call {@link #drain} and {@link #close} from other threads, so every outbound write goes
 * through {@link #send}, which serializes them. Nothing here blocks: reconnects and heartbeats
 * are memory-only, first joins are handed to {@link NodeJoiner}'s pool.
 */
final class AgentStream implements StreamObserver<AgentMessage>, NodeSession {
    private static final Logger log = LoggerFactory.getLogger(AgentStream.class);
    static final long HELLO_TIMEOUT_MS = 30_000;
    /** The protocol this hub speaks (Hello.protocol_version). */
    static final int PROTOCOL_VERSION = 1;
    /** Largest output chunk taken; the agent sends at most 16 KiB. */
    static final int MAX_CHUNK_BYTES = 1 << 20;
    /** Longest task id taken: the hub's ids are 16 characters. */
    static final int MAX_TASK_ID = 64;

    private final ServerCallStreamObserver<HubMessage> out;
    private final NodeRegistry registry;
    private final NodeJoiner joiner;
    private final TaskIngest ingest;
    private final hub.hubd.files.FileRelay files;
    private final String remote;
    private final String hubId;
    private final AtomicBoolean helloSeen = new AtomicBoolean();
    private volatile Set<String> pendingAtHello = Set.of();
    private final ScheduledFuture<?> helloTimeout;
    private final ScheduledExecutorService timers;
    private final Violations violations;
    /** The callback pool, where a joined node's certificate is signed. */
    private final java.util.concurrent.Executor executor;
    /** Signs node certificates; null on a hub without TLS. */
    private final NodeCertificates certificates;
    /** The client certificate of this connection, or null. */
    private final PeerCertificate peer;
    private volatile String nodeId;
    /** The node's name as its Welcome gave it. */
    private volatile String nodeName;
    private volatile boolean closed;
    /** Ends the stream when the node's newest certificate expires (replaced on renewal). */
    private ScheduledFuture<?> certificateExpiry;
    private long lastRenewalNanos;

    /** A renewal sooner than this after the last one on the same stream is ignored (and counted). */
    static final long RENEWAL_MIN_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    AgentStream(ServerCallStreamObserver<HubMessage> out, NodeRegistry registry, NodeJoiner joiner,
            TaskIngest ingest, hub.hubd.files.FileRelay files, String remote, String hubId, ScheduledExecutorService timers,
            NodeCertificates certificates, PeerCertificate peer, java.util.concurrent.Executor executor,
            Violations violations) {
        this.violations = violations;
        this.timers = timers;
        this.executor = executor;
        this.certificates = certificates;
        this.peer = peer;
        this.lastRenewalNanos = System.nanoTime() - RENEWAL_MIN_INTERVAL_NANOS;
        this.out = out;
        this.registry = registry;
        this.joiner = joiner;
        this.ingest = ingest;
        this.files = files;
        this.remote = remote;
        this.hubId = hubId;
        this.helloTimeout = timers.schedule(
                () -> fail(Status.DEADLINE_EXCEEDED.withDescription("no hello within 30s")),
                HELLO_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        out.setOnCancelHandler(() -> streamEnded(OfflineReason.STREAM_CLOSED));
    }

    /** When a message other than a heartbeat last counted as a sign of life (gRPC callbacks, serialized). */
    private long lastHeardNanos;
    /** How often such a message counts: a quarter of the heartbeat interval (set at the Welcome). */
    private volatile long heardEveryNanos = TimeUnit.SECONDS.toNanos(1);

    @Override
    public void onNext(AgentMessage msg) {
        String heard = nodeId;
        if (heard != null && msg.getBodyCase() != AgentMessage.BodyCase.HEARTBEAT) {
            long now = System.nanoTime();
            if (now - lastHeardNanos > heardEveryNanos) { // a few registry writes an interval, not one a chunk
                lastHeardNanos = now;
                registry.heard(heard, this);
            }
        }
        switch (msg.getBodyCase()) {
            case HELLO -> {
                if (helloSeen.getAndSet(true)) {
                    fail(Status.INVALID_ARGUMENT.withDescription("hello sent twice on one stream"));
                } else {
                    onHello(msg.getHello());
                }
            }
            case HEARTBEAT -> {
                String id = nodeId;
                if (id == null) {
                    fail(Status.FAILED_PRECONDITION.withDescription("heartbeat before welcome"));
                } else {
                    registry.heartbeat(id, this);
                }
            }
            case TASK_STARTED, TASK_OUTPUT, TASK_RESULT -> {
                String id = nodeId;
                if (id == null) {
                    fail(Status.FAILED_PRECONDITION.withDescription("task message before welcome"));
                } else {
                    onTaskMessage(id, msg);
                }
            }
            case INPUT_ACK -> {
                String id = nodeId;
                var a = msg.getInputAck();
                if (id == null) {
                    fail(Status.FAILED_PRECONDITION.withDescription("task message before welcome"));
                } else if (a.getTaskId().isEmpty() || a.getTaskId().length() > MAX_TASK_ID
                        || a.getError().length() > 1024) {
                    violated(Violation.INVALID, "input_ack: task_id of 1 to " + MAX_TASK_ID
                            + " characters and an error of at most 1024");
                } else {
                    ingest.inputAcked(id, a.getTaskId(), a.getSequence(), a.getError());
                }
            }
            case FILE_STATUS, FILE_DATA, FILE_ACK -> {
                String id = nodeId;
                if (id == null) {
                    fail(Status.FAILED_PRECONDITION.withDescription("file message before welcome"));
                } else if (msg.hasFileStatus()) {
                    files.status(id, this, msg.getFileStatus());
                } else if (msg.hasFileData()) {
                    files.data(id, this, msg.getFileData());
                } else {
                    files.ack(id, this, msg.getFileAck());
                }
            }
            case RENEW_CERTIFICATE -> {
                String id = nodeId;
                if (id == null) {
                    fail(Status.FAILED_PRECONDITION.withDescription("certificate renewal before welcome"));
                } else {
                    onRenewal(id, msg.getRenewCertificate().getCsr().toByteArray());
                }
            }
            // Unknown cases are ignored (forward compatibility).
            default -> log.debug("ignoring {} from {}", msg.getBodyCase(), remote);
        }
    }

    private void onRenewal(String id, byte[] csr) {
        if (certificates == null) {
            log.debug("ignoring a certificate renewal from {}: this hub runs without TLS", remote);
            return;
        }
        long now = System.nanoTime();
        if (now - lastRenewalNanos < RENEWAL_MIN_INTERVAL_NANOS) {
            log.debug("ignoring a certificate renewal from node {}: one was issued less than a minute ago", id);
            return;
        }
        java.security.PublicKey key;
        try {
            key = certificates.verifyCsr(csr);
        } catch (HubException e) {
            fail(GrpcErrors.status(e));
            return;
        }
        lastRenewalNanos = now;
        NodeCertificates.Issued issued = certificates.issue(id, key);
        registry.certificateIssued(id, issued.notAfter());
        expireAt(issued.notAfter());
        send(HubMessage.newBuilder().setNodeCertificate(NodeCertificate.newBuilder()
                .setCertificate(ByteString.copyFrom(issued.der()))).build());
        log.info("node {} renewed its certificate: valid until {}", id, issued.notAfter());
    }

    /** Ends this stream when the node's certificate expires, unless a renewal moves that on. */
    private synchronized void expireAt(java.time.Instant notAfter) {
        if (certificateExpiry != null) {
            certificateExpiry.cancel(false);
        }
        long delay = Math.max(0, notAfter.toEpochMilli() - System.currentTimeMillis());
        certificateExpiry = timers.schedule(() -> fail(Status.UNAUTHENTICATED.withDescription(
                "the node certificate expired at " + notAfter + "; join again with a join token")),
                delay, TimeUnit.MILLISECONDS);
    }

    private void onTaskMessage(String id, AgentMessage msg) {
        String task = switch (msg.getBodyCase()) {
            case TASK_STARTED -> msg.getTaskStarted().getTaskId();
            case TASK_OUTPUT -> msg.getTaskOutput().getTaskId();
            default -> msg.getTaskResult().getTaskId();
        };
        if (task.isEmpty() || task.length() > MAX_TASK_ID) {
            violated(Violation.INVALID, "task_id must be 1 to " + MAX_TASK_ID + " characters");
            return;
        }
        if (msg.hasTaskOutput()) {
            var o = msg.getTaskOutput();
            if (o.getSequence() < 1) {
                violated(Violation.INVALID, "task " + task + ": output sequence " + Long.toUnsignedString(o.getSequence())
                        + " (they start at 1 and fit in a signed 64-bit number)");
                return;
            }
            if (o.getData().size() > MAX_CHUNK_BYTES) {
                violated(Violation.INVALID, "task " + task + ": an output chunk of " + o.getData().size()
                        + " bytes (at most " + MAX_CHUNK_BYTES + ")");
                return;
            }
        }
        switch (msg.getBodyCase()) {
            case TASK_STARTED -> ingest.started(id, this, msg.getTaskStarted().getTaskId(),
                    msg.getTaskStarted().getStartedAtUnixMillis());
            case TASK_OUTPUT -> {
                var o = msg.getTaskOutput();
                ingest.output(id, this, o.getTaskId(), o.getStream() == OutputStream.OUTPUT_STREAM_STDERR,
                        o.getSequence(), o.getData().toByteArray());
            }
            case TASK_RESULT -> {
                var r = msg.getTaskResult();
                ingest.result(id, this, r.getTaskId(), stateOf(r.getOutcome()), r.getExitCode(), r.getError(),
                        r.getLastSequence(), r.getStartedAtUnixMillis(), r.getFinishedAtUnixMillis());
            }
            default -> throw new IllegalStateException("not a task message: " + msg.getBodyCase());
        }
    }

    private static TaskState stateOf(TaskOutcome o) {
        return switch (o) {
            case TASK_OUTCOME_EXITED -> TaskState.EXITED;
            case TASK_OUTCOME_TIMED_OUT -> TaskState.TIMED_OUT;
            case TASK_OUTCOME_CANCELLED -> TaskState.CANCELLED;
            default -> TaskState.FAILED;
        };
    }

    private void onHello(Hello hello) {
        if (hello.getProtocolVersion() != PROTOCOL_VERSION) {
            fail(Status.FAILED_PRECONDITION.withDescription("this hub speaks protocol_version " + PROTOCOL_VERSION
                    + " (hub.agent.v1); the agent sent " + hello.getProtocolVersion()));
            return;
        }
        if (hello.getPendingTaskIdsCount() > 4 * hub.hubd.tasks.TaskService.MAX_UNFINISHED) {
            fail(Status.INVALID_ARGUMENT.withDescription("more pending_task_ids than a node can have tasks"));
            return;
        }
        AgentHello ah;
        java.security.PublicKey csrKey = null;
        try {
            ah = new AgentHello(hello.getHostname(), hello.getOs(), hello.getArch(),
                    hello.getAgentVersion(), hello.getName(), hello.getLabelsMap());
            if (certificates != null && hello.getAuthCase() != Hello.AuthCase.NODE_ID && !hello.getCsr().isEmpty()) {
                csrKey = certificates.verifyCsr(hello.getCsr().toByteArray());
            }
        } catch (HubException e) {
            fail(GrpcErrors.status(e));
            return;
        }
        // A name is never another node's id: ids resolve first, but nobody should be able to pose as one.
        String name = ah.displayName();
        if (registry.get(name).isPresent() && !(hello.getAuthCase() == Hello.AuthCase.NODE_ID
                && name.equals(hello.getNodeId()))) {
            fail(Status.INVALID_ARGUMENT.withDescription("the node name '" + name + "' is another node's id; "
                    + "give another --name"));
            return;
        }
        pendingAtHello = Set.copyOf(hello.getPendingTaskIdsList());
        switch (hello.getAuthCase()) {
            case NODE_ID -> reconnectByCertificate(hello.getNodeId(), ah);
            case NODE_CREDENTIAL -> reconnectByCredential(hello.getNodeCredential(), ah, csrKey);
            case JOIN_TOKEN -> join(hello.getJoinToken(), ah, csrKey);
            default -> fail(Status.UNAUTHENTICATED.withDescription(
                    "hello needs a join token, a node id (with the node's client certificate) or a node credential"));
        }
    }

    /**
     * A first join. Over TLS it needs a CSR, and the certificate is signed once the join is stored,
     * on the callback pool rather than the joiner thread (the joiner only does the database), so
     * signing spreads over the cores and nothing is signed for a token that was refused.
     */
    private void join(String token, AgentHello ah, java.security.PublicKey csrKey) {
        if (certificates != null && csrKey == null) {
            fail(Status.INVALID_ARGUMENT.withDescription(
                    "this hub issues node certificates: send a csr with the join token"));
            return;
        }
        joiner.join(token, ah, this).whenCompleteAsync((w, err) -> {
            Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                    ? err.getCause() : err;
            if (cause == null) {
                try {
                    welcomed(csrKey == null ? w : withCertificate(w, csrKey));
                    return;
                } catch (RuntimeException e) {
                    cause = e;
                }
            } else if (cause instanceof HubException he) {
                log.info("rejected join from {}: {}", remote, hub.hubd.core.LogText.safe(he.getMessage()));
            }
            fail(GrpcErrors.status(cause));
        }, executor);
    }

    /** {@code w} with a certificate for the node's key, signed now. */
    private Welcome withCertificate(Welcome w, java.security.PublicKey key) {
        NodeCertificates.Issued issued = certificates.issue(w.nodeId(), key);
        registry.certificateIssued(w.nodeId(), issued.notAfter());
        expireAt(issued.notAfter());
        return w.withCertificate(issued.der());
    }

    /** A node that presents the client certificate the hub signed for it. */
    private void reconnectByCertificate(String claimed, AgentHello ah) {
        String why = null;
        if (certificates == null) {
            why = "this hub runs without TLS: it cannot see a client certificate";
        } else if (peer == null) {
            why = "no client certificate on this connection: present the node certificate, or join with a join token";
        } else if (peer.nodeId() == null) {
            why = "the client certificate names no node";
        } else if (!peer.nodeId().equals(claimed)) {
            why = "the client certificate is node " + peer.nodeId() + "'s, not " + claimed + "'s";
        }
        if (why != null) {
            log.info("rejected reconnect from {}: {}", remote, why);
            fail(Status.UNAUTHENTICATED.withDescription(why));
            return;
        }
        var adopter = registry.adopter();
        if (adopter != null && registry.info(claimed) == null) {
            // A cluster: another hub let this node in since this one loaded its nodes.
            adopter.adopt(claimed).whenCompleteAsync((known, err) -> {
                if (err != null) { // not "unknown": the store could not say; the agent keeps its identity
                    log.info("reconnect from {}: cannot look node {} up now: {}", remote, claimed, err.toString());
                    fail(Status.UNAVAILABLE.withDescription("the hub cannot look this node up right now; retry"));
                } else {
                    reconnectKnown(claimed, ah);
                }
            }, executor);
            return;
        }
        reconnectKnown(claimed, ah);
    }

    private void reconnectKnown(String claimed, AgentHello ah) {
        try {
            welcomed(registry.reconnectById(claimed, ah, this));
            expireAt(peer.notAfter());
        } catch (HubException e) {
            log.info("rejected reconnect from {}: {}", remote, hub.hubd.core.LogText.safe(e.getMessage()));
            refuse(e);
        }
    }

    /**
     * A reconnect the registry refused: an unknown node (removed) says so in the trailers
     * ({@link #REFUSAL}: {@value #NODE_UNKNOWN}), the one refusal after which an agent should give
     * up its identity and join again; every other refusal leaves the agent's identity alone.
     */
    private void refuse(HubException e) {
        Status status = GrpcErrors.status(e);
        if (e.kind() == HubException.Kind.UNAUTHENTICATED) {
            io.grpc.Metadata trailers = new io.grpc.Metadata();
            trailers.put(REFUSAL, NODE_UNKNOWN);
            failWith(status, trailers);
        } else {
            fail(status);
        }
    }

    /** The trailer that says why a Hello was refused, when the agent should act on it. */
    static final io.grpc.Metadata.Key<String> REFUSAL =
            io.grpc.Metadata.Key.of("hub-refusal", io.grpc.Metadata.ASCII_STRING_MARSHALLER);
    /** {@link #REFUSAL}: the hub has no such node (removed): join again with a join token. */
    static final String NODE_UNKNOWN = "node-unknown";

    /**
     * A node with a bearer credential: how every node reconnects on a hub without TLS. Over TLS it
     * is accepted once more, with a CSR, and answered with a certificate; the credential then stops
     * working.
     */
    private void reconnectByCredential(String credential, AgentHello ah, java.security.PublicKey csrKey) {
        if (certificates != null && csrKey == null) {
            String why = "node credentials are no longer accepted by this hub: send a csr with it once to get a "
                    + "node certificate (hub-agent does this by itself from version 0.2)";
            log.info("rejected reconnect from {}: {}", remote, why);
            fail(Status.UNAUTHENTICATED.withDescription(why));
            return;
        }
        try {
            Welcome w = registry.reconnect(Ids.hash(credential), ah, this);
            if (csrKey != null) {
                w = withCertificate(w, csrKey);
                log.info("node {} moved from its credential to a certificate", w.nodeId());
            }
            welcomed(w);
        } catch (HubException e) {
            log.info("rejected reconnect from {}: {}", remote, hub.hubd.core.LogText.safe(e.getMessage()));
            refuse(e);
        }
    }

    private void welcomed(Welcome w) {
        helloTimeout.cancel(false);
        heardEveryNanos = w.heartbeatInterval().toNanos() / 4;
        nodeId = w.nodeId();
        nodeName = w.nodeName();
        var b = hub.proto.agent.v1.Welcome.newBuilder()
                .setNodeId(w.nodeId())
                .setNodeName(w.nodeName())
                .setHeartbeatIntervalMillis(w.heartbeatInterval().toMillis())
                .setHubId(hubId);
        if (w.credential() != null) {
            b.setNodeCredential(w.credential());
        }
        if (w.certificate() != null) {
            b.setNodeCertificate(ByteString.copyFrom(w.certificate()));
        }
        send(HubMessage.newBuilder().setWelcome(b).build());
        if (!w.joined()) {
            ingest.reconcile(w.nodeId(), this, pendingAtHello); // a known node: settle what it lost
        }
        log.info("node {} ({}) online from {}{}", w.nodeName(), w.nodeId(), remote,
                w.joined() ? " (joined)" : "");
        if (closed) {
            // The agent went away while its join was in flight: don't leave it online.
            registry.detach(w.nodeId(), this, OfflineReason.STREAM_CLOSED);
        }
    }

    @Override
    public void onError(Throwable t) {
        streamEnded(OfflineReason.STREAM_CLOSED);
    }

    @Override
    public void onCompleted() {
        streamEnded(OfflineReason.STREAM_CLOSED);
        synchronized (this) {
            if (!closedForWrites) {
                closedForWrites = true;
                try {
                    out.onCompleted();
                } catch (RuntimeException e) {
                    log.debug("completing stream of {} failed", remote, e);
                }
            }
        }
    }

    private void streamEnded(String reason) {
        closed = true;
        helloTimeout.cancel(false);
        synchronized (this) {
            if (certificateExpiry != null) {
                certificateExpiry.cancel(false);
            }
        }
        files.streamEnded(this);
        String id = nodeId;
        if (id != null && registry.detach(id, this, reason)) {
            log.info("node {} offline: {}", id, reason);
        }
    }

    // --- outbound, serialized ----------------------------------------------------------------

    private boolean closedForWrites;

    private synchronized boolean send(HubMessage m) {
        if (closedForWrites || out.isCancelled()) {
            return false;
        }
        try {
            out.onNext(m);
            return true;
        } catch (RuntimeException e) {
            log.debug("send to {} failed", remote, e);
            return false;
        }
    }

    private synchronized void fail(Status status) {
        failWith(status, null);
    }

    private synchronized void failWith(Status status, io.grpc.Metadata trailers) {
        if (closedForWrites) {
            return;
        }
        closedForWrites = true;
        try {
            out.onError(status.asRuntimeException(trailers));
        } catch (RuntimeException e) {
            log.debug("failing stream of {} failed", remote, e);
        }
        streamEnded(OfflineReason.STREAM_CLOSED);
    }

    @Override
    public void drain(String reason) {
        drain(reason, java.util.List.of());
    }

    @Override
    public void drain(String reason, java.util.List<String> hubs) {
        drain(reason, hubs, java.time.Duration.ZERO);
    }

    @Override
    public void drain(String reason, java.util.List<String> hubs, java.time.Duration window) {
        send(HubMessage.newBuilder().setDrain(Drain.newBuilder().setReason(reason).addAllHubs(hubs)
                .setReconnectWindowMillis(window.toMillis())).build());
    }

    @Override
    public void close(String reason) {
        fail(Status.UNAVAILABLE.withDescription(reason));
    }

    @Override
    public void violated(Violation violation, String reason) {
        Status status = switch (violation) {
            case NOT_YOURS -> Status.PERMISSION_DENIED;
            case INVALID -> Status.INVALID_ARGUMENT;
            case OVER_LIMIT -> Status.RESOURCE_EXHAUSTED;
        };
        violations.seen(violation, nodeId == null ? remote : nodeId, reason);
        fail(status.withDescription(reason));
    }

    @Override
    public String remoteAddress() {
        return remote;
    }

    @Override
    public boolean runCommand(String taskId, String shellCommand, java.util.List<String> argv, long timeoutMillis,
            String runAs, boolean stdin) {
        var b = RunCommand.newBuilder().setTaskId(taskId).setTimeoutMillis(timeoutMillis)
                // what a command may want to know about where it runs (as SSM's AWS_SSM_INSTANCE_ID)
                .putEnv("HUB_TASK_ID", taskId).putEnv("HUB_NODE_ID", nodeId).putEnv("HUB_NODE_NAME", nodeName);
        if (runAs != null) {
            b.setRunAs(runAs);
        }
        b.setStdin(stdin);
        if (shellCommand != null) {
            b.setShellCommand(shellCommand);
        } else {
            b.addAllArgv(argv);
        }
        return send(HubMessage.newBuilder().setRunCommand(b).build());
    }

    @Override
    public boolean runTerminal(String taskId, String command, String runAs, String term, int columns, int rows,
            java.util.Map<String, String> env) {
        var b = RunCommand.newBuilder().setTaskId(taskId).putAllEnv(env)
                .putEnv("HUB_TASK_ID", taskId).putEnv("HUB_NODE_ID", nodeId).putEnv("HUB_NODE_NAME", nodeName)
                .setStdin(true)
                .setTerminal(hub.proto.agent.v1.Terminal.newBuilder().setTerm(term).setColumns(columns).setRows(rows));
        if (runAs != null) {
            b.setRunAs(runAs);
        }
        if (command != null) {
            b.setShellCommand(command);
        }
        return send(HubMessage.newBuilder().setRunCommand(b).build());
    }

    @Override
    public boolean sendFileMessage(HubMessage message) {
        return send(message);
    }

    @Override
    public void resizeTerminal(String taskId, int columns, int rows) {
        send(HubMessage.newBuilder().setTerminalResize(hub.proto.agent.v1.TerminalResize.newBuilder()
                .setTaskId(taskId).setColumns(columns).setRows(rows)).build());
    }

    @Override
    public void sendInput(String taskId, long sequence, byte[] data, boolean eof) {
        send(HubMessage.newBuilder().setTaskInput(hub.proto.agent.v1.TaskInput.newBuilder().setTaskId(taskId)
                .setSequence(sequence).setData(ByteString.copyFrom(data)).setEof(eof)).build());
    }

    @Override
    public void cancelTask(String taskId, String reason) {
        send(HubMessage.newBuilder().setCancel(Cancel.newBuilder().setTaskId(taskId).setReason(reason)).build());
    }

    @Override
    public void ackOutput(String taskId, long sequence) {
        send(HubMessage.newBuilder().setOutputAck(OutputAck.newBuilder().setTaskId(taskId).setSequence(sequence))
                .build());
    }

    @Override
    public void ackResult(String taskId) {
        send(HubMessage.newBuilder().setResultAck(ResultAck.newBuilder().setTaskId(taskId)).build());
    }
}

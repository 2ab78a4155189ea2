package hub.hubd.grpc;

import hub.hubd.core.HubException;
import hub.hubd.core.Ids;
import hub.hubd.registry.AgentHello;
import hub.hubd.registry.NodeJoiner;
import hub.hubd.registry.NodeRegistry;
import hub.hubd.registry.NodeSession;
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

    private final ServerCallStreamObserver<HubMessage> out;
    private final NodeRegistry registry;
    private final NodeJoiner joiner;
    private final TaskIngest ingest;
    private final String remote;
    private final String hubId;
    private final AtomicBoolean helloSeen = new AtomicBoolean();
    private volatile Set<String> pendingAtHello = Set.of();
    private final ScheduledFuture<?> helloTimeout;
    private volatile String nodeId;
    private volatile boolean closed;

    AgentStream(ServerCallStreamObserver<HubMessage> out, NodeRegistry registry, NodeJoiner joiner,
            TaskIngest ingest, String remote, String hubId, ScheduledExecutorService timers) {
        this.out = out;
        this.registry = registry;
        this.joiner = joiner;
        this.ingest = ingest;
        this.remote = remote;
        this.hubId = hubId;
        this.helloTimeout = timers.schedule(
                () -> fail(Status.DEADLINE_EXCEEDED.withDescription("no hello within 30s")),
                HELLO_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        out.setOnCancelHandler(() -> streamEnded(OfflineReason.STREAM_CLOSED));
    }

    @Override
    public void onNext(AgentMessage msg) {
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
            // Unknown cases are ignored (forward compatibility).
            default -> log.debug("ignoring {} from {}", msg.getBodyCase(), remote);
        }
    }

    private void onTaskMessage(String id, AgentMessage msg) {
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
        AgentHello ah;
        try {
            ah = new AgentHello(hello.getHostname(), hello.getOs(), hello.getArch(),
                    hello.getAgentVersion(), hello.getName(), hello.getLabelsMap());
        } catch (HubException e) {
            fail(GrpcErrors.status(e));
            return;
        }
        pendingAtHello = Set.copyOf(hello.getPendingTaskIdsList());
        switch (hello.getAuthCase()) {
            case NODE_CREDENTIAL -> {
                try {
                    welcomed(registry.reconnect(Ids.hash(hello.getNodeCredential()), ah, this));
                } catch (HubException e) {
                    log.info("rejected reconnect from {}: {}", remote, e.getMessage());
                    fail(GrpcErrors.status(e));
                }
            }
            case JOIN_TOKEN -> joiner.join(hello.getJoinToken(), ah, this).whenComplete((w, err) -> {
                if (err == null) {
                    welcomed(w);
                } else {
                    Throwable cause = err instanceof java.util.concurrent.CompletionException
                            && err.getCause() != null ? err.getCause() : err;
                    if (cause instanceof HubException he) {
                        log.info("rejected join from {}: {}", remote, he.getMessage());
                    }
                    fail(GrpcErrors.status(cause));
                }
            });
            default -> fail(Status.UNAUTHENTICATED.withDescription("hello needs a join token or a node credential"));
        }
    }

    private void welcomed(Welcome w) {
        helloTimeout.cancel(false);
        nodeId = w.nodeId();
        var b = hub.proto.agent.v1.Welcome.newBuilder()
                .setNodeId(w.nodeId())
                .setNodeName(w.nodeName())
                .setHeartbeatIntervalMillis(w.heartbeatInterval().toMillis())
                .setHubId(hubId);
        if (w.credential() != null) {
            b.setNodeCredential(w.credential());
        }
        send(HubMessage.newBuilder().setWelcome(b).build());
        if (w.credential() == null) {
            ingest.reconcile(w.nodeId(), this, pendingAtHello); // a known node: settle what it lost
        }
        log.info("node {} ({}) online from {}{}", w.nodeName(), w.nodeId(), remote,
                w.credential() != null ? " (joined)" : "");
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
        if (closedForWrites) {
            return;
        }
        closedForWrites = true;
        try {
            out.onError(status.asRuntimeException());
        } catch (RuntimeException e) {
            log.debug("failing stream of {} failed", remote, e);
        }
        streamEnded(OfflineReason.STREAM_CLOSED);
    }

    @Override
    public void drain(String reason) {
        send(HubMessage.newBuilder().setDrain(Drain.newBuilder().setReason(reason)).build());
    }

    @Override
    public void close(String reason) {
        fail(Status.UNAVAILABLE.withDescription(reason));
    }

    @Override
    public String remoteAddress() {
        return remote;
    }

    @Override
    public boolean runCommand(String taskId, String shellCommand, java.util.List<String> argv, long timeoutMillis) {
        var b = RunCommand.newBuilder().setTaskId(taskId).setTimeoutMillis(timeoutMillis);
        if (shellCommand != null) {
            b.setShellCommand(shellCommand);
        } else {
            b.addAllArgv(argv);
        }
        return send(HubMessage.newBuilder().setRunCommand(b).build());
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

package hub.agent;

import hub.proto.agent.v1.AgentMessage;
import hub.proto.agent.v1.AgentServiceGrpc;
import hub.proto.agent.v1.Heartbeat;
import hub.proto.agent.v1.Hello;
import hub.proto.agent.v1.HubMessage;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent's connection to the hub: keeps a single Connect stream open, joins once with the
 * join token and then reconnects with the stored credential, heartbeats at the interval the hub
 * sent, and after any loss reconnects with jittered exponential backoff (capped at 60 s), moving
 * to the next hub address each time. Honours Drain.
 *
 * <p>Threading: gRPC delivers callbacks on its executor, timers fire on the shared scheduler;
 * both enter through synchronized methods. A generation number discards callbacks of streams
 * that were already replaced.
 */
public final class AgentConnection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AgentConnection.class);

    /** What a connection reports to its owner (the CLI prints, the simulator counts). */
    public interface Listener {
        /** The hub accepted the agent. */
        default void welcomed(String nodeId, boolean firstJoin) {
        }

        /** The stream ended; the agent will retry after {@code retryIn}. */
        default void disconnected(Status status, Duration retryIn) {
        }
    }

    private final AgentIdentity identity;
    private final List<Channel> hubs;
    private final CredentialStore credentials;
    private final String joinToken;
    private final ScheduledExecutorService scheduler;
    private final Listener listener;
    private final Backoff backoff;

    private final Object sendLock = new Object();
    private final TaskRunner runner;
    private int hubIndex;
    private long generation;
    private volatile ClientCallStreamObserver<AgentMessage> stream;
    private ScheduledFuture<?> heartbeats;
    private ScheduledFuture<?> reconnect;
    private boolean usedCredential;
    private boolean closed;
    private volatile String nodeId;
    private volatile boolean connected;

    /**
     * @param hubs        one channel per hub address, tried in turn
     * @param joinToken   join token for the first join; may be null once a credential is stored
     * @param scheduler   shared timer thread(s) for heartbeats and reconnects
     */
    public AgentConnection(AgentIdentity identity, List<? extends Channel> hubs, CredentialStore credentials,
            String joinToken, ScheduledExecutorService scheduler, Backoff backoff, Listener listener) {
        if (hubs.isEmpty()) {
            throw new IllegalArgumentException("at least one hub address is needed");
        }
        this.identity = Objects.requireNonNull(identity);
        this.hubs = List.copyOf(hubs);
        this.credentials = credentials;
        this.joinToken = joinToken == null || joinToken.isBlank() ? null : joinToken.strip();
        this.scheduler = scheduler;
        this.backoff = backoff;
        this.listener = listener;
        if (this.joinToken == null && credentials.load().isEmpty()) {
            throw new IllegalArgumentException(
                    "no stored credential and no join token: give --join-token for the first start");
        }
        this.runner = new TaskRunner(this::sendIfConnected, scheduler, UNACKED_OUTPUT_BYTES);
    }

    /** Task output kept for resending until the hub acknowledges it (the runner's budget). */
    static final int UNACKED_OUTPUT_BYTES = 4 * 1024 * 1024;

    /** Sends on the current stream if it is welcomed; otherwise the runner resends after reconnect. */
    private void sendIfConnected(AgentMessage m) {
        if (connected) {
            write(m);
        }
    }

    /** gRPC observers are not thread-safe: every write goes through here. */
    private void write(AgentMessage m) {
        synchronized (sendLock) {
            ClientCallStreamObserver<AgentMessage> s = stream;
            if (s != null) {
                try {
                    s.onNext(m);
                } catch (RuntimeException e) {
                    log.debug("send failed: {}", e.toString());
                }
            }
        }
    }

    /** The node id from the last Welcome, or null before the first. */
    public String nodeId() {
        return nodeId;
    }

    /** Whether a stream is open and welcomed now. */
    public boolean connected() {
        return connected;
    }

    /** Opens the first stream. */
    public synchronized void start() {
        connect();
    }

    private synchronized void connect() {
        if (closed) {
            return;
        }
        long gen = ++generation;
        Channel ch = hubs.get(hubIndex % hubs.size());
        AgentServiceGrpc.newStub(ch).connect(new ClientResponseObserver<AgentMessage, HubMessage>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<AgentMessage> requestStream) {
                synchronized (AgentConnection.this) {
                    stream = requestStream;
                }
            }

            @Override
            public void onNext(HubMessage m) {
                onHubMessage(gen, m);
            }

            @Override
            public void onError(Throwable t) {
                onStreamEnd(gen, Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                onStreamEnd(gen, Status.UNAVAILABLE.withDescription("hub closed the stream"));
            }
        });
        Hello.Builder hello = Hello.newBuilder()
                .setHostname(identity.hostname())
                .setOs(identity.os())
                .setArch(identity.arch())
                .setAgentVersion(identity.version())
                .setName(identity.name())
                .putAllLabels(identity.labels())
                .setProtocolVersion(1)
                .addAllPendingTaskIds(runner.pendingTaskIds());
        var cred = credentials.load();
        usedCredential = cred.isPresent();
        if (usedCredential) {
            hello.setNodeCredential(cred.get());
        } else {
            hello.setJoinToken(joinToken);
        }
        write(AgentMessage.newBuilder().setHello(hello).build());
    }

    private void onHubMessage(long gen, HubMessage m) {
        // Task messages go to the runner without this connection's lock (the runner's locks come
        // first when it sends); stale streams' messages are still fine: they are idempotent.
        switch (m.getBodyCase()) {
            case RUN_COMMAND -> runner.start(m.getRunCommand());
            case CANCEL -> runner.cancel(m.getCancel().getTaskId(), m.getCancel().getReason());
            case OUTPUT_ACK -> runner.ack(m.getOutputAck().getTaskId(), m.getOutputAck().getSequence());
            case RESULT_ACK -> runner.ackResult(m.getResultAck().getTaskId());
            default -> onStreamMessage(gen, m);
        }
    }

    private synchronized void onStreamMessage(long gen, HubMessage m) {
        if (gen != generation || closed) {
            return;
        }
        switch (m.getBodyCase()) {
            case WELCOME -> {
                var w = m.getWelcome();
                boolean firstJoin = !w.getNodeCredential().isEmpty();
                if (firstJoin) {
                    credentials.save(w.getNodeCredential());
                }
                nodeId = w.getNodeId();
                connected = true;
                backoff.reset();
                long interval = Math.max(50, w.getHeartbeatIntervalMillis());
                cancelHeartbeats();
                heartbeats = scheduler.scheduleAtFixedRate(() -> heartbeat(gen), interval, interval,
                        TimeUnit.MILLISECONDS);
                log.info("{} as node {} ({}), heartbeat every {}ms", firstJoin ? "joined" : "reconnected",
                        w.getNodeName(), w.getNodeId(), interval);
                listener.welcomed(w.getNodeId(), firstJoin);
                runner.resendAll();
            }
            case DRAIN -> {
                var d = m.getDrain();
                log.info("hub asked to drain: {}", d.getReason());
                endStream(gen);
                synchronized (sendLock) {
                    stream.onCompleted();
                }
                scheduleReconnect(Status.UNAVAILABLE.withDescription("drained: " + d.getReason()),
                        Duration.ofMillis(d.getReconnectAfterMillis()));
            }
            default -> log.debug("ignoring {} from hub", m.getBodyCase());
        }
    }

    private synchronized void heartbeat(long gen) {
        if (gen != generation || closed || stream == null) {
            return;
        }
        if (!stream.isReady()) {
            // The transport is backed up; a heartbeat queued behind it would not be timely anyway.
            return;
        }
        write(AgentMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder()
                .setSentAtUnixMillis(System.currentTimeMillis())).build());
    }

    private synchronized void onStreamEnd(long gen, Status status) {
        if (gen != generation || closed) {
            return;
        }
        endStream(gen);
        if (status.getCode() == Status.Code.UNAUTHENTICATED && usedCredential && joinToken != null) {
            log.warn("hub rejected the node credential ({}); joining again with the join token",
                    status.getDescription());
            credentials.clear();
        } else if (status.getCode() == Status.Code.UNAUTHENTICATED) {
            log.error("hub rejected this agent: {}", status.getDescription());
        }
        scheduleReconnect(status, Duration.ZERO);
    }

    private void endStream(long gen) {
        connected = false;
        cancelHeartbeats();
        generation = gen + 1;
    }

    private void scheduleReconnect(Status why, Duration atLeast) {
        hubIndex++;
        Duration delay = backoff.next();
        if (delay.compareTo(atLeast) < 0) {
            delay = atLeast;
        }
        log.info("disconnected ({}: {}); reconnecting in {}ms", why.getCode(), why.getDescription(),
                delay.toMillis());
        listener.disconnected(why, delay);
        reconnect = scheduler.schedule(this::connect, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void cancelHeartbeats() {
        if (heartbeats != null) {
            heartbeats.cancel(false);
            heartbeats = null;
        }
    }

    /** Cancels the stream and stops reconnecting. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        connected = false;
        runner.close();
        cancelHeartbeats();
        if (reconnect != null) {
            reconnect.cancel(false);
        }
        if (stream != null) {
            stream.cancel("agent stopping", null);
        }
    }
}

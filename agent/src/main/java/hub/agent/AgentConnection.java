package hub.agent;

import hub.proto.agent.v1.AgentMessage;
import hub.proto.agent.v1.AgentServiceGrpc;
import hub.proto.agent.v1.Heartbeat;
import hub.proto.agent.v1.Hello;
import hub.proto.agent.v1.HubMessage;
import hub.proto.agent.v1.RenewCertificate;
import hub.tls.Pem;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
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
 * join token, heartbeats at the interval the hub sent, and after any loss reconnects with jittered
 * exponential backoff (capped at 60 s), moving to the next hub address each time. Honours Drain.
 *
 * <p>Over TLS the join sends a CSR for a key pair made here, the hub answers with a certificate,
 * and every later connection presents it ({@code Hello.node_id}); at 2/3 of its life the agent
 * asks for a new one over the open stream. A node that still has a bearer credential from an
 * older hub sends it once more with a CSR and moves to a certificate. Without TLS
 * ({@code --insecure-plaintext}) the hub's bearer credential is stored and sent instead.
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

        /** The hub signed a new certificate for the node (after a join, or a renewal). */
        default void certificate(X509Certificate certificate, boolean renewal) {
        }
    }

    /** Makes the node's key pairs and CSRs ({@link NodeKeys}; the simulator shares one pair). */
    public interface KeyMaker {
        KeyPair newKeyPair();

        byte[] csr(KeyPair keys, String hostname);

        /** A new ECDSA P-256 pair for every request. */
        KeyMaker STANDARD = new KeyMaker() {
            @Override
            public KeyPair newKeyPair() {
                return NodeKeys.newKeyPair();
            }

            @Override
            public byte[] csr(KeyPair keys, String hostname) {
                return NodeKeys.csr(keys, hostname);
            }
        };
    }

    /** Renewal is asked for at most this often, whatever the clocks say. */
    static final Duration RENEWAL_RETRY = Duration.ofMinutes(10);

    /** How this connection authenticated its current stream. */
    private enum Auth { JOIN_TOKEN, CREDENTIAL, CERTIFICATE }

    private final AgentIdentity identity;
    private final HubLink link;
    private final IdentityStore identities;
    private final CredentialStore credentials;
    private final Clock clock;
    private final Duration renewalCheck;
    private final KeyMaker keyMaker;
    private final String joinToken;
    private final ScheduledExecutorService scheduler;
    private final Listener listener;
    private final Backoff backoff;

    private final Object sendLock = new Object();
    private final TaskRunner runner;
    private final FileTransfers files;
    private int hubIndex;
    /** Where a draining hub of a cluster sent this agent: the next attempt goes there, once. */
    private volatile String hinted;
    private long generation;
    private volatile ClientCallStreamObserver<AgentMessage> stream;
    private ScheduledFuture<?> heartbeats;
    private ScheduledFuture<?> renewals;
    private ScheduledFuture<?> reconnect;
    private ManagedChannel channel;
    private Auth usedAuth;
    private KeyPair joinKeys;
    private KeyPair renewalKeys;
    private Instant renewalAskedAt;
    private NodeIdentity node;
    private boolean closed;
    private volatile String nodeId;
    private volatile boolean connected;

    /**
     * @param link        the hubs and how to reach them (TLS or plain text)
     * @param identities  where the node certificate and key are kept (used over TLS)
     * @param credentials where a bearer credential is kept (plain text; over TLS only an old one
     *                    that is exchanged for a certificate)
     * @param joinToken   join token for the first join; may be null once the node has joined
     * @param scheduler   shared timer thread(s) for heartbeats, renewals and reconnects
     */
    public AgentConnection(AgentIdentity identity, HubLink link, IdentityStore identities,
            CredentialStore credentials, String joinToken, ScheduledExecutorService scheduler, Backoff backoff,
            Listener listener) {
        this(identity, link, identities, credentials, joinToken, scheduler, backoff, listener, Clock.systemUTC(),
                Duration.ofMinutes(1), KeyMaker.STANDARD);
    }

    /**
     * The same with the clock renewals are judged by, how often that is checked, and how keys are
     * made (tests, the simulator).
     */
    public AgentConnection(AgentIdentity identity, HubLink link, IdentityStore identities,
            CredentialStore credentials, String joinToken, ScheduledExecutorService scheduler, Backoff backoff,
            Listener listener, Clock clock, Duration renewalCheck, KeyMaker keyMaker) {
        this.identity = Objects.requireNonNull(identity);
        this.link = Objects.requireNonNull(link);
        this.identities = identities;
        this.credentials = credentials;
        this.joinToken = joinToken == null || joinToken.isBlank() ? null : joinToken.strip();
        this.scheduler = scheduler;
        this.backoff = backoff;
        this.listener = listener;
        this.clock = clock;
        this.renewalCheck = renewalCheck;
        this.keyMaker = keyMaker;
        this.node = link.tls() ? identities.load().orElse(null) : null;
        if (node != null) {
            link.keys().set(node.key(), List.of(node.certificate()));
        }
        if (this.joinToken == null && node == null && credentials.load().isEmpty()) {
            throw new IllegalArgumentException(link.tls()
                    ? "no node certificate and no join token: give --join-token for the first start"
                    : "no stored credential and no join token: give --join-token for the first start");
        }
        this.runner = new TaskRunner(this::sendIfConnected, scheduler, UNACKED_OUTPUT_BYTES);
        this.files = new FileTransfers(this::sendIfConnected, java.nio.file.Path.of("/"));
    }

    /** Task output kept for resending until the hub acknowledges it (the runner's budget). */
    static final int UNACKED_OUTPUT_BYTES = 8 * 1024 * 1024;
    /**
     * After a Drain, retries wait at most this long (jittered over its second half) instead of
     * backing off to a minute: the hub said it stops on purpose, so it is likely back soon, and a
     * refused connection costs neither side anything.
     */
    static final Duration AFTER_DRAIN_CAP = Duration.ofSeconds(10);
    /** How long after a Drain its reconnect window is kept; then the backoff as after any failure. */
    static final Duration DRAIN_PATIENCE = Duration.ofMinutes(5);
    private boolean drained;
    /** The window the draining hub asked reconnects to spread over (zero: none), and when it asked. */
    private Duration drainWindow = Duration.ZERO;
    private long drainedAtNanos;

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

    /** The node certificate the agent holds now, or null. */
    public synchronized X509Certificate certificate() {
        return node == null ? null : node.certificate();
    }

    /** Which users this agent runs tasks as and allows (before {@link #start()}). */
    public AgentConnection runAs(RunAs policy) {
        runner.runAs(policy);
        files.runAs(policy);
        return this;
    }

    /**
     * Resolves the hub's absolute file paths under {@code root} instead of "/" (before {@link
     * #start()}): the simulator and tests give each simulated node a directory of its own.
     */
    public AgentConnection fileRoot(java.nio.file.Path root) {
        files.root(root);
        return this;
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
        String address = hinted != null ? hinted : link.address(hubIndex);
        hinted = null;
        ManagedChannel previous = channel;
        // A new channel for every attempt: a fresh handshake presents the node's current certificate.
        channel = link.dial(address);
        if (previous != null) {
            previous.shutdownNow();
        }
        AgentServiceGrpc.newStub(channel).connect(new ClientResponseObserver<AgentMessage, HubMessage>() {
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
                onStreamEnd(gen, Status.fromThrowable(t), Status.trailersFromThrowable(t));
            }

            @Override
            public void onCompleted() {
                onStreamEnd(gen, Status.UNAVAILABLE.withDescription("hub closed the stream"), null);
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
        joinKeys = null;
        if (link.tls() && node != null) {
            if (!clock.instant().isBefore(node.notAfter())) {
                log.warn("the node certificate expired at {}; the hub will refuse it: remove {} and join again "
                        + "with a join token", node.notAfter(), "node.pem");
            }
            usedAuth = Auth.CERTIFICATE;
            hello.setNodeId(node.nodeId());
        } else {
            var cred = credentials.load();
            usedAuth = cred.isPresent() ? Auth.CREDENTIAL : Auth.JOIN_TOKEN;
            if (cred.isPresent()) {
                hello.setNodeCredential(cred.get());
            } else {
                hello.setJoinToken(joinToken);
            }
            if (link.tls()) {
                joinKeys = keyMaker.newKeyPair();
                hello.setCsr(ByteString.copyFrom(keyMaker.csr(joinKeys, identity.hostname())));
            }
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
            case TASK_INPUT -> {
                try {
                    runner.input(m.getTaskInput());
                } catch (RuntimeException e) { // never let one task's input end the stream
                    log.warn("task {}: stdin not handled: {}", m.getTaskInput().getTaskId(), e.toString());
                }
            }
            case RESULT_ACK -> runner.ackResult(m.getResultAck().getTaskId());
            case TERMINAL_RESIZE -> runner.resize(m.getTerminalResize().getTaskId(),
                    m.getTerminalResize().getColumns(), m.getTerminalResize().getRows());
            case FILE_OPEN -> files.open(m.getFileOpen());
            case FILE_DATA -> files.data(m.getFileData());
            case FILE_ACK -> files.ack(m.getFileAck());
            case FILE_CLOSE -> files.close(m.getFileClose().getTransferId(), m.getFileClose().getReason());
            case NODE_CERTIFICATE -> onRenewed(gen, m.getNodeCertificate().getCertificate().toByteArray());
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
                boolean firstJoin = usedAuth == Auth.JOIN_TOKEN;
                if (!w.getNodeCredential().isEmpty()) {
                    credentials.save(w.getNodeCredential());
                }
                if (!w.getNodeCertificate().isEmpty()) {
                    adoptCertificate(w.getNodeCertificate().toByteArray(), joinKeys, false);
                    joinKeys = null;
                }
                nodeId = w.getNodeId();
                connected = true;
                backoff.reset();
                drained = false;
                long interval = Math.max(50, w.getHeartbeatIntervalMillis());
                cancelHeartbeats();
                heartbeats = scheduler.scheduleAtFixedRate(() -> heartbeat(gen), interval, interval,
                        TimeUnit.MILLISECONDS);
                log.info("{} as node {} ({}), heartbeat every {}ms", firstJoin ? "joined" : "reconnected",
                        w.getNodeName(), w.getNodeId(), interval);
                listener.welcomed(w.getNodeId(), firstJoin);
                runner.resendAll();
                if (link.tls() && node != null) {
                    cancelRenewals();
                    renewals = scheduler.scheduleWithFixedDelay(() -> maybeRenew(gen), 0,
                            renewalCheck.toMillis(), TimeUnit.MILLISECONDS);
                }
            }
            case DRAIN -> {
                var d = m.getDrain();
                hinted = pickHub(d.getHubsList());
                log.info("hub asked to drain: {}{}", d.getReason(), hinted == null ? "" : "; going to " + hinted);
                endStream(gen);
                synchronized (sendLock) {
                    stream.onCompleted();
                }
                if (channel != null) {
                    channel.shutdown(); // once the hub has ended the call: no reconnects in the background
                    channel = null;
                }
                drained = true; // a hub that drains is restarting or handing over: retry it steadily
                drainWindow = Duration.ofMillis(Math.max(0, Math.min(d.getReconnectWindowMillis(), 600_000)));
                drainedAtNanos = System.nanoTime();
                scheduleReconnect(Status.UNAVAILABLE.withDescription("drained: " + d.getReason()),
                        Duration.ofMillis(d.getReconnectAfterMillis()));
            }
            default -> log.debug("ignoring {} from hub", m.getBodyCase());
        }
    }

    /**
     * Keeps a certificate the hub signed for {@code keys}: stored with the key before it is used,
     * presented from the next connection on. A certificate for another key is refused.
     */
    private void adoptCertificate(byte[] der, KeyPair keys, boolean renewal) {
        X509Certificate cert;
        try {
            cert = Pem.certificate(der);
        } catch (IllegalArgumentException e) {
            log.warn("the hub sent a certificate that does not parse; ignoring it: {}", e.getMessage());
            return;
        }
        if (keys == null || !cert.getPublicKey().equals(keys.getPublic())) {
            log.warn("the hub sent a certificate for a key this agent did not ask about; ignoring it");
            return;
        }
        NodeIdentity id;
        try {
            id = new NodeIdentity(cert, keys.getPrivate());
        } catch (IllegalArgumentException e) {
            log.warn("ignoring the hub's certificate: {}", e.getMessage());
            return;
        }
        identities.save(id);
        link.keys().set(id.key(), List.of(id.certificate()));
        node = id;
        if (usedAuth == Auth.CREDENTIAL) {
            credentials.clear();
            log.info("moved from the node credential to a certificate");
        }
        log.info("{} node certificate: valid until {}, renewal due {}", renewal ? "renewed the" : "got a",
                id.notAfter(), id.renewAt());
        listener.certificate(cert, renewal);
    }

    /** Asks for a new certificate for a new key once the current one is 2/3 through its life. */
    private synchronized void maybeRenew(long gen) {
        if (gen != generation || closed || !connected || node == null) {
            return;
        }
        Instant now = clock.instant();
        if (now.isBefore(node.renewAt())
                || renewalAskedAt != null && now.isBefore(renewalAskedAt.plus(RENEWAL_RETRY))) {
            return;
        }
        renewalAskedAt = now;
        renewalKeys = keyMaker.newKeyPair();
        log.info("node certificate valid until {}: asking the hub for a new one", node.notAfter());
        write(AgentMessage.newBuilder().setRenewCertificate(RenewCertificate.newBuilder()
                .setCsr(ByteString.copyFrom(keyMaker.csr(renewalKeys, identity.hostname())))).build());
    }

    private synchronized void onRenewed(long gen, byte[] der) {
        if (closed || renewalKeys == null) {
            log.debug("ignoring a certificate the agent did not ask for");
            return;
        }
        adoptCertificate(der, renewalKeys, true);
        renewalKeys = null;
    }

    private void cancelRenewals() {
        if (renewals != null) {
            renewals.cancel(false);
            renewals = null;
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

    private synchronized void onStreamEnd(long gen, Status status, io.grpc.Metadata trailers) {
        if (gen != generation || closed) {
            return;
        }
        endStream(gen);
        // The channel goes with its call: left open, gRPC would keep reconnecting it in the background
        // (every second or so, each a TLS handshake with no call behind it) until the next attempt.
        if (channel != null) {
            channel.shutdownNow();
            channel = null;
        }
        boolean rejected = status.getCode() == Status.Code.UNAUTHENTICATED;
        String what = usedAuth == Auth.CERTIFICATE ? "certificate" : "credential";
        if (rejected && usedAuth != Auth.JOIN_TOKEN && nodeGone(status, trailers)) {
            if (joinToken != null) {
                log.warn("the hub no longer knows this node ({}); joining again with the join token",
                        status.getDescription());
                if (usedAuth == Auth.CERTIFICATE) {
                    identities.clear();
                    link.keys().clear();
                    node = null;
                } else {
                    credentials.clear();
                }
            } else {
                log.error("the hub no longer knows this node ({}); give a join token to join it again",
                        status.getDescription());
            }
        } else if (rejected && usedAuth != Auth.JOIN_TOKEN) {
            // Not a verdict on the node: keep the identity (a join token may be spent) and retry.
            log.error("hub refused the node's {} ({}); keeping it and retrying", what, status.getDescription());
        } else if (rejected) {
            log.error("hub rejected this agent: {}", status.getDescription());
        }
        scheduleReconnect(status, Duration.ZERO);
    }

    /** The trailer in which a hub says why it refused a reconnect. */
    static final io.grpc.Metadata.Key<String> REFUSAL =
            io.grpc.Metadata.Key.of("hub-refusal", io.grpc.Metadata.ASCII_STRING_MARSHALLER);

    /**
     * Whether a refused reconnect means the hub has no such node any more (it was removed): the only
     * refusal after which the agent gives up its identity and joins again. Anything else (a hub
     * that could not see the certificate, a store that could not answer) leaves it alone.
     */
    static boolean nodeGone(Status status, io.grpc.Metadata trailers) {
        return status.getCode() == Status.Code.UNAUTHENTICATED && trailers != null
                && "node-unknown".equals(trailers.get(REFUSAL));
    }

    private void endStream(long gen) {
        connected = false;
        files.streamEnded(); // a transfer lives on one stream; the hub's side of it is gone
        cancelHeartbeats();
        cancelRenewals();
        renewalKeys = null;
        generation = gen + 1;
    }

    private void scheduleReconnect(Status why, Duration atLeast) {
        hubIndex++;
        Duration delay = drained ? afterDrain() : backoff.next();
        if (delay.compareTo(atLeast) < 0) {
            delay = atLeast;
        }
        String tls = tlsFailure(why);
        if (tls != null) {
            log.warn("cannot connect to the hub at {} securely: {}; retrying in {}ms", link.address(hubIndex - 1),
                    tls, delay.toMillis());
        } else {
            log.info("disconnected ({}: {}); reconnecting in {}ms", why.getCode(), why.getDescription(),
                    delay.toMillis());
        }
        listener.disconnected(why, delay);
        reconnect = scheduler.schedule(this::connect, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * A retry's delay after a Drain: a point drawn at random in the window the hub gave, so the
     * fleet arrives at the pace the hub asked for; without one (or past {@link #DRAIN_PATIENCE}),
     * the backoff capped at {@link #AFTER_DRAIN_CAP}.
     */
    private Duration afterDrain() {
        if (drainWindow.isZero() || System.nanoTime() - drainedAtNanos > DRAIN_PATIENCE.toNanos()) {
            return backoff.next(AFTER_DRAIN_CAP);
        }
        return Duration.ofMillis(java.util.concurrent.ThreadLocalRandom.current().nextLong(drainWindow.toMillis() + 1));
    }

    private static final java.util.regex.Pattern HUB_ADDRESS =
            java.util.regex.Pattern.compile("(\\[[0-9A-Fa-f:.]{2,45}]|[A-Za-z0-9][A-Za-z0-9.-]{0,252}):[0-9]{1,5}");

    /**
     * One of the hubs a draining hub named, at random so a fleet spreads over them; null when it
     * named none that is a HOST:PORT. The hub is trusted (pinned), and every hub of a cluster shares
     * its CA, so the pin still decides whether the next hub is accepted.
     */
    static String pickHub(java.util.List<String> hubs) {
        java.util.List<String> ok = hubs.stream().limit(64).filter(h -> HUB_ADDRESS.matcher(h).matches()).toList();
        return ok.isEmpty() ? null : ok.get(java.util.concurrent.ThreadLocalRandom.current().nextInt(ok.size()));
    }

    /** What a TLS failure says (the certificate check's own message), or null for other failures. */
    public static String tlsFailure(Status status) {
        String ssl = null;
        for (Throwable t = status.getCause(); t != null; t = t.getCause()) {
            if (t instanceof java.security.cert.CertificateException) {
                return t.getMessage(); // the outermost: the trust manager's own explanation
            }
            if (t instanceof javax.net.ssl.SSLException) {
                ssl = t.getMessage();
            }
        }
        return ssl;
    }

    private void cancelHeartbeats() {
        if (heartbeats != null) {
            heartbeats.cancel(false);
            heartbeats = null;
        }
    }

    /** Load drivers only: tasks are answered at once with exit 0 and nothing runs (see {@link TaskRunner#hollow}). */
    void hollowTasks() {
        runner.hollow();
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
        files.close();
        cancelHeartbeats();
        cancelRenewals();
        if (reconnect != null) {
            reconnect.cancel(false);
        }
        if (stream != null) {
            stream.cancel("agent stopping", null);
        }
        if (channel != null) {
            channel.shutdown();
        }
    }

    /** Closes the connection and waits up to {@code grace} for its channel to end. */
    public void close(Duration grace) throws InterruptedException {
        close();
        ManagedChannel ch;
        synchronized (this) {
            ch = channel;
        }
        if (ch != null && !ch.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
            ch.shutdownNow();
        }
    }
}

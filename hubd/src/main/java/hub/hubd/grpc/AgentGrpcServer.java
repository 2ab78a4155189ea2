package hub.hubd.grpc;

import hub.hubd.core.Threads;
import hub.hubd.registry.NodeJoiner;
import hub.hubd.registry.NodeRegistry;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.OpenSslCachingX509KeyManagerFactory;
import io.grpc.netty.shaded.io.netty.handler.ssl.util.KeyManagerFactoryWrapper;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC listener agents connect to. Netty's event loops do the transport I/O; our callbacks
 * run on a small fixed pool ({@code grpc-agent-*}) and never block (see docs/CONCURRENCY.md).
 */
public final class AgentGrpcServer implements AutoCloseable {
    private final Server server;
    private final ScheduledExecutorService timers;
    private final ExecutorService callbacks;

    /**
     * TLS handshakes with agents in progress at once; connections past it are closed at once
     * ({@link HandshakeAdmission}). At ~1 ms of CPU a handshake, 512 keep every core busy, and
     * agents 200 ms away still reach ~2,500 handshakes a second.
     */
    public static final int MAX_HANDSHAKES = 512;
    /** Of those, from one address: a quarter, so a few hosts cannot take every one. */
    public static final int MAX_HANDSHAKES_PER_ADDRESS = MAX_HANDSHAKES / 4;

    /**
     * @param tls the hub's TLS material; {@code null} serves plain text ({@code --insecure-plaintext})
     */
    public AgentGrpcServer(String bind, int port, NodeRegistry registry, NodeJoiner joiner,
            hub.hubd.tasks.TaskIngest ingest,
            hub.hubd.files.FileRelay files, String hubId, hub.hubd.tls.HubTls tls,
            io.micrometer.core.instrument.MeterRegistry metrics) {
        var t = new java.util.concurrent.ScheduledThreadPoolExecutor(1, Threads.daemons("grpc-timers", false));
        // A stream's timers are cancelled when it ends; kept in the queue until they would have run
        // (a node certificate's expiry: weeks), each held its ended stream and everything behind it.
        t.setRemoveOnCancelPolicy(true);
        this.timers = t;
        io.micrometer.core.instrument.Gauge.builder("hub_agent_stream_timers", t, e -> e.getQueue().size())
                .description("Timers of agent streams waiting to run (about one per connected agent)")
                .register(metrics);
        // Our callbacks never block, so a few threads suffice; gRPC's default cached pool would
        // start a thread per busy stream and thrash when thousands of agents connect at once.
        // Its queue holds at most one task per stream (gRPC serializes each call's callbacks).
        int threads = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
        this.callbacks = Executors.newFixedThreadPool(threads, Threads.daemons("grpc-agent", true));
        AgentService service = new AgentService(registry, joiner, ingest, files, hubId, timers,
                tls == null ? null : tls.nodeCertificates(), callbacks, new Violations(metrics));
        NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress(bind, port));
        if (tls != null) {
            b.protocolNegotiator(new HandshakeAdmission(
                    io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiators.serverTls(sslContext(tls)),
                    MAX_HANDSHAKES, MAX_HANDSHAKES_PER_ADDRESS, AgentGrpcServer::noResumption, metrics));
        }
        this.server = b
                .addService(ServerInterceptors.intercept(service, new AgentService.RemoteAddressInterceptor()))
                // Agents may ping to find a dead hub; answer pings no faster than every 10s.
                .permitKeepAliveTime(10, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                // The hub pings idle agents to find dead peers the heartbeat check has not yet.
                .keepAliveTime(60, TimeUnit.SECONDS)
                .keepAliveTimeout(20, TimeUnit.SECONDS)
                .maxInboundMessageSize(4 * 1024 * 1024)
                // File copies: room for a transfer's window in flight (still auto-tuned).
                .initialFlowControlWindow(4 * 1024 * 1024)
                .executor(callbacks)
                .build();
    }

    /**
     * TLS 1.2/1.3 from the hub's (replaceable) serving key; client certificates asked for but not
     * required, since a node's first join has none: the Hello decides what a connection without one
     * may do.
     */
    private static SslContext sslContext(hub.hubd.tls.HubTls tls) {
        try {
            // Netty turns a Java key into BoringSSL's form for every handshake unless the material is
            // cached; the cache is per alias, and the key slot gives every new certificate a new one.
            var keys = new OpenSslCachingX509KeyManagerFactory(new KeyManagerFactoryWrapper(tls.serverKeys()));
            SslContext ctx = GrpcSslContexts.configure(SslContextBuilder.forServer(keys))
                    .trustManager(tls.clientTrust())
                    .clientAuth(ClientAuth.OPTIONAL)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .build();
            // No resumption of agent sessions (see noResumption): no server-side cache either.
            if (ctx.sessionContext() instanceof io.grpc.netty.shaded.io.netty.handler.ssl.OpenSslSessionContext o) {
                o.setSessionCacheEnabled(false);
            }
            return ctx;
        } catch (javax.net.ssl.SSLException e) {
            throw new IllegalStateException("cannot set up TLS for agents: " + e.getMessage(), e);
        }
    }

    /**
     * Makes an agent connection's TLS session one that cannot be resumed: the hub issues no session
     * tickets. A resumed session carries the certificate of the handshake it came from, and an
     * agent's first connection (its join) had none: resumed, its first reconnect to the same hub
     * process was taken for a node without a certificate and told to join again. So every
     * connection is a full handshake with the certificate the agent holds now (at restarts, when
     * a whole fleet reconnects, nothing could be resumed anyway).
     */
    static void noResumption(javax.net.ssl.SSLEngine engine) {
        if (engine instanceof io.grpc.netty.shaded.io.netty.handler.ssl.ReferenceCountedOpenSslEngine e) {
            synchronized (e) { // the engine's own lock: its SSL is not freed meanwhile
                if (!e.isOutboundDone()) {
                    io.grpc.netty.shaded.io.netty.internal.tcnative.SSL.setOptions(e.sslPointer(),
                            io.grpc.netty.shaded.io.netty.internal.tcnative.SSL.SSL_OP_NO_TICKET);
                }
            }
        }
    }

    /** Binds and starts serving. */
    public void start() {
        try {
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen for agents: " + e.getMessage(), e);
        }
    }

    /** The bound port (the real one when 0 was asked for). */
    public int port() {
        return server.getPort();
    }

    /**
     * Stops accepting calls and waits up to {@code grace} for open streams to end (agents were
     * asked to drain), then cancels what is left.
     */
    public void shutdown(Duration grace) {
        server.shutdown();
        try {
            if (!server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                server.shutdownNow();
                server.awaitTermination(2, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
        timers.shutdownNow();
        callbacks.shutdownNow();
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}

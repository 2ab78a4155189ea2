package hub.hubd.grpc;

import io.grpc.netty.shaded.io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.util.AsciiString;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Admits at most {@code limit} TLS handshakes at a time on the agent listener; a connection past
 * that is closed as soon as it is accepted, before it costs a handshake.
 *
 * <p>Why: when a hub restarts, its whole fleet reconnects within seconds. Without a limit every
 * connection starts a handshake at once, each one waits behind all the others, most take longer
 * than the agent waits (10 s), and the hub spends its CPU on handshakes whose agents have already
 * given up: the storm feeds itself, and 10,000 agents took 70 s to come back. With the limit, the
 * hub finishes what it started at full speed, and a refused agent learns it at once (a closed
 * connection costs microseconds) and retries after its backoff. Refusals are counted
 * ({@code hub_agent_handshakes_refused_total}).
 *
 * <p>The limit is on handshakes, not connections: a permit is taken when the connection is accepted
 * and given back when its TLS handshake ends, either way, or the connection closes. So that a few
 * hosts cannot hold every permit (connect and say nothing), one address holds at most
 * {@code perAddress} of them, and a connection that has not begun its handshake within
 * {@link #FIRST_BYTE} is closed (an agent sends its ClientHello as soon as it is connected).
 */
final class HandshakeAdmission implements InternalProtocolNegotiator.ProtocolNegotiator {
    private final InternalProtocolNegotiator.ProtocolNegotiator tls;
    private final Semaphore permits;
    private final Counter refused;
    private final int perAddress;
    private final java.util.concurrent.ConcurrentHashMap<java.net.InetAddress, Integer> byAddress =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** How long a new connection may take to send its first byte. */
    static final java.time.Duration FIRST_BYTE = java.time.Duration.ofSeconds(3);

    /** What each connection's TLS engine is set up with before its handshake (the gRPC server's own rules). */
    private final java.util.function.Consumer<javax.net.ssl.SSLEngine> engineSetup;

    HandshakeAdmission(InternalProtocolNegotiator.ProtocolNegotiator tls, int limit, int perAddress,
            java.util.function.Consumer<javax.net.ssl.SSLEngine> engineSetup, MeterRegistry metrics) {
        this.tls = tls;
        this.engineSetup = engineSetup;
        this.perAddress = perAddress;
        this.permits = new Semaphore(limit);
        this.refused = Counter.builder("hub_agent_handshakes_refused")
                .description("Agent connections closed unhandled: too many TLS handshakes in progress")
                .register(metrics);
        Gauge.builder("hub_agent_handshakes_in_progress", permits, p -> limit - p.availablePermits())
                .description("Agent TLS handshakes in progress (at most " + limit + ")").register(metrics);
    }

    @Override
    public AsciiString scheme() {
        return tls.scheme();
    }

    @Override
    public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
        return new Gate(tls.newHandler(grpcHandler));
    }

    @Override
    public void close() {
        tls.close();
    }


    /**
     * First in a new connection's pipeline: takes a permit or closes the connection; then puts the
     * TLS negotiation behind itself and, once the TLS handler is there (before it reads a byte),
     * sets its engine up and leaves, giving the permit back when the handshake ends.
     */
    private final class Gate extends ChannelInboundHandlerAdapter {
        private final ChannelHandler next;
        private final AtomicBoolean held = new AtomicBoolean();

        Gate(ChannelHandler next) {
            this.next = next;
        }

        private java.net.InetAddress from;
        private volatile boolean heard;
        /** Gives the permit back if the connection closes first; removed once given back. */
        private final ChannelFutureListener onClose = f -> release();
        private ChannelFuture closeFuture;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            from = ctx.channel().remoteAddress() instanceof java.net.InetSocketAddress a ? a.getAddress() : null;
            if (!admit(from)) {
                refused.increment();
                ctx.channel().close();
                return;
            }
            held.set(true);
            closeFuture = ctx.channel().closeFuture();
            closeFuture.addListener(onClose);
            ctx.executor().schedule(() -> {
                if (!heard) {
                    ctx.channel().close(); // connected and silent: not an agent starting a handshake
                }
            }, FIRST_BYTE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            ctx.pipeline().addAfter(ctx.name(), null, next);
            watchHandshake(ctx);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            heard = true;
            watchHandshake(ctx); // the TLS handler is added once the connection is active: before its first byte
            ctx.fireChannelRead(msg);
        }

        private void watchHandshake(ChannelHandlerContext ctx) {
            if (ctx.isRemoved()) {
                return;
            }
            SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            if (ssl != null) {
                engineSetup.accept(ssl.engine());
                ssl.handshakeFuture().addListener(f -> release());
                ctx.pipeline().remove(this);
            }
        }

        /**
         * Gives the permit back, once. Also lets go of the connection's close future: listening to
         * it for the connection's whole life kept this gate and the negotiation handler behind it
         * (about half a KB per agent) for as long as the agent stayed connected.
         */
        private void release() {
            if (held.compareAndSet(true, false)) {
                heard = true;
                if (from != null) {
                    byAddress.computeIfPresent(from, (k, n) -> n <= 1 ? null : n - 1);
                }
                permits.release();
                if (closeFuture != null) {
                    closeFuture.removeListener(onClose);
                }
            }
        }
    }

    /** Takes a permit for a connection from {@code from}, if one is free and the address has room. */
    private boolean admit(java.net.InetAddress from) {
        if (!permits.tryAcquire()) {
            return false;
        }
        if (from == null) {
            return true;
        }
        boolean[] ok = {false};
        byAddress.compute(from, (k, n) -> {
            int now = n == null ? 0 : n;
            ok[0] = now < perAddress;
            return ok[0] ? now + 1 : n;
        });
        if (!ok[0]) {
            permits.release();
        }
        return ok[0];
    }
}

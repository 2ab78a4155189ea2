package hub.hubd.grpc;

import io.grpc.netty.shaded.io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.shaded.io.netty.channel.ChannelDuplexHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.util.AsciiString;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Admits at most {@code limit} TLS handshakes at a time on the agent listener; a connection past
 * that waits for a slot with its reads paused (oldest first, at most {@link #MAX_WAIT}, at most
 * eight times {@code limit} of them), and one past the queue or the wait is closed, before it costs
 * a handshake.
 *
 * <p>Why: when a hub restarts, its whole fleet reconnects within seconds. Without a limit every
 * connection starts a handshake at once, each one waits behind all the others, most take longer
 * than the agent waits (10 s), and the hub spends its CPU on handshakes whose agents have already
 * given up: the storm feeds itself, and 10,000 agents took 70 s to come back. With the limit, the
 * hub finishes what it started at full speed. Closing every connection past it at once left the
 * hub idle at the end of a storm while refused agents slept out their retry delays (25 s for
 * 10,000); waiting in the queue, they are taken as slots free (21 s). Refusals are counted
 * ({@code hub_agent_handshakes_refused_total}), and so are the waiting
 * ({@code hub_agent_handshakes_waiting}).
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
    /** How long a new connection may take to send its first byte, once admitted. */
    static final java.time.Duration FIRST_BYTE = java.time.Duration.ofSeconds(3);
    /**
     * How long a connection past the limit waits for a handshake slot before it is closed: well
     * within the 10 s an agent gives its connection.
     */
    static final java.time.Duration MAX_WAIT = java.time.Duration.ofSeconds(5);
    /** How many connections may wait at once; past that they are closed at once. */
    private final int maxWaiting;

    /** What each connection's TLS engine is set up with before its handshake (the gRPC server's own rules). */
    private final java.util.function.Consumer<javax.net.ssl.SSLEngine> engineSetup;

    HandshakeAdmission(InternalProtocolNegotiator.ProtocolNegotiator tls, int limit, int perAddress,
            java.util.function.Consumer<javax.net.ssl.SSLEngine> engineSetup, MeterRegistry metrics) {
        this.tls = tls;
        this.engineSetup = engineSetup;
        this.perAddress = perAddress;
        this.permits = new Semaphore(limit);
        this.maxWaiting = 8 * limit;
        this.refused = Counter.builder("hub_agent_handshakes_refused")
                .description("Agent connections closed unhandled: too many TLS handshakes in progress")
                .register(metrics);
        Gauge.builder("hub_agent_handshakes_in_progress", permits, p -> limit - p.availablePermits())
                .description("Agent TLS handshakes in progress (at most " + limit + ")").register(metrics);
        Gauge.builder("hub_agent_handshakes_waiting", waitingCount, java.util.concurrent.atomic.AtomicInteger::get)
                .description("Agent connections waiting for a TLS handshake slot (at most " + 8 * limit + ")")
                .register(metrics);
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
     * First in a new connection's pipeline: takes a permit, or waits for one with its reads paused,
     * or closes the connection; puts the TLS negotiation behind itself and, once the TLS handler is
     * there and the connection admitted (before it reads a byte), sets its engine up and leaves,
     * giving the permit back when the handshake ends.
     */
    private final class Gate extends ChannelDuplexHandler {
        /** Neither waiting nor admitted: just accepted, or taken from the queue on its way to its event loop. */
        private static final int NEW = 0;
        private static final int WAITING = 1;
        private static final int ADMITTED = 2;
        private static final int GONE = 3;

        private final ChannelHandler next;
        private final AtomicBoolean held = new AtomicBoolean();
        private final java.util.concurrent.atomic.AtomicInteger state = new java.util.concurrent.atomic.AtomicInteger(NEW);
        /** Gives the permit (or the place in the queue) back if the connection closes first. */
        private final ChannelFutureListener onClose = f -> closed();
        private ChannelFuture closeFuture;
        private ChannelHandlerContext ctx;
        private java.net.InetAddress from;
        private volatile boolean heard;
        private boolean readWanted; // a read asked for while waiting (event loop only)
        private boolean engineReady; // event loop only

        Gate(ChannelHandler next) {
            this.next = next;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
            from = ctx.channel().remoteAddress() instanceof java.net.InetSocketAddress a ? a.getAddress() : null;
            closeFuture = ctx.channel().closeFuture();
            closeFuture.addListener(onClose);
            ctx.pipeline().addAfter(ctx.name(), null, next);
            if (admit(from)) {
                held.set(true);
                admitted();
            } else if (waitingCount.incrementAndGet() <= maxWaiting) {
                state.set(WAITING);
                ctx.channel().config().setAutoRead(false);
                waiting.add(this);
                ctx.executor().schedule(() -> {
                    if (state.compareAndSet(WAITING, GONE)) { // no handshake slot came in time
                        waitingCount.decrementAndGet();
                        waiting.remove(this);
                        refused.increment();
                        ctx.channel().close();
                    }
                }, MAX_WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                admitWaiting(); // a permit may have come back meanwhile
            } else {
                waitingCount.decrementAndGet();
                state.set(GONE);
                refused.increment();
                ctx.channel().close();
            }
        }

        /** Holds its permit now: reads flow, and the connection has {@link #FIRST_BYTE} to start. Event loop. */
        private void admitted() {
            state.set(ADMITTED);
            ctx.executor().schedule(() -> {
                if (!heard) {
                    ctx.channel().close(); // connected and silent: not an agent starting a handshake
                }
            }, FIRST_BYTE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            watchHandshake(ctx);
            if (!ctx.channel().config().isAutoRead()) {
                ctx.channel().config().setAutoRead(true); // reads again
            }
            if (readWanted) {
                readWanted = false;
                ctx.read();
            }
        }

        /** Taken from the queue with a permit (any thread): admitted on its own event loop. */
        private void admittedFromQueue() {
            held.set(true);
            ctx.executor().execute(() -> {
                if (!ctx.channel().isActive()) {
                    release(); // closed meanwhile
                } else {
                    admitted();
                }
            });
        }

        @Override
        public void read(ChannelHandlerContext ctx) {
            if (state.get() == WAITING) {
                readWanted = true; // nothing is read (no ClientHello, no handshake) until admitted
            } else {
                ctx.read();
            }
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
            if (ssl != null && !engineReady) {
                engineReady = true;
                engineSetup.accept(ssl.engine());
                ssl.handshakeFuture().addListener(f -> release());
            }
            if (ssl != null && state.get() == ADMITTED) {
                ctx.pipeline().remove(this);
            }
        }

        private void closed() {
            if (state.compareAndSet(WAITING, GONE)) {
                waitingCount.decrementAndGet();
                waiting.remove(this);
            }
            release();
        }

        /**
         * Gives the permit back, once, and lets a waiting connection have it. Also lets go of the
         * connection's close future: listening to it for the connection's whole life kept this gate
         * and the negotiation handler behind it (about half a KB per agent) for as long as the agent
         * stayed connected.
         */
        private void release() {
            if (held.compareAndSet(true, false)) {
                heard = true;
                unadmit(from);
                if (closeFuture != null) {
                    closeFuture.removeListener(onClose);
                }
                admitWaiting();
            }
        }
    }

    /** Connections waiting for a handshake slot, oldest first. */
    private final java.util.concurrent.ConcurrentLinkedQueue<Gate> waiting = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicInteger waitingCount = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * Gives free permits to the oldest waiting connections. A head whose address holds all its
     * permits waits for one of them (and those behind it with it: almost always the same address).
     */
    private void admitWaiting() {
        Gate g;
        while ((g = waiting.peek()) != null) {
            if (g.state.get() != Gate.WAITING) {
                waiting.remove(g);
                continue;
            }
            if (!admit(g.from)) {
                return;
            }
            if (g.state.compareAndSet(Gate.WAITING, Gate.NEW)) {
                waiting.remove(g);
                waitingCount.decrementAndGet();
                g.admittedFromQueue();
            } else {
                unadmit(g.from); // it left the queue as we took the permit for it
            }
        }
    }

    /** Gives back a permit {@link #admit} took. */
    private void unadmit(java.net.InetAddress from) {
        if (from != null) {
            byAddress.computeIfPresent(from, (k, n) -> n <= 1 ? null : n - 1);
        }
        permits.release();
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

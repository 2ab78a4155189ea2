package hub.agent;

import hub.tls.KeySlot;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.InternalNettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * How an agent reaches its hubs: their addresses, and TLS (how the hub is verified, and the slot
 * holding the node certificate presented to it), or plain text. {@link #dial} opens a new channel,
 * so every connection attempt makes a fresh TLS handshake with the node's current certificate.
 */
public final class HubLink {
    private final List<String> addresses;
    private final SslContext ssl;
    private final KeySlot keys;
    private final Executor executor;
    private final EventLoopGroup group;

    private HubLink(List<String> addresses, SslContext ssl, KeySlot keys, Executor executor, EventLoopGroup group) {
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException("at least one hub address is needed");
        }
        this.addresses = List.copyOf(addresses);
        this.ssl = ssl;
        this.keys = keys;
        this.executor = executor;
        this.group = group;
    }

    /**
     * TLS to {@code addresses}, verifying the hub with {@code trust}, presenting what the returned
     * link's {@link #keys()} holds.
     *
     * @param executor callbacks' executor, or null for gRPC's own
     * @param group    Netty event loops to share (the simulator), or null for gRPC's own
     */
    public static HubLink tls(List<String> addresses, X509ExtendedTrustManager trust, Executor executor,
            EventLoopGroup group) {
        KeySlot keys = new KeySlot();
        try {
            SslContext ssl = GrpcSslContexts.forClient().trustManager(trust).keyManager(keys)
                    .protocols("TLSv1.3", "TLSv1.2").build();
            // Never offer to resume a session: a resumed one carries the certificate of the handshake
            // it came from (none, for the join), not the one in the slot now. Hubs issue no tickets.
            if (ssl.sessionContext() instanceof io.grpc.netty.shaded.io.netty.handler.ssl.OpenSslSessionContext o) {
                o.setSessionCacheEnabled(false);
            }
            return new HubLink(addresses, ssl, keys, executor, group);
        } catch (SSLException e) {
            throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    /** Plain text to {@code addresses} ({@code --insecure-plaintext}). */
    public static HubLink plaintext(List<String> addresses, Executor executor, EventLoopGroup group) {
        return new HubLink(addresses, null, null, executor, group);
    }

    /** Whether the link uses TLS (and so node certificates). */
    public boolean tls() {
        return ssl != null;
    }

    /** The slot of the node certificate presented to the hub; null without TLS. */
    public KeySlot keys() {
        return keys;
    }

    public List<String> addresses() {
        return addresses;
    }

    /** The address for connection attempt {@code attempt}: the list, in turn. */
    public String address(int attempt) {
        return addresses.get(Math.floorMod(attempt, addresses.size()));
    }

    /** A new channel to {@code address}, with keepalive pings to find a dead hub quickly. */
    public ManagedChannel dial(String address) {
        NettyChannelBuilder b = NettyChannelBuilder.forTarget(address)
                .keepAliveTime(30, TimeUnit.SECONDS)
                .keepAliveTimeout(10, TimeUnit.SECONDS)
                .keepAliveWithoutCalls(false)
                // File copies: room for a transfer's window in flight (still auto-tuned).
                .initialFlowControlWindow(4 * 1024 * 1024);
        // No OpenCensus on the class path: with stats or tracing on, every build looks for it by
        // reflection and throws (ClassNotFoundException): a cost on each connection attempt.
        InternalNettyChannelBuilder.setStatsEnabled(b, false);
        InternalNettyChannelBuilder.setTracingEnabled(b, false);
        if (ssl != null) {
            b.sslContext(ssl);
        } else {
            b.usePlaintext();
        }
        if (executor != null) {
            b.executor(executor);
        }
        if (group != null) {
            b.eventLoopGroup(group).channelType(NioSocketChannel.class);
        }
        return b.build();
    }
}

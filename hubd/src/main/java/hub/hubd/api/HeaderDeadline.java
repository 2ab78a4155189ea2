package hub.hubd.api;

import hub.hubd.core.Threads;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A request's line and headers must arrive within a deadline (slowloris): Jetty's idle timeout
 * restarts with every byte, so a client dripping one header byte a second would otherwise hold a
 * connection (and a file descriptor) for as long as it likes. Once a second this looks at every
 * connection still in its TLS handshake or whose HTTP parser is inside a request head, and closes
 * the ones that have been there longer than the deadline. Idle keep-alive connections (between requests) are left to the idle
 * timeout; WebSockets are not HTTP connections any more and are left alone.
 */
final class HeaderDeadline implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HeaderDeadline.class);

    private final Server server;
    private final long deadlineNanos;
    private final Map<EndPoint, Long> inHead = new ConcurrentHashMap<>();
    private final ScheduledExecutorService sweeper;
    private final Counter closed;

    HeaderDeadline(Server server, Duration deadline, MeterRegistry metrics) {
        this.server = server;
        this.deadlineNanos = deadline.toNanos();
        this.closed = Counter.builder("hub_http_header_timeouts")
                .description("HTTP connections closed because a request head took too long to arrive")
                .register(metrics);
        this.sweeper = Executors.newSingleThreadScheduledExecutor(Threads.daemons("http-header-deadline", false));
        sweeper.scheduleWithFixedDelay(this::sweep, 1, 1, TimeUnit.SECONDS);
    }

    private void sweep() {
        try {
            long now = System.nanoTime();
            java.util.Set<EndPoint> seen = new java.util.HashSet<>();
            for (Connector c : server.getConnectors()) {
                if (!(c instanceof AbstractConnector ac)) {
                    continue;
                }
                for (EndPoint ep : ac.getConnectedEndPoints()) {
                    if (!readingHead(ep.getConnection())) {
                        continue;
                    }
                    seen.add(ep);
                    long since = inHead.computeIfAbsent(ep, k -> now);
                    if (now - since > deadlineNanos) {
                        closed.increment();
                        log.info("closing a connection from {}: its request head took longer than {} ms",
                                ep.getRemoteSocketAddress(), deadlineNanos / 1_000_000);
                        ep.close();
                    }
                }
            }
            inHead.keySet().retainAll(seen);
        } catch (RuntimeException e) {
            log.debug("header deadline sweep failed", e);
        }
    }

    /**
     * Whether a connection is still in its TLS handshake, or its HTTP parser has started a request
     * but not finished its headers.
     */
    private static boolean readingHead(Connection c) {
        if (c instanceof SslConnection ssl) {
            var hs = ssl.getSSLEngine().getHandshakeStatus();
            if (hs != javax.net.ssl.SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING
                    && hs != javax.net.ssl.SSLEngineResult.HandshakeStatus.FINISHED) {
                return true;
            }
            c = ssl.getSslEndPoint().getConnection();
        }
        if (c instanceof HttpConnection http) {
            var p = http.getParser();
            return p.inHeaderState() && !p.isStart() && !p.isIdle();
        }
        return false;
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
    }
}

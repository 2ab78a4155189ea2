package hub.hubd.api;

import hub.hubd.core.Threads;
import hub.hubd.events.Sink;
import io.javalin.websocket.WsContext;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.common.WebSocketSession;
import org.eclipse.jetty.websocket.core.WebSocketCoreSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub's open WebSockets and their liveness. Every ping interval each peer gets a ping; a peer
 * that sent nothing at all (no pong, no message) during the whole interval after the previous ping
 * is silent, and is ended: a vanished host or a client that stopped reading is found within two
 * intervals. Bytes received are read from Jetty's connection; pongs count.
 *
 * <p>The peers are pinged in {@link #SLICES} turns spread over the interval, each peer in its own
 * turn: pinging a thousand event subscribers at the same instant (and reading their thousand pongs)
 * held the event writers up for a tick every interval, the slowest frames of the fan-out bench.
 */
final class WsPeers implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WsPeers.class);

    /** What to do when a peer is silent. */
    interface OnSilent {
        void silent(String reason);
    }

    /** How many turns an interval's pings are spread over. */
    static final int SLICES = 16;

    private static final class Peer {
        final Session session;
        final OnSilent onSilent;
        final int slice;
        long bytesInAtPing = -1;

        Peer(Session session, OnSilent onSilent, int slice) {
            this.session = session;
            this.onSilent = onSilent;
            this.slice = slice;
        }
    }

    private final Map<String, Peer> peers = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private final Duration interval;
    private int added; // which turn the next peer takes (a race only evens the turns out less)
    private int turn; // the timer thread's own

    WsPeers(Duration interval) {
        this.interval = interval;
        this.timer = Executors.newSingleThreadScheduledExecutor(Threads.daemons("ws-liveness", false));
        long every = Math.max(1, interval.toMillis() / SLICES);
        timer.scheduleAtFixedRate(this::nextTurn, every, every, TimeUnit.MILLISECONDS);
    }

    void add(WsContext ctx, OnSilent onSilent) {
        peers.put(ctx.sessionId(), new Peer(ctx.session, onSilent, Math.floorMod(added++, SLICES)));
    }

    private void nextTurn() {
        check(turn);
        turn = (turn + 1) % SLICES;
    }

    void remove(WsContext ctx) {
        peers.remove(ctx.sessionId());
    }

    /** Pings the peers of this turn, and ends those silent since their previous ping. */
    private void check(int slice) {
        for (Map.Entry<String, Peer> e : peers.entrySet()) {
            Peer p = e.getValue();
            if (p.slice != slice) {
                continue;
            }
            try {
                if (!p.session.isOpen()) { // closed without Jetty telling its endpoint: end it too
                    peers.remove(e.getKey());
                    p.onSilent.silent("connection closed");
                    continue;
                }
                long in = bytesIn(p.session);
                if (p.bytesInAtPing >= 0 && in == p.bytesInAtPing) {
                    peers.remove(e.getKey());
                    p.onSilent.silent("no answer to ping within " + interval.toMillis() + "ms");
                    continue;
                }
                p.bytesInAtPing = in;
                p.session.sendPing(ByteBuffer.allocate(0), Callback.NOOP);
            } catch (RuntimeException ex) {
                log.debug("ping of {} failed", e.getKey(), ex);
            }
        }
    }

    /** Bytes received on the connection so far (Jetty's counter; -1 if it is not reachable). */
    private static long bytesIn(Session s) {
        if (s instanceof WebSocketSession ws && ws.getCoreSession() instanceof WebSocketCoreSession core
                && core.getConnection() != null) {
            return core.getConnection().getBytesIn();
        }
        return -1;
    }

    /** A {@link Sink} on a Javalin WebSocket: non-blocking sends, close with a forced disconnect as backstop. */
    Sink sink(WsContext ctx) {
        Session session = ctx.session;
        String remote = String.valueOf(session.getRemoteSocketAddress());
        return new Sink() {
            @Override
            public void send(String frame, Runnable done, Consumer<Throwable> failed) {
                session.sendText(frame, Callback.from(done, failed));
            }

            @Override
            public void send(String frame, java.nio.ByteBuffer utf8, Runnable done, Consumer<Throwable> failed) {
                if (session instanceof org.eclipse.jetty.websocket.common.WebSocketSession ws) {
                    // The bytes encoded once for every subscriber of this frame: a view of our own each.
                    ws.getCoreSession().sendFrame(new org.eclipse.jetty.websocket.core.Frame(
                            org.eclipse.jetty.websocket.core.OpCode.TEXT, true, utf8.slice()),
                            org.eclipse.jetty.util.Callback.from(done, failed), false);
                } else {
                    send(frame, done, failed);
                }
            }

            @Override
            public void close(int code, String reason) {
                session.close(code, reason, Callback.NOOP);
                // A peer that does not read never gets the close frame: cut it after a grace period.
                timer.schedule(() -> {
                    if (session.isOpen()) {
                        session.disconnect();
                    }
                }, 2, TimeUnit.SECONDS);
            }

            @Override
            public String remoteAddress() {
                return remote.startsWith("/") ? remote.substring(1) : remote;
            }
        };
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}

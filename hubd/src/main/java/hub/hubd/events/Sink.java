package hub.hubd.events;

import java.util.function.Consumer;

/**
 * Where a subscription's frames go (a WebSocket in the hub, anything in tests). Both methods must
 * return at once: they start I/O, never wait for it.
 */
public interface Sink {
    /** Sends one text frame; calls exactly one of {@code done} or {@code failed} when it is written or not. */
    void send(String frame, Runnable done, Consumer<Throwable> failed);

    /**
     * Sends one text frame already encoded as UTF-8 ({@code text} is the same frame), shared with
     * other sinks: read {@code utf8} through a view of your own, never change it.
     */
    default void send(String text, java.nio.ByteBuffer utf8, Runnable done, Consumer<Throwable> failed) {
        send(text, done, failed);
    }

    /** Closes the connection with a WebSocket close code and reason (at most 123 bytes). */
    void close(int code, String reason);

    /** The peer's address, for the listener table. */
    String remoteAddress();
}

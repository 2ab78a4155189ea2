package hub.hubd.events;

import java.time.Instant;

/** A live subscriber the hub accounts for: an event subscription or a history follower. */
public interface Listener {
    /** Its row in the listener table. */
    Info info();

    /** The user it runs as (for revocation). */
    String user();

    /** The API token it authenticated with (for revocation). */
    String tokenId();

    /** Ends it: idempotent, returns at once. */
    void end(int code, String reason);

    /**
     * A row of the listener table.
     *
     * @param kind         {@code events} or {@code history}
     * @param filter       what it listens to, e.g. {@code node=web-1 types=task.output}
     * @param queueDepth   events waiting to be sent
     * @param delivered    events sent
     * @param dropped      events dropped (when it lagged and was closed)
     * @param lag          published sequences it has not received yet
     * @param lastActivity last successful send (or connect)
     */
    record Info(String id, String kind, String user, String remoteAddress, String filter, Instant connectedAt,
            int queueDepth, long delivered, long dropped, long lag, Instant lastActivity) {
    }
}

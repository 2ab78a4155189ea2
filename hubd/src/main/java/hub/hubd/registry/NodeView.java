package hub.hubd.registry;

import java.time.Instant;
import java.util.Objects;

/**
 * A node as the API shows it: what is stored, with liveness from the registry.
 *
 * @param info          identity and description
 * @param status        online or offline
 * @param lastSeen      last heartbeat or connect, or {@code null} if never
 * @param connectedAt   when the current (or last) stream was opened, or {@code null}
 * @param offlineReason why it went offline, or {@code null} while online
 * @param certificateExpiresAt when the newest client certificate the hub signed for the node
 *                      expires, or {@code null} for a node without one (a hub without TLS)
 */
public record NodeView(NodeInfo info, NodeStatus status, Instant lastSeen, Instant connectedAt,
        String offlineReason, Instant certificateExpiresAt) {
    public NodeView {
        Objects.requireNonNull(info, "info");
        Objects.requireNonNull(status, "status");
    }

    /** A view of a node without a certificate. */
    public NodeView(NodeInfo info, NodeStatus status, Instant lastSeen, Instant connectedAt, String offlineReason) {
        this(info, status, lastSeen, connectedAt, offlineReason, null);
    }
}

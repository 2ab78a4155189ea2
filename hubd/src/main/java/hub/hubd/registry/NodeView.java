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
 * @param hub           the id of the hub holding its stream, in a cluster; {@code null} for one
 *                      hub, and while offline
 */
public record NodeView(NodeInfo info, NodeStatus status, Instant lastSeen, Instant connectedAt,
        String offlineReason, Instant certificateExpiresAt, String hub) {
    public NodeView {
        Objects.requireNonNull(info, "info");
        Objects.requireNonNull(status, "status");
    }

    /** A view outside a cluster. */
    public NodeView(NodeInfo info, NodeStatus status, Instant lastSeen, Instant connectedAt, String offlineReason,
            Instant certificateExpiresAt) {
        this(info, status, lastSeen, connectedAt, offlineReason, certificateExpiresAt, null);
    }

    /** This view as the cluster's presence sees it: online on {@code hubId}. */
    public NodeView onlineOn(String hubId) {
        return new NodeView(info, NodeStatus.ONLINE, lastSeen, connectedAt, null, certificateExpiresAt, hubId);
    }

    /** This view offline (no hub holds it), for {@code reason} unless the stored view has one. */
    public NodeView offline(String reason) {
        return new NodeView(info, NodeStatus.OFFLINE, lastSeen, connectedAt,
                status == NodeStatus.OFFLINE && offlineReason != null ? offlineReason : reason,
                certificateExpiresAt, null);
    }

    /** A view of a node without a certificate. */
    public NodeView(NodeInfo info, NodeStatus status, Instant lastSeen, Instant connectedAt, String offlineReason) {
        this(info, status, lastSeen, connectedAt, offlineReason, null);
    }
}

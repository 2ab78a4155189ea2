package hub.hubd.registry;

import java.util.Objects;

/**
 * A node as stored: its view plus the hash of its bearer credential, if it still has one.
 *
 * @param view           identity and last persisted liveness
 * @param credentialHash hex SHA-256 of the node credential; {@code null} for a node that
 *                       authenticates with a client certificate
 */
public record NodeRecord(NodeView view, String credentialHash) {
    public NodeRecord {
        Objects.requireNonNull(view, "view");
    }

    public String id() {
        return view.info().id();
    }
}

package hub.hubd.registry;

import java.util.Objects;

/**
 * A node as stored: its view plus the hash of its credential.
 *
 * @param view           identity and last persisted liveness
 * @param credentialHash hex SHA-256 of the node credential
 */
public record NodeRecord(NodeView view, String credentialHash) {
    public NodeRecord {
        Objects.requireNonNull(view, "view");
        Objects.requireNonNull(credentialHash, "credentialHash");
    }

    public String id() {
        return view.info().id();
    }
}

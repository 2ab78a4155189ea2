package hub.hubd.registry;

import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Nodes as stored. Implementations block on the database: only the write-behind writer, the
 * join executor and HTTP handlers call them, never a gRPC thread.
 */
public interface NodeRepository {

    /** Every stored node, for loading the registry at start. */
    List<NodeRecord> loadAll();

    /**
     * In one transaction: takes one use of the join token with hash {@code tokenHash} and inserts
     * the node described by {@code hello} with id {@code nodeId}, owned by the token's owner, with
     * the token's labels over the agent's.
     *
     * @throws hub.hubd.core.HubException UNAUTHENTICATED (and inserts nothing) when the token is
     *         unknown, expired, revoked or used up
     */
    NodeRecord insertJoined(String tokenHash, String nodeId, String credentialHash, AgentHello hello,
            long nowMillis);

    /** Writes the liveness and description of these nodes; rows that no longer exist are skipped. */
    void updateLive(Collection<NodeView> nodes);

    /** Every stored node, with its last persisted liveness: one query. */
    List<NodeView> list(String ownerOrNull);

    /** The stored node with this id. */
    Optional<NodeView> find(String id);

    /** Stored nodes with this display name. */
    List<NodeView> findByName(String name);

    /** Deletes the node; false when there was none. */
    boolean delete(String id);
}

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
     * A node asking to join.
     *
     * @param tokenHash      hash of the join token it presented
     * @param nodeId         the id it will get
     * @param credentialHash hash of the credential it will get
     * @param hello          what it said about itself
     */
    record JoinRequest(String tokenHash, String nodeId, String credentialHash, AgentHello hello) {
    }

    /** The outcome of one join: the stored node, or why it was refused. */
    record JoinResult(NodeRecord record, hub.hubd.core.HubException error) {
    }

    /**
     * In one transaction, for each request in its own savepoint: takes one use of the join token
     * and inserts the node, owned by the token's owner, with the token's labels over the agent's.
     * A refused request (token unknown, expired, revoked or used up: UNAUTHENTICATED; bad labels:
     * INVALID) inserts nothing and takes no use, without affecting the others.
     *
     * @return one result per request, in order
     * @throws hub.hubd.core.StoreException when the transaction itself fails (nothing stored)
     */
    List<JoinResult> insertJoined(List<JoinRequest> requests, long nowMillis);

    /** Writes the liveness and description of these nodes; rows that no longer exist are skipped. */
    void updateLive(Collection<NodeView> nodes);

    /** Every stored node (owned by the user id {@code ownerOrNull}), with its last persisted liveness: one query. */
    List<NodeView> list(String ownerOrNull);

    /** The stored node with this id. */
    Optional<NodeView> find(String id);

    /** Stored nodes with this display name. */
    List<NodeView> findByName(String name);

    /** Deletes the node; false when there was none. */
    boolean delete(String id);

    /** Gives the node to the user with id {@code ownerId}; false when there is no such node. */
    default boolean setOwner(String id, String ownerId) {
        throw new UnsupportedOperationException("assigning nodes");
    }

    /** One stored node with its credential, for a hub of a cluster meeting a node another hub let in. */
    default Optional<NodeRecord> load(String id) {
        return loadAll().stream().filter(r -> r.id().equals(id)).findFirst();
    }

    /** Marks the nodes offline for {@code reason} (their hub was lost): one statement. */
    default void markOffline(Collection<String> ids, String reason) {
        throw new UnsupportedOperationException("marking nodes offline");
    }
}

package hub.hubd.registry;

import hub.hubd.core.HubException;
import hub.hubd.events.Event;
import hub.hubd.events.EventPublisher;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live nodes of this hub, in memory. Every operation here is non-blocking: no database, no
 * network, only short per-node locks. Changes that must reach the database are recorded in a
 * dirty set that {@link WriteBehindWriter} drains; at most one pending write per node, so the
 * set is bounded by the number of nodes and a slow database only delays persistence.
 *
 * <p>Thread safety: the maps are concurrent; each {@link LiveNode} is mutated only while holding
 * its own monitor, and its fields are volatile for lock-free reads (snapshots, heartbeats).
 */
public final class NodeRegistry {
    private static final Logger log = LoggerFactory.getLogger(NodeRegistry.class);

    private final ConcurrentHashMap<String, LiveNode> byId = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, LiveNode> byCredential = new ConcurrentHashMap<>();
    private final Set<String> dirty = ConcurrentHashMap.newKeySet();
    /** Node ids by name (names are unique for new nodes; older data may hold duplicates). */
    private final ConcurrentHashMap<String, Set<String>> byName = new ConcurrentHashMap<>();
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final Duration heartbeatInterval;
    private volatile Runnable dirtyListener = () -> { };
    private volatile PresenceListener presence = PresenceListener.NONE;
    private volatile Adopter adopter;

    /** Told when this hub takes or loses a node's stream: the cluster's presence. */
    public interface PresenceListener {
        PresenceListener NONE = new PresenceListener() {
            @Override
            public void held(String nodeId) {
            }

            @Override
            public void released(String nodeId) {
            }
        };

        void held(String nodeId);

        void released(String nodeId);
    }

    /** Finds a node another hub of the cluster let in (the database), off the caller's thread. */
    public interface Adopter {
        /** Completes with whether the node is now known here. */
        java.util.concurrent.CompletableFuture<Boolean> adopt(String nodeId);
    }

    public NodeRegistry(Clock clock, LongSupplier nanoTime, Duration heartbeatInterval) {
        this.clock = clock;
        this.nanoTime = nanoTime;
        this.heartbeatInterval = heartbeatInterval;
    }

    /** One node's live state. Guarded by its own monitor for writes; volatile for reads. */
    private static final class LiveNode {
        /** Null once the node has a certificate (or never had a credential). */
        volatile String credentialHash;
        volatile Instant certificateExpiresAt;
        volatile NodeInfo info;
        volatile NodeSession session;
        volatile NodeStatus status = NodeStatus.OFFLINE;
        volatile Instant lastSeen;
        volatile Instant connectedAt;
        volatile String offlineReason;
        volatile long lastHeartbeatNanos;

        LiveNode(NodeInfo info, String credentialHash) {
            this.info = info;
            this.credentialHash = credentialHash;
        }

        NodeView view() {
            return new NodeView(info, status, lastSeen, connectedAt, offlineReason, certificateExpiresAt);
        }
    }

    /** Where this hub's takes and losses of node streams are reported (a cluster's presence). */
    public void onPresence(PresenceListener listener) {
        this.presence = listener;
    }

    /** In a cluster: how a node unknown here is looked up before its reconnect is refused. */
    public void adoptWith(Adopter a) {
        this.adopter = a;
    }

    /** The adopter, or null outside a cluster. */
    public Adopter adopter() {
        return adopter;
    }

    /**
     * Adds a node another hub of the cluster let in, offline here; a node already known is kept
     * as it is (its live state here wins).
     */
    public void adopt(NodeRecord r) {
        LiveNode n = new LiveNode(r.view().info(), r.credentialHash());
        NodeView v = r.view();
        n.lastSeen = v.lastSeen();
        n.connectedAt = v.connectedAt();
        n.offlineReason = v.offlineReason();
        n.certificateExpiresAt = v.certificateExpiresAt();
        if (byId.putIfAbsent(r.id(), n) == null) {
            named(v.info().name(), r.id());
            if (r.credentialHash() != null) {
                byCredential.put(r.credentialHash(), n);
            }
        }
    }

    /**
     * Makes this hub's set of nodes that of the shared database: adopts the nodes other hubs let in
     * and forgets those they removed (closing a stream held here). Descriptions of nodes not held
     * here follow the stored ones. No events: the hub that made each change published it. A node
     * whose stream this hub holds, or that joined after {@code readAt} (when {@code stored} was
     * read), is never forgotten here: its removal reaches this hub on the cluster's bus.
     *
     * @return how many nodes were adopted and forgotten
     */
    public int reconcile(Collection<NodeRecord> stored, Instant readAt) {
        Set<String> ids = new java.util.HashSet<>(stored.size() * 2);
        int changed = 0;
        for (NodeRecord r : stored) {
            ids.add(r.id());
            LiveNode n = byId.get(r.id());
            if (n == null) {
                adopt(r);
                changed++;
            } else if (n.session == null) {
                synchronized (n) {
                    NodeInfo next = r.view().info();
                    if (!next.name().equals(n.info.name())) {
                        unnamed(n.info.name(), r.id());
                        named(next.name(), r.id());
                    }
                    n.info = next;
                }
            }
        }
        for (Map.Entry<String, LiveNode> e : byId.entrySet()) {
            LiveNode n = e.getValue();
            if (!ids.contains(e.getKey()) && n.session == null && !n.info.createdAt().isAfter(readAt)) {
                forget(e.getKey(), "node removed");
                changed++;
            }
        }
        return changed;
    }

    /** Forgets a node removed on another hub, closing its stream if this hub holds it; no event. */
    public void forget(String nodeId, String why) {
        drop(nodeId, why);
    }

    /** Takes the node out of every index and closes its stream here; the node, or null if unknown. */
    private LiveNode drop(String nodeId, String why) {
        LiveNode n = byId.remove(nodeId);
        if (n == null) {
            return null;
        }
        unnamed(n.info.name(), nodeId);
        String cred = n.credentialHash;
        if (cred != null) {
            byCredential.remove(cred, n);
        }
        dirty.remove(nodeId);
        NodeSession s;
        synchronized (n) {
            s = n.session;
            n.session = null;
        }
        if (s != null) {
            presence.released(nodeId);
            s.close(why);
        }
        return n;
    }

    /** The ids of the nodes whose streams this hub holds. */
    public List<String> heldIds() {
        List<String> out = new ArrayList<>();
        byId.forEach((id, n) -> {
            if (n.session != null) {
                out.add(id);
            }
        });
        return out;
    }

    /** Called (from any thread) whenever a node becomes dirty; the writer uses it to wake up. */
    public void onDirty(Runnable listener) {
        this.dirtyListener = listener;
    }

    /** The interval agents are told to heartbeat at. */
    public Duration heartbeatInterval() {
        return heartbeatInterval;
    }

    /**
     * Loads stored nodes at start. Nodes stored as online were cut off by a hub stop or crash:
     * they become offline with reason {@code hub restart}, and that is written back.
     */
    public void load(Collection<NodeRecord> records) {
        load(records, false);
    }

    /**
     * Loads stored nodes at start. With {@code shared} (a cluster) a node stored as online may be
     * held by another hub: its status is left to presence, not rewritten.
     */
    public void load(Collection<NodeRecord> records, boolean shared) {
        for (NodeRecord r : records) {
            LiveNode n = new LiveNode(r.view().info(), r.credentialHash());
            NodeView v = r.view();
            n.lastSeen = v.lastSeen();
            n.connectedAt = v.connectedAt();
            n.offlineReason = v.offlineReason();
            n.certificateExpiresAt = v.certificateExpiresAt();
            if (v.status() == NodeStatus.ONLINE && !shared) {
                n.offlineReason = OfflineReason.HUB_RESTART;
                markDirty(r.id());
            }
            byId.put(r.id(), n);
            named(r.view().info().name(), r.id());
            if (r.credentialHash() != null) {
                byCredential.put(r.credentialHash(), n);
            }
        }
        log.info("loaded {} nodes", records.size());
    }

    private volatile EventPublisher events = EventPublisher.NONE;

    /** Where node online/offline/updated/removed (and, when wanted, heartbeat) events go. */
    public void publishTo(EventPublisher publisher) {
        this.events = publisher;
    }

    /** Gives the node to another owner (stored already); events about it follow the new owner. */
    public void setOwner(String nodeId, String ownerId) {
        LiveNode n = byId.get(nodeId);
        if (n == null) {
            return;
        }
        synchronized (n) {
            NodeInfo i = n.info;
            n.info = new NodeInfo(i.id(), i.name(), i.hostname(), i.os(), i.arch(), i.agentVersion(), i.labels(),
                    ownerId, i.createdAt());
        }
    }

    /** Whether a node other than {@code exceptId} (null: any) is called {@code name}. */
    public boolean nameTaken(String name, String exceptId) {
        Set<String> ids = byName.get(name);
        return ids != null && ids.stream().anyMatch(id -> !id.equals(exceptId));
    }

    private void named(String name, String id) {
        byName.computeIfAbsent(name, k -> ConcurrentHashMap.newKeySet()).add(id);
    }

    private void unnamed(String name, String id) {
        byName.computeIfPresent(name, (k, ids) -> {
            ids.remove(id);
            return ids.isEmpty() ? null : ids;
        });
    }

    /** The node's description, from memory (never blocks); {@code null} for an unknown node. */
    public NodeInfo info(String nodeId) {
        LiveNode n = byId.get(nodeId);
        return n == null ? null : n.info;
    }

    /**
     * Adds a node that just joined (already stored) and attaches its stream.
     *
     * @param credential its new bearer credential (a hub without TLS), or null (then the caller
     *                   signs its certificate and reports it with {@link #certificateIssued})
     */
    public Welcome attachJoined(NodeRecord record, String credential, NodeSession session) {
        LiveNode n = new LiveNode(record.view().info(), record.credentialHash());
        byId.put(record.id(), n);
        named(record.view().info().name(), record.id());
        if (record.credentialHash() != null) {
            byCredential.put(record.credentialHash(), n);
        }
        attach(n, session);
        return new Welcome(record.id(), credential, n.info.name(), heartbeatInterval, null, true);
    }

    /**
     * Reconnects a known node that authenticated with its client certificate (checked by TLS and by
     * the caller against the node id). Memory only.
     *
     * @throws HubException UNAUTHENTICATED when the node is not known (removed: the registry is the
     *                      revocation list)
     */
    public Welcome reconnectById(String nodeId, AgentHello hello, NodeSession session) {
        LiveNode n = byId.get(nodeId);
        if (n == null) {
            throw HubException.unauthenticated("node " + nodeId + " is not known to this hub (removed?); "
                    + "its certificate is no longer accepted: join again with a join token");
        }
        return reconnect(n, hello, session);
    }

    /**
     * Records that the hub signed a certificate for the node: its expiry is kept, and a bearer
     * credential it still had stops working at once (and is deleted from the store with the next
     * write of the node).
     */
    public void certificateIssued(String nodeId, Instant expiresAt) {
        LiveNode n = byId.get(nodeId);
        if (n == null) {
            return;
        }
        synchronized (n) {
            n.certificateExpiresAt = expiresAt;
            String old = n.credentialHash;
            if (old != null) {
                byCredential.remove(old, n);
                n.credentialHash = null;
            }
        }
        markDirty(nodeId);
    }

    /**
     * Reconnects a known node by the hash of its credential. Memory only: works while the
     * database is slow or locked.
     *
     * @throws HubException UNAUTHENTICATED when no node has this credential
     */
    public Welcome reconnect(String credentialHash, AgentHello hello, NodeSession session) {
        LiveNode n = byCredential.get(credentialHash);
        if (n == null) {
            throw HubException.unauthenticated("unknown node credential (node removed?); join again");
        }
        return reconnect(n, hello, session);
    }

    private Welcome reconnect(LiveNode n, AgentHello hello, NodeSession session) {
        NodeInfo before;
        NodeInfo after;
        synchronized (n) {
            before = n.info;
            NodeInfo next = n.info.updatedBy(hello);
            if (!next.name().equals(before.name())) {
                if (nameTaken(next.name(), before.id())) {
                    next = next.withName(before.name()); // names are unique: a rename to a taken one is not made
                } else {
                    unnamed(before.name(), before.id());
                    named(next.name(), before.id());
                }
            }
            n.info = next;
            after = n.info;
        }
        attach(n, session);
        if (!after.equals(before)) {
            events.publish(new Event.NodeUpdated(after.id(), after.owner(), after.name(), after.hostname(),
                    after.agentVersion(), after.labels()));
        }
        return new Welcome(n.info.id(), null, n.info.name(), heartbeatInterval, null, false);
    }

    private void attach(LiveNode n, NodeSession session) {
        NodeSession previous;
        synchronized (n) {
            previous = n.session;
            Instant now = clock.instant();
            n.session = session;
            n.status = NodeStatus.ONLINE;
            n.connectedAt = now;
            n.lastSeen = now;
            n.offlineReason = null;
            n.lastHeartbeatNanos = nanoTime.getAsLong();
        }
        if (previous != null && previous != session) {
            previous.close(OfflineReason.REPLACED);
        }
        presence.held(n.info.id());
        markDirty(n.info.id());
        NodeInfo info = n.info;
        events.publish(new Event.NodeOnline(info.id(), info.owner(), info.name(), session.remoteAddress()));
    }

    /** Records a heartbeat from {@code session}; ignored if the session is no longer current. */
    public void heartbeat(String nodeId, NodeSession session) {
        LiveNode n = byId.get(nodeId);
        if (n != null && n.session == session) {
            n.lastHeartbeatNanos = nanoTime.getAsLong();
            n.lastSeen = clock.instant();
            EventPublisher e = events;
            if (e.wants("node.heartbeat")) {
                e.publish(new Event.NodeHeartbeat(nodeId, n.info.owner()));
            }
        }
    }

    /**
     * Something other than a heartbeat came from {@code session} (task output, a result, file
     * data): the agent is alive. An agent whose stream is backed up with output may hold its
     * heartbeats back; it is not offline for that. No event.
     */
    public void heard(String nodeId, NodeSession session) {
        LiveNode n = byId.get(nodeId);
        if (n != null && n.session == session) {
            n.lastHeartbeatNanos = nanoTime.getAsLong();
            n.lastSeen = clock.instant();
        }
    }

    /**
     * Marks the node offline with {@code reason} if {@code session} is still its current stream.
     *
     * @return whether the node went offline because of this call
     */
    public boolean detach(String nodeId, NodeSession session, String reason) {
        LiveNode n = byId.get(nodeId);
        if (n == null) {
            return false;
        }
        synchronized (n) {
            if (n.session != session || session == null) {
                return false;
            }
            n.session = null;
            n.status = NodeStatus.OFFLINE;
            n.offlineReason = reason;
        }
        presence.released(nodeId);
        markDirty(nodeId);
        events.publish(new Event.NodeOffline(nodeId, n.info.owner(), n.info.name(), reason));
        return true;
    }

    /**
     * Marks offline every online node whose last heartbeat is older than 3 intervals, and closes
     * its stream. Called by the liveness scheduler; cost is one pass over the map.
     *
     * @return how many nodes went offline
     */
    public int expireSilentNodes() {
        long deadline = nanoTime.getAsLong() - 3 * heartbeatInterval.toNanos();
        int expired = 0;
        for (Map.Entry<String, LiveNode> e : byId.entrySet()) {
            LiveNode n = e.getValue();
            NodeSession s = n.session;
            if (s != null && n.lastHeartbeatNanos - deadline < 0
                    && detach(e.getKey(), s, OfflineReason.MISSED_HEARTBEATS)) {
                s.close(OfflineReason.MISSED_HEARTBEATS);
                expired++;
            }
        }
        return expired;
    }

    /**
     * Hub shutdown: marks every online node offline with {@code reason} and then asks its agent to
     * drain (close and reconnect later). The order matters: the stream's own close, which follows
     * the drain, must not overwrite the reason.
     *
     * @return how many nodes were online
     */
    public int drainAll(String reason) {
        return drainAll(reason, List.of());
    }

    /** {@link #drainAll(String)}, sending the agents to {@code hubs} (the other hubs of a cluster). */
    public int drainAll(String reason, List<String> hubs) {
        java.time.Duration window = reconnectWindow(onlineCount());
        int count = 0;
        for (Map.Entry<String, LiveNode> e : byId.entrySet()) {
            NodeSession s = e.getValue().session;
            if (s != null && detach(e.getKey(), s, reason)) {
                s.drain(reason, hubs, window);
                count++;
            }
        }
        return count;
    }

    /**
     * The window a Drain of every known node would ask for: by when agents drained by the last stop
     * of a hub with this registry are back (an upper bound: that Drain counted only those online).
     */
    public java.time.Duration reconnectWindow() {
        return reconnectWindow(size());
    }

    /** The pace a draining hub asks its fleet to come back at: agents a second. */
    static final int RECONNECTS_PER_SECOND = 1000;

    /**
     * Over how long {@code agents} should spread their reconnects to arrive at about
     * {@link #RECONNECTS_PER_SECOND}: at least 1 s, at most a minute.
     */
    static java.time.Duration reconnectWindow(int agents) {
        long ms = (long) agents * 1000 / RECONNECTS_PER_SECOND;
        return java.time.Duration.ofMillis(Math.max(1000, Math.min(60_000, ms)));
    }

    /** Forgets a removed node and closes its stream. */
    public void remove(String nodeId) {
        LiveNode n = drop(nodeId, "node removed");
        if (n != null) {
            events.publish(new Event.NodeRemoved(nodeId, n.info.owner(), n.info.name(), n.info.labels()));
        }
    }

    /** The live view of every node this hub holds: one pass, no database. */
    public Map<String, NodeView> snapshot() {
        Map<String, NodeView> out = new HashMap<>(byId.size() * 2);
        byId.forEach((id, n) -> out.put(id, n.view()));
        return out;
    }

    /** The live view of one node. */
    public Optional<NodeView> get(String nodeId) {
        LiveNode n = byId.get(nodeId);
        return n == null ? Optional.empty() : Optional.of(n.view());
    }

    /** The node's current stream, if it is online here. */
    public Optional<NodeSession> session(String nodeId) {
        LiveNode n = byId.get(nodeId);
        return n == null ? Optional.empty() : Optional.ofNullable(n.session);
    }

    /** Number of nodes with an attached stream. */
    public int onlineCount() {
        int c = 0;
        for (LiveNode n : byId.values()) {
            if (n.session != null) {
                c++;
            }
        }
        return c;
    }

    /** Number of nodes known. */
    public int size() {
        return byId.size();
    }

    // --- write-behind support -------------------------------------------------------------

    private void markDirty(String nodeId) {
        if (dirty.add(nodeId)) {
            dirtyListener.run();
        }
    }

    /** Number of nodes with a pending write: the write-behind queue depth. */
    public int dirtyCount() {
        return dirty.size();
    }

    /**
     * Takes up to {@code max} pending writes, each the node's current state (so several changes
     * of one node coalesce into one write of the latest).
     */
    public List<NodeView> takeDirty(int max) {
        List<NodeView> out = new ArrayList<>(Math.min(max, dirty.size()));
        var it = dirty.iterator();
        while (it.hasNext() && out.size() < max) {
            String id = it.next();
            it.remove();
            LiveNode n = byId.get(id);
            if (n != null) {
                out.add(n.view());
            }
        }
        return out;
    }

    /** Puts back writes that failed, unless a newer change is already pending. */
    public void requeue(Collection<NodeView> failed) {
        for (NodeView v : failed) {
            markDirty(v.info().id());
        }
    }
}

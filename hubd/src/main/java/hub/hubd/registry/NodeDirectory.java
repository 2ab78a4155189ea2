package hub.hubd.registry;

import hub.hubd.auth.Principal;
import hub.hubd.auth.Role;
import hub.hubd.core.HubException;
import hub.hubd.core.Selector;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Node queries and removal for the API: stored nodes merged with live state in one batch (one
 * query plus one registry snapshot, never a lookup per node), filtered by what the caller may see.
 */
public final class NodeDirectory {
    private static final Pattern ID = Pattern.compile("[0-9a-z]{16}");

    private final NodeRepository repo;
    private final NodeRegistry registry;
    private final java.util.function.Consumer<String> onRemoved;
    private volatile NodeLocator locator;

    public NodeDirectory(NodeRepository repo, NodeRegistry registry) {
        this(repo, registry, id -> { });
    }

    /** @param onRemoved told the id of each removed node (its history is deleted and its tasks fail there) */
    public NodeDirectory(NodeRepository repo, NodeRegistry registry, java.util.function.Consumer<String> onRemoved) {
        this.repo = repo;
        this.registry = registry;
        this.onRemoved = onRemoved;
    }

    /**
     * In a cluster: live status comes from presence for the nodes other hubs hold (one batched
     * read per query), and from this hub's registry for its own.
     */
    public void locateWith(NodeLocator l) {
        this.locator = l;
    }

    /** Whether live state comes from a cluster's presence. */
    public boolean clustered() {
        return locator != null;
    }

    /** The views of {@code stored} with live state: this hub's registry, then presence. */
    private List<NodeView> merged(List<NodeView> stored) {
        Map<String, NodeView> live = registry.snapshot();
        NodeLocator loc = locator;
        if (loc == null) {
            List<NodeView> out = new ArrayList<>(stored.size());
            for (NodeView s : stored) {
                out.add(live.getOrDefault(s.info().id(), s));
            }
            return out;
        }
        List<String> elsewhere = new ArrayList<>();
        for (NodeView s : stored) {
            NodeView v = live.get(s.info().id());
            if (v == null || v.status() != NodeStatus.ONLINE) {
                elsewhere.add(s.info().id());
            }
        }
        Map<String, String> where = loc.holders(elsewhere);
        List<NodeView> out = new ArrayList<>(stored.size());
        for (NodeView s : stored) {
            out.add(merge(s, live.get(s.info().id()), where, loc));
        }
        return out;
    }

    private static NodeView merge(NodeView stored, NodeView live, Map<String, String> where, NodeLocator loc) {
        if (live != null && live.status() == NodeStatus.ONLINE) {
            return live.onlineOn(loc.localHub());
        }
        String hub = where.get(stored.info().id());
        // The stored row is the freshest description of a node another hub holds (or held).
        return hub != null ? stored.onlineOn(hub) : stored.offline(OfflineReason.HUB_LOST);
    }

    /** One node's view with live state (see {@link #merged}). */
    private NodeView merged(NodeView v) {
        NodeLocator loc = locator;
        if (loc == null) {
            return v;
        }
        Optional<NodeView> live = registry.get(v.info().id());
        if (live.isPresent() && live.get().status() == NodeStatus.ONLINE) {
            return live.get().onlineOn(loc.localHub());
        }
        NodeView stored = repo.find(v.info().id()).orElse(v);
        return merge(stored, live.orElse(null), loc.holders(List.of(v.info().id())), loc);
    }

    /** A filter on the node list; {@code null} fields match everything. */
    public record Filter(NodeStatus status, Selector selector) {
        boolean matches(NodeView v) {
            return (status == null || v.status() == status)
                    && (selector == null || selector.matches(v.info().labels()));
        }
    }

    /** What {@code by} may do on {@code v}; {@code null} when it may not see it. */
    public static Role roleOn(Principal by, NodeView v) {
        return by.roleOn(v.info().owner(), v.info().labels());
    }

    private static boolean visible(Principal by, NodeView v) {
        return roleOn(by, v) != null;
    }

    /**
     * @throws HubException FORBIDDEN unless {@code by} has at least {@code needed} on {@code v}
     *         (which it can see: callers resolve first, so an invisible node is NOT_FOUND)
     */
    public static void require(Principal by, NodeView v, Role needed) {
        Role r = roleOn(by, v);
        if (r == null || !r.atLeast(needed)) {
            throw HubException.forbidden("this needs the " + needed.wireName() + " role on node "
                    + v.info().name() + "; " + by.user() + " has " + (r == null ? "none" : r.wireName()));
        }
    }

    /** The nodes {@code by} may see that match {@code filter}, sorted by name then id. */
    public List<NodeView> list(Principal by, Filter filter) {
        // Owners read their own rows; with grants (or as admin) every row, filtered here.
        boolean all = by.seesAllNodes() || by.hasGrants();
        List<NodeView> views = merged(repo.list(all ? null : by.userId()));
        List<NodeView> out = new ArrayList<>(views.size());
        for (NodeView v : views) {
            if (filter.matches(v) && (!all || visible(by, v))) {
                out.add(v);
            }
        }
        out.sort(Comparator.comparing((NodeView v) -> v.info().name()).thenComparing(v -> v.info().id()));
        return out;
    }

    /**
     * Resolves a node id or unique name visible to {@code by}.
     *
     * @throws HubException NOT_FOUND, or CONFLICT when a name matches several nodes
     */
    public NodeView resolve(Principal by, String ref) {
        if (ref == null || ref.isBlank()) {
            throw HubException.invalid("missing node id or name");
        }
        if (ID.matcher(ref).matches()) {
            Optional<NodeView> byId = registry.get(ref).or(() -> repo.find(ref));
            if (byId.isPresent()) {
                // An id names that node only: never another node that happens to be called so.
                return byId.filter(v -> visible(by, v)).map(this::merged)
                        .orElseThrow(() -> HubException.notFound("no node '" + ref + "'"));
            }
        }
        List<NodeView> named = repo.findByName(ref).stream()
                .filter(v -> visible(by, v)).toList();
        if (named.isEmpty()) {
            throw HubException.notFound("no node '" + ref + "'");
        }
        if (named.size() > 1) {
            throw HubException.conflict("node name '" + ref + "' matches " + named.size()
                    + " nodes; use the node id");
        }
        NodeView v = named.get(0);
        return merged(registry.get(v.info().id()).orElse(v));
    }

    /**
     * The node with id {@code id}, if {@code by} may see it: for objects that name their node by id
     * (tasks), which must never resolve through a name.
     *
     * @throws HubException NOT_FOUND when there is none, or {@code by} may not see it
     */
    public NodeView byId(Principal by, String id) {
        return registry.get(id).or(() -> repo.find(id)).filter(v -> visible(by, v)).map(this::merged)
                .orElseThrow(() -> HubException.notFound("no node '" + id + "'"));
    }

    /** A node's live view from the registry (no access check: for the hub's own work, such as runs). */
    public Optional<NodeView> registryView(String id) {
        return Optional.ofNullable(liveViews(List.of(id)).get(id));
    }

    /**
     * The live views of the nodes {@code ids} that exist (no access check: for the hub's own work,
     * such as runs): this hub's registry, and in a cluster one batched presence read for the nodes
     * other hubs hold.
     */
    public Map<String, NodeView> liveViews(java.util.Collection<String> ids) {
        Map<String, NodeView> out = new java.util.HashMap<>();
        List<String> elsewhere = new ArrayList<>();
        for (String id : ids) {
            Optional<NodeView> v = registry.get(id);
            if (v.isEmpty()) {
                continue;
            }
            out.put(id, v.get());
            if (v.get().status() != NodeStatus.ONLINE) {
                elsewhere.add(id);
            }
        }
        NodeLocator loc = locator;
        if (loc != null && !elsewhere.isEmpty()) {
            loc.holders(elsewhere).forEach((id, hub) -> out.computeIfPresent(id, (k, v) -> v.onlineOn(hub)));
        }
        return out;
    }

    /** Removes a node: deletes it and its terminal history, closes its stream and forgets it. */
    public NodeView remove(Principal by, String ref) {
        NodeView v = resolve(by, ref);
        // Its owner (an operator) or an admin: a grant lets one run commands on a node, not remove it.
        if (!by.seesAllNodes() && !(by.owns(v.info().owner()) && by.role().atLeast(Role.OPERATOR))) {
            throw HubException.forbidden("only an admin or its owner (an operator) may remove node "
                    + v.info().name());
        }
        repo.delete(v.info().id());
        registry.remove(v.info().id());
        onRemoved.accept(v.info().id());
        return v;
    }

    /**
     * Gives a node to the user with id {@code ownerId} (admins only): its stored owner and the
     * registry's copy change together, so access follows at once.
     */
    public NodeView assign(Principal by, String ref, String ownerId) {
        by.require(Role.ADMIN);
        NodeView v = resolve(by, ref);
        if (!repo.setOwner(v.info().id(), ownerId)) {
            throw HubException.notFound("no node '" + ref + "'");
        }
        registry.setOwner(v.info().id(), ownerId);
        return byId(by, v.info().id());
    }

    /**
     * Removes every node offline since before {@code cutoff} (never seen: since it joined), as
     * {@code hubd --node-expiry} does each minute; the removed nodes, for the audit log.
     */
    public List<NodeView> expire(java.time.Instant cutoff) {
        List<NodeView> gone = new ArrayList<>();
        // In a cluster the stored rows carry the last-seen times the holding hubs wrote, and
        // presence says which are online elsewhere: never expire a node another hub holds.
        var views = locator == null ? registry.snapshot().values() : merged(repo.list(null));
        for (NodeView v : views) {
            java.time.Instant last = v.lastSeen() != null ? v.lastSeen() : v.info().createdAt();
            if (v.status() == NodeStatus.OFFLINE && last.isBefore(cutoff)) {
                repo.delete(v.info().id());
                registry.remove(v.info().id());
                onRemoved.accept(v.info().id());
                gone.add(v);
            }
        }
        return gone;
    }

    /** The nodes were given to {@code ownerId} in the database (a removed user's): follow in memory. */
    public void reassigned(List<String> nodeIds, String ownerId) {
        for (String id : nodeIds) {
            registry.setOwner(id, ownerId);
        }
    }
}

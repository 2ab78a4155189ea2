package hub.hubd.store;

import hub.hubd.core.HubException;
import hub.hubd.registry.AgentHello;
import hub.hubd.registry.NodeInfo;
import hub.hubd.registry.NodeRecord;
import hub.hubd.registry.NodeRepository;
import hub.hubd.registry.NodeStatus;
import hub.hubd.registry.NodeView;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@link NodeRepository} over JDBC. */
public final class JdbcNodeRepository implements NodeRepository {
    private static final String COLUMNS = "id, name, hostname, os, arch, agent_version, labels, owner, "
            + "created_at, status, offline_reason, connected_at, last_seen, credential_hash, cert_expires_at";
    private final Jdbc jdbc;

    public JdbcNodeRepository(Database db) {
        this.jdbc = db.jdbc();
    }

    @Override
    public List<NodeRecord> loadAll() {
        return jdbc.query("SELECT " + COLUMNS + " FROM nodes",
                rs -> new NodeRecord(view(rs), rs.getString("credential_hash")));
    }

    @Override
    public Optional<NodeRecord> load(String id) {
        return jdbc.queryOne("SELECT " + COLUMNS + " FROM nodes WHERE id = ?",
                rs -> new NodeRecord(view(rs), rs.getString("credential_hash")), id);
    }

    @Override
    public void markOffline(Collection<String> ids, String reason) {
        if (ids.isEmpty()) {
            return;
        }
        List<String> all = List.copyOf(ids);
        for (int from = 0; from < all.size(); from += 500) {
            List<String> part = all.subList(from, Math.min(all.size(), from + 500));
            Object[] params = new Object[part.size() + 1];
            params[0] = reason;
            for (int i = 0; i < part.size(); i++) {
                params[i + 1] = part.get(i);
            }
            jdbc.update("UPDATE nodes SET status = 'offline', offline_reason = ? WHERE status = 'online' AND id IN ("
                    + String.join(", ", java.util.Collections.nCopies(part.size(), "?")) + ")", params);
        }
    }

    @Override
    public List<JoinResult> insertJoined(List<JoinRequest> requests, long nowMillis) {
        return jdbc.inTransaction(c -> {
            List<JoinResult> out = new ArrayList<>(requests.size());
            for (JoinRequest r : requests) {
                Savepoint sp = c.setSavepoint();
                try {
                    out.add(new JoinResult(insertJoined(c, r, nowMillis), null));
                    c.releaseSavepoint(sp);
                } catch (HubException e) {
                    c.rollback(sp);
                    out.add(new JoinResult(null, e));
                }
            }
            return out;
        });
    }

    private static NodeRecord insertJoined(Connection c, JoinRequest r, long nowMillis) throws SQLException {
        int taken = Jdbc.update(c, "UPDATE join_tokens SET uses_left = uses_left - 1 "
                + "WHERE token_hash = ? AND revoked_at IS NULL AND expires_at > ? AND uses_left > 0",
                r.tokenHash(), nowMillis);
        if (taken == 0) {
            throw HubException.unauthenticated(whyRejected(c, r.tokenHash(), nowMillis));
        }
        var token = Jdbc.query(c, "SELECT id, owner, labels FROM join_tokens WHERE token_hash = ?",
                rs -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3)}, r.tokenHash())
                .get(0);
        AgentHello hello = r.hello();
        Map<String, String> labels = new HashMap<>(hello.labels());
        labels.putAll(LabelsJson.read(token[2]));
        String name = hub.hubd.registry.NodeNames.unique(hello.displayName(), r.nodeId(), n -> {
            try {
                return !Jdbc.query(c, "SELECT 1 FROM nodes WHERE name = ?", rs -> 1, n).isEmpty();
            } catch (SQLException e) {
                throw new hub.hubd.core.StoreException("database error: " + e.getMessage(), e);
            }
        });
        NodeInfo info = new NodeInfo(r.nodeId(), name, hello.hostname(), hello.os(),
                hello.arch(), hello.agentVersion(), labels, token[1], Instant.ofEpochMilli(nowMillis));
        Jdbc.update(c, "INSERT INTO nodes (id, name, hostname, os, arch, agent_version, labels, "
                + "owner, credential_hash, join_token_id, created_at, status) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                info.id(), info.name(), info.hostname(), info.os(), info.arch(), info.agentVersion(),
                LabelsJson.write(info.labels()), info.owner(), r.credentialHash(), token[0], nowMillis,
                NodeStatus.OFFLINE.wireName());
        return new NodeRecord(new NodeView(info, NodeStatus.OFFLINE, null, null, null), r.credentialHash());
    }

    private static String whyRejected(Connection c, String tokenHash, long now) throws SQLException {
        List<String> why = Jdbc.query(c,
                "SELECT revoked_at, expires_at, uses_left FROM join_tokens WHERE token_hash = ?", rs -> {
                    rs.getLong(1);
                    if (!rs.wasNull()) {
                        return "join token revoked";
                    }
                    if (rs.getLong(2) <= now) {
                        return "join token expired";
                    }
                    return "join token used up";
                }, tokenHash);
        return why.isEmpty() ? "unknown join token" : why.get(0);
    }

    @Override
    public void updateLive(Collection<NodeView> nodes) {
        jdbc.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE nodes SET name = ?, hostname = ?, "
                    + "os = ?, arch = ?, agent_version = ?, status = ?, offline_reason = ?, "
                    + "connected_at = ?, last_seen = ?, cert_expires_at = ?, "
                    // A node with a certificate has no bearer credential any more.
                    + "credential_hash = CASE WHEN ? = 1 THEN NULL ELSE credential_hash END WHERE id = ?")) {
                for (NodeView v : nodes) {
                    NodeInfo i = v.info();
                    Jdbc.bind(ps, i.name(), i.hostname(), i.os(), i.arch(), i.agentVersion(),
                            v.status().wireName(), v.offlineReason(), Jdbc.millis(v.connectedAt()),
                            Jdbc.millis(v.lastSeen()), Jdbc.millis(v.certificateExpiresAt()),
                            v.certificateExpiresAt() != null ? 1 : 0, i.id());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    @Override
    public List<NodeView> list(String ownerOrNull) {
        return ownerOrNull == null
                ? jdbc.query("SELECT " + COLUMNS + " FROM nodes", JdbcNodeRepository::view)
                : jdbc.query("SELECT " + COLUMNS + " FROM nodes WHERE owner = ?", JdbcNodeRepository::view,
                        ownerOrNull);
    }

    @Override
    public Optional<NodeView> find(String id) {
        return jdbc.queryOne("SELECT " + COLUMNS + " FROM nodes WHERE id = ?", JdbcNodeRepository::view, id);
    }

    @Override
    public List<NodeView> findByName(String name) {
        return jdbc.query("SELECT " + COLUMNS + " FROM nodes WHERE name = ?", JdbcNodeRepository::view, name);
    }

    @Override
    public boolean delete(String id) {
        return jdbc.update("DELETE FROM nodes WHERE id = ?", id) > 0;
    }

    @Override
    public boolean setOwner(String id, String ownerId) {
        return jdbc.update("UPDATE nodes SET owner = ? WHERE id = ?", ownerId, id) > 0;
    }

    private static NodeView view(ResultSet rs) throws SQLException {
        NodeInfo info = new NodeInfo(rs.getString("id"), rs.getString("name"), rs.getString("hostname"),
                rs.getString("os"), rs.getString("arch"), rs.getString("agent_version"),
                LabelsJson.read(rs.getString("labels")), rs.getString("owner"),
                Instant.ofEpochMilli(rs.getLong("created_at")));
        return new NodeView(info, NodeStatus.parse(rs.getString("status")), Jdbc.instant(rs, "last_seen"),
                Jdbc.instant(rs, "connected_at"), rs.getString("offline_reason"), Jdbc.instant(rs, "cert_expires_at"));
    }
}

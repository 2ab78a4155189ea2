package hub.hubd.store;

import hub.hubd.audit.AuditEntry;
import hub.hubd.audit.AuditRepository;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** The audit table in SQLite or PostgreSQL. */
public final class JdbcAuditRepository implements AuditRepository {
    private static final String COLUMNS = "seq, at, user_id, user_name, token_id, remote_addr, action, target, "
            + "node_id, detail, status, result";
    private final Jdbc jdbc;

    public JdbcAuditRepository(Database db) {
        this.jdbc = db.jdbc();
    }

    @Override
    public long lastSeq() {
        return jdbc.queryOne("SELECT MAX(seq) FROM audit", rs -> rs.getLong(1)).orElse(0L);
    }

    @Override
    public void append(AuditEntry e) {
        jdbc.update("INSERT INTO audit (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                e.seq(), e.at().toEpochMilli(), e.userId(), e.userName(), e.tokenId(), e.remoteAddr(), e.action(),
                e.target(), e.nodeId(), e.detail(), e.status(), e.result());
    }

    @Override
    public List<AuditEntry> find(Query q) {
        StringBuilder where = new StringBuilder(" WHERE 1 = 1");
        List<Object> params = new ArrayList<>();
        if (q.after() != null) {
            where.append(" AND seq > ?");
            params.add(q.after());
        }
        if (q.sinceMillis() != null) {
            where.append(" AND at >= ?");
            params.add(q.sinceMillis());
        }
        if (q.userName() != null) {
            where.append(" AND user_name = ?");
            params.add(q.userName());
        }
        if (q.nodeId() != null) {
            where.append(" AND node_id = ?");
            params.add(q.nodeId());
        }
        params.add(q.limit());
        if (q.after() != null) {
            return jdbc.query("SELECT " + COLUMNS + " FROM audit" + where + " ORDER BY seq LIMIT ?",
                    JdbcAuditRepository::entry, params.toArray());
        }
        List<AuditEntry> latest = new ArrayList<>(jdbc.query("SELECT " + COLUMNS + " FROM audit" + where
                + " ORDER BY seq DESC LIMIT ?", JdbcAuditRepository::entry, params.toArray()));
        Collections.reverse(latest);
        return latest;
    }

    @Override
    public int deleteBefore(long beforeMillis) {
        return jdbc.update("DELETE FROM audit WHERE at < ?", beforeMillis);
    }

    private static AuditEntry entry(ResultSet rs) throws SQLException {
        return new AuditEntry(rs.getLong(1), Instant.ofEpochMilli(rs.getLong(2)), rs.getString(3), rs.getString(4),
                rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9),
                rs.getString(10), rs.getInt(11), rs.getString(12));
    }
}

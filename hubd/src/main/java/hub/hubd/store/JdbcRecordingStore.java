package hub.hubd.store;

import hub.hubd.sessions.RecordingStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;

/** {@link RecordingStore} over JDBC: table {@code session_recordings}. */
public final class JdbcRecordingStore implements RecordingStore {
    private static final String FINAL_STATES = "('exited', 'failed', 'timed_out', 'cancelled')";
    private final Jdbc jdbc;

    public JdbcRecordingStore(Database db) {
        this.jdbc = db.jdbc();
    }

    @Override
    public void appendAll(List<Item> items) {
        if (items.isEmpty()) {
            return;
        }
        jdbc.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO session_recordings (session_id, kind, seq, "
                    + "at_ms, node_id, data) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, kind, seq) DO NOTHING")) {
                for (Item i : items) {
                    ps.setString(1, i.sessionId());
                    ps.setInt(2, i.kind().code());
                    ps.setLong(3, i.sequence());
                    ps.setLong(4, i.atMillis());
                    ps.setString(5, i.nodeId());
                    ps.setBytes(6, i.data());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    @Override
    public List<Item> after(String sessionId, Position after, long maxBytes, int limit, boolean withInput) {
        return jdbc.inConnectionRead(c -> {
            List<Item> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT kind, seq, at_ms, node_id, data FROM session_recordings "
                    + "WHERE session_id = ? AND (at_ms > ? OR (at_ms = ? AND (kind > ? OR (kind = ? AND seq > ?))))"
                    + (withInput ? "" : " AND kind <> " + Kind.INPUT.code())
                    + " ORDER BY at_ms, kind, seq LIMIT ?")) {
                ps.setString(1, sessionId);
                ps.setLong(2, after.atMillis());
                ps.setLong(3, after.atMillis());
                ps.setInt(4, after.kind());
                ps.setInt(5, after.kind());
                ps.setLong(6, after.sequence());
                ps.setInt(7, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    long bytes = 0;
                    while (rs.next()) {
                        byte[] data = rs.getBytes("data");
                        if (!out.isEmpty() && bytes + data.length > maxBytes) {
                            break;
                        }
                        bytes += data.length;
                        out.add(new Item(sessionId, Kind.of(rs.getInt("kind")), rs.getLong("seq"), rs.getLong("at_ms"),
                                rs.getString("node_id"), data));
                    }
                }
            }
            return out;
        });
    }

    @Override
    public long outputBytes(String sessionId) {
        return jdbc.queryOne("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM session_recordings WHERE session_id = ? "
                + "AND kind = " + Kind.OUTPUT.code(), rs -> rs.getLong(1), sessionId).orElse(0L);
    }

    @Override
    public int expire(long endedBeforeMillis) {
        return jdbc.update("DELETE FROM session_recordings WHERE session_id IN (SELECT id FROM tasks WHERE "
                + "terminal IS NOT NULL AND state IN " + FINAL_STATES + " AND finished_at < ?)", endedBeforeMillis);
    }

    @Override
    public void deleteNode(String nodeId) {
        jdbc.update("DELETE FROM session_recordings WHERE node_id = ?", nodeId);
    }
}

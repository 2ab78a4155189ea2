package hub.hubd.store;

import hub.hubd.tasks.TaskOutputStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@link TaskOutputStore} over JDBC: table {@code task_output} and two columns of {@code tasks}. */
public final class JdbcTaskOutputStore implements TaskOutputStore {
    private static final String FINAL_STATES = "('exited', 'failed', 'timed_out', 'cancelled')";
    private final Jdbc jdbc;

    public JdbcTaskOutputStore(Database db) {
        this.jdbc = db.jdbc();
    }

    @Override
    public Map<String, Long> appendAll(List<RawChunk> chunks) {
        if (chunks.isEmpty()) {
            return Map.of();
        }
        return jdbc.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO task_output (task_id, seq, node_id, stream, "
                    + "data) VALUES (?, ?, ?, ?, ?) ON CONFLICT (task_id, seq) DO NOTHING")) {
                for (RawChunk ch : chunks) {
                    ps.setString(1, ch.taskId());
                    ps.setLong(2, ch.sequence());
                    ps.setString(3, ch.nodeId());
                    ps.setInt(4, ch.stderr() ? 2 : 1);
                    ps.setBytes(5, ch.data());
                    ps.addBatch();
                }
                int[] counts = ps.executeBatch();
                Map<String, Long> added = new HashMap<>();
                for (int i = 0; i < counts.length; i++) {
                    // SUCCESS_NO_INFO (-2) is taken as stored: the bound errs on the side of holding less
                    if (counts[i] != 0) {
                        added.merge(chunks.get(i).nodeId(), (long) chunks.get(i).data().length, Long::sum);
                    }
                }
                return added;
            }
        });
    }

    @Override
    public List<RawChunk> after(String taskId, long after, long maxBytes) {
        return jdbc.inConnectionRead(c -> {
            List<RawChunk> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT seq, node_id, stream, data FROM task_output "
                    + "WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT 1000")) {
                ps.setString(1, taskId);
                ps.setLong(2, after);
                try (ResultSet rs = ps.executeQuery()) {
                    long bytes = 0;
                    while (rs.next()) {
                        byte[] data = rs.getBytes("data");
                        if (!out.isEmpty() && bytes + data.length > maxBytes) {
                            break;
                        }
                        bytes += data.length;
                        out.add(new RawChunk(taskId, rs.getLong("seq"), rs.getString("node_id"),
                                rs.getInt("stream") == 2, data));
                    }
                }
            }
            return out;
        });
    }

    @Override
    public Map<String, Long> release(String taskId, long through) {
        return jdbc.inTransaction(c -> {
            Map<String, Long> freed = sums(c, "SELECT node_id, SUM(LENGTH(data)) FROM task_output WHERE task_id = ? "
                    + "AND seq <= ? GROUP BY node_id", taskId, through);
            if (!freed.isEmpty()) {
                Jdbc.update(c, "DELETE FROM task_output WHERE task_id = ? AND seq <= ?", taskId, through);
            }
            return freed;
        });
    }

    @Override
    public Map<String, Long> expire(long endedBeforeMillis) {
        String ended = "SELECT id FROM tasks WHERE id IN (SELECT DISTINCT task_id FROM task_output) "
                + "AND state IN " + FINAL_STATES + " AND finished_at < ?";
        return jdbc.inTransaction(c -> {
            Map<String, Long> freed = sums(c, "SELECT node_id, SUM(LENGTH(data)) FROM task_output WHERE task_id IN ("
                    + ended + ") GROUP BY node_id", endedBeforeMillis);
            if (!freed.isEmpty()) {
                Jdbc.update(c, "DELETE FROM task_output WHERE task_id IN (" + ended + ")", endedBeforeMillis);
            }
            return freed;
        });
    }

    @Override
    public void deleteNode(String nodeId) {
        jdbc.update("DELETE FROM task_output WHERE node_id = ?", nodeId);
    }

    @Override
    public Map<String, Long> bytesByNode() {
        return jdbc.inConnectionRead(c -> sums(c, "SELECT node_id, SUM(LENGTH(data)) FROM task_output GROUP BY node_id"));
    }

    private static Map<String, Long> sums(java.sql.Connection c, String sql, Object... params)
            throws java.sql.SQLException {
        Map<String, Long> out = new HashMap<>();
        for (var row : Jdbc.query(c, sql, rs -> Map.entry(rs.getString(1), rs.getLong(2)), params)) {
            out.put(row.getKey(), row.getValue());
        }
        return out;
    }

    @Override
    public End end(String taskId) {
        return jdbc.queryOne("SELECT output_last_seq, raw_dropped_from FROM tasks WHERE id = ?", rs -> {
            long last = rs.getLong(1);
            Long lastSeq = rs.wasNull() ? null : last;
            long dropped = rs.getLong(2);
            return new End(lastSeq, rs.wasNull() ? null : dropped);
        }, taskId).orElse(new End(null, null));
    }

    @Override
    public void ended(String taskId, long lastSequence) {
        jdbc.update("UPDATE tasks SET output_last_seq = ? WHERE id = ?", lastSequence, taskId);
    }

    @Override
    public void dropped(String taskId, long sequence) {
        jdbc.update("UPDATE tasks SET raw_dropped_from = ? WHERE id = ? AND raw_dropped_from IS NULL", sequence, taskId);
    }
}

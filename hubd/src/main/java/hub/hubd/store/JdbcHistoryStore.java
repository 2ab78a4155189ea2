package hub.hubd.store;

import hub.hubd.history.HistoryLine;
import hub.hubd.history.HistoryPage;
import hub.hubd.history.HistoryStore;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * {@link HistoryStore} in the relational database (SQLite by default). Each append is one
 * transaction: the task's sequence check, the lines, the node's counters and the trim.
 */
public final class JdbcHistoryStore implements HistoryStore {
    private final Jdbc jdbc;
    private final long maxLines;
    private final long maxBytes;

    public JdbcHistoryStore(Database db, long maxLines, long maxBytes) {
        if (maxLines < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("history caps must be positive");
        }
        this.jdbc = db.jdbc();
        this.maxLines = maxLines;
        this.maxBytes = maxBytes;
    }

    /** The node's counters. */
    private record Counters(long first, long next, long lines, long bytes) {
    }

    @Override
    public Outcome append(String nodeId, String taskId, long sequence, List<NewLine> lines, String pendingStdout,
            String pendingStderr) {
        return jdbc.inTransaction(c -> {
            long last = Jdbc.query(c, "SELECT last_sequence FROM history_task_progress WHERE task_id = ?",
                    rs -> rs.getLong(1), taskId).stream().findFirst().orElse(0L);
            if (sequence <= last) {
                return Outcome.DUPLICATE;
            }
            if (sequence != last + 1) {
                return Outcome.OUT_OF_ORDER;
            }
            if (last == 0) {
                Jdbc.update(c, "INSERT INTO history_task_progress (task_id, node_id, last_sequence, "
                        + "pending_stdout, pending_stderr) VALUES (?, ?, ?, ?, ?)",
                        taskId, nodeId, sequence, pendingStdout, pendingStderr);
            } else {
                Jdbc.update(c, "UPDATE history_task_progress SET last_sequence = ?, pending_stdout = ?, "
                        + "pending_stderr = ? WHERE task_id = ?", sequence, pendingStdout, pendingStderr, taskId);
            }
            if (!lines.isEmpty()) {
                appendLines(c, nodeId, lines);
            }
            return Outcome.APPENDED;
        });
    }

    private void appendLines(Connection c, String nodeId, List<NewLine> lines) throws SQLException {
        Counters k = counters(c, nodeId);
        if (k == null) {
            k = new Counters(1, 1, 0, 0);
            Jdbc.update(c, "INSERT INTO history_nodes (node_id, first_offset, next_offset, line_count, "
                    + "byte_count) VALUES (?, 1, 1, 0, 0)", nodeId);
        }
        long offset = k.next();
        long added = 0;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO history_lines (node_id, line_offset, "
                + "task_id, stream, text, bytes, at) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            for (NewLine l : lines) {
                int bytes = l.text().getBytes(StandardCharsets.UTF_8).length;
                Jdbc.bind(ps, nodeId, offset++, l.taskId(), l.stream(), l.text(), bytes, l.atMillis());
                ps.addBatch();
                added += bytes;
            }
            ps.executeBatch();
        }
        Counters now = new Counters(k.first(), offset, k.lines() + lines.size(), k.bytes() + added);
        now = trim(c, nodeId, now);
        Jdbc.update(c, "UPDATE history_nodes SET first_offset = ?, next_offset = ?, line_count = ?, "
                + "byte_count = ? WHERE node_id = ?", now.first(), now.next(), now.lines(), now.bytes(), nodeId);
    }

    /** Deletes the oldest lines until the node is within both caps. */
    private Counters trim(Connection c, String nodeId, Counters k) throws SQLException {
        if (k.lines() <= maxLines && k.bytes() <= maxBytes) {
            return k;
        }
        long first = k.first();
        long lines = k.lines();
        long bytes = k.bytes();
        if (lines > maxLines) {
            long cut = first + (lines - maxLines); // first offset to keep
            long removedBytes = Jdbc.query(c, "SELECT COALESCE(SUM(bytes), 0) FROM history_lines "
                    + "WHERE node_id = ? AND line_offset < ?", rs -> rs.getLong(1), nodeId, cut).get(0);
            lines -= cut - first;
            bytes -= removedBytes;
            first = cut;
        }
        if (bytes > maxBytes) {
            long over = bytes - maxBytes;
            long cut = first;
            long removed = 0;
            long removedLines = 0;
            try (PreparedStatement ps = c.prepareStatement("SELECT line_offset, bytes FROM history_lines "
                    + "WHERE node_id = ? AND line_offset >= ? ORDER BY line_offset")) {
                Jdbc.bind(ps, nodeId, first);
                try (ResultSet rs = ps.executeQuery()) {
                    while (removed < over && rs.next()) {
                        removed += rs.getLong(2);
                        removedLines++;
                        cut = rs.getLong(1) + 1;
                    }
                }
            }
            lines -= removedLines;
            bytes -= removed;
            first = cut;
        }
        Jdbc.update(c, "DELETE FROM history_lines WHERE node_id = ? AND line_offset < ?", nodeId, first);
        return new Counters(first, k.next(), lines, bytes);
    }

    private static Counters counters(Connection c, String nodeId) throws SQLException {
        List<Counters> rows = Jdbc.query(c, "SELECT first_offset, next_offset, line_count, byte_count "
                + "FROM history_nodes WHERE node_id = ?",
                rs -> new Counters(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)), nodeId);
        return rows.isEmpty() ? null : rows.get(0);
    }

    @Override
    public TaskProgress progress(String nodeId, String taskId) {
        return jdbc.queryOne("SELECT last_sequence, pending_stdout, pending_stderr FROM history_task_progress "
                + "WHERE task_id = ?", rs -> new TaskProgress(rs.getLong(1), rs.getString(2), rs.getString(3)),
                taskId).orElse(new TaskProgress(0, null, null));
    }

    @Override
    public HistoryPage tail(String nodeId, int n) {
        if (n < 0) {
            throw new IllegalArgumentException("tail must not be negative");
        }
        List<HistoryLine> lines = new ArrayList<>(jdbc.query("SELECT " + COLUMNS + " FROM history_lines "
                + "WHERE node_id = ? ORDER BY line_offset DESC LIMIT ?", JdbcHistoryStore::line, nodeId, n));
        Collections.reverse(lines);
        long next = lines.isEmpty() ? nextOffsetOf(nodeId) - 1 : lines.get(lines.size() - 1).offset();
        return new HistoryPage(lines, next, null);
    }

    @Override
    public HistoryPage after(String nodeId, long after, int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be positive");
        }
        return jdbc.inConnectionRead(c -> {
            Counters k = counters(c, nodeId);
            HistoryPage.Gap gap = k != null && after + 1 < k.first()
                    ? new HistoryPage.Gap(after + 1, k.first() - 1) : null;
            List<HistoryLine> lines = Jdbc.query(c, "SELECT " + COLUMNS + " FROM history_lines "
                    + "WHERE node_id = ? AND line_offset > ? ORDER BY line_offset LIMIT ?",
                    JdbcHistoryStore::line, nodeId, after, limit);
            long next = lines.isEmpty() ? Math.max(after, gap == null ? after : gap.to())
                    : lines.get(lines.size() - 1).offset();
            return new HistoryPage(lines, next, gap);
        });
    }

    private long nextOffsetOf(String nodeId) {
        return jdbc.queryOne("SELECT next_offset FROM history_nodes WHERE node_id = ?", rs -> rs.getLong(1), nodeId)
                .orElse(1L);
    }

    @Override
    public void delete(String nodeId) {
        jdbc.inTransaction(c -> {
            Jdbc.update(c, "DELETE FROM history_lines WHERE node_id = ?", nodeId);
            Jdbc.update(c, "DELETE FROM history_nodes WHERE node_id = ?", nodeId);
            Jdbc.update(c, "DELETE FROM history_task_progress WHERE node_id = ?", nodeId);
            return null;
        });
    }

    private static final String COLUMNS = "node_id, line_offset, task_id, stream, text, at";

    private static HistoryLine line(ResultSet rs) throws SQLException {
        return new HistoryLine(rs.getLong("line_offset"), rs.getString("node_id"), rs.getString("task_id"),
                rs.getString("stream"), rs.getString("text"), Instant.ofEpochMilli(rs.getLong("at")));
    }
}

package hub.hubd.store;

import hub.hubd.history.HistoryBlocks;
import hub.hubd.history.HistoryLine;
import hub.hubd.history.HistoryPage;
import hub.hubd.history.HistoryStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link HistoryStore} in the relational database (SQLite by default). Each append is one
 * transaction: the task's sequence check, the blocks of lines (one row each), the node's counters and
 * the trim.
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
    public Outcome appendBlocks(String nodeId, String taskId, long sequence, List<NewBlock> blocks,
            String pendingStdout, String pendingStderr) {
        return appendAll(List.of(new Append(nodeId, taskId, sequence, blocks, pendingStdout, pendingStderr))).get(0);
    }

    /** A task's progress within one {@link #appendAll} transaction. */
    private static final class TaskRow {
        final String nodeId;
        long lastSequence;
        String pendingStdout;
        String pendingStderr;
        boolean changed;

        TaskRow(String nodeId, long lastSequence) {
            this.nodeId = nodeId;
            this.lastSequence = lastSequence;
        }
    }

    /**
     * One transaction for all the chunks: each task's progress is read once and written once, each
     * node's counters read once, trimmed once and written once, statements prepared once.
     */
    @Override
    public List<Outcome> appendAll(List<Append> appends) {
        return jdbc.inTransaction(c -> {
            try (Jdbc.Statements st = new Jdbc.Statements(c)) {
                Map<String, TaskRow> taskRows = new HashMap<>();
                Map<String, Counters> nodeRows = new LinkedHashMap<>();
                List<Outcome> out = new ArrayList<>(appends.size());
                for (Append a : appends) {
                    TaskRow t = taskRows.get(a.taskId());
                    if (t == null) {
                        long last = st.query("SELECT last_sequence FROM history_task_progress WHERE task_id = ?",
                                rs -> rs.getLong(1), a.taskId()).stream().findFirst().orElse(0L);
                        t = new TaskRow(a.nodeId(), last);
                        taskRows.put(a.taskId(), t);
                    }
                    if (a.sequence() <= t.lastSequence) {
                        out.add(Outcome.DUPLICATE);
                        continue;
                    }
                    if (a.sequence() != t.lastSequence + 1) {
                        out.add(Outcome.OUT_OF_ORDER);
                        continue;
                    }
                    t.lastSequence = a.sequence();
                    t.pendingStdout = a.pendingStdout();
                    t.pendingStderr = a.pendingStderr();
                    t.changed = true;
                    if (!a.blocks().isEmpty()) {
                        Counters k = nodeRows.get(a.nodeId());
                        if (k == null) {
                            k = counters(st, a.nodeId());
                            nodeRows.put(a.nodeId(), k);
                        }
                        nodeRows.put(a.nodeId(), insert(st, a.nodeId(), k, a.blocks()));
                    }
                    out.add(Outcome.APPENDED);
                }
                for (Map.Entry<String, TaskRow> e : taskRows.entrySet()) {
                    TaskRow t = e.getValue();
                    if (t.changed) {
                        st.update("INSERT INTO history_task_progress (task_id, node_id, last_sequence, pending_stdout, "
                                + "pending_stderr) VALUES (?, ?, ?, ?, ?) ON CONFLICT (task_id) DO UPDATE SET "
                                + "last_sequence = excluded.last_sequence, pending_stdout = excluded.pending_stdout, "
                                + "pending_stderr = excluded.pending_stderr",
                                e.getKey(), t.nodeId, t.lastSequence, t.pendingStdout, t.pendingStderr);
                    }
                }
                for (Map.Entry<String, Counters> e : nodeRows.entrySet()) {
                    Counters now = trim(st, e.getKey(), e.getValue());
                    st.update("UPDATE history_nodes SET first_offset = ?, next_offset = ?, line_count = ?, "
                            + "byte_count = ? WHERE node_id = ?", now.first(), now.next(), now.lines(), now.bytes(),
                            e.getKey());
                }
                return out;
            }
        });
    }

    /** Inserts the blocks after the node's last line; the counters after them. */
    private static Counters insert(Jdbc.Statements st, String nodeId, Counters k, List<NewBlock> blocks)
            throws SQLException {
        long offset = k.next();
        long lines = k.lines();
        long bytes = k.bytes();
        for (NewBlock b : blocks) {
            st.update("INSERT INTO history_blocks (node_id, first_offset, line_count, task_id, stream, at, bytes, "
                    + "text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", nodeId, offset, b.lineCount(), b.taskId(), b.stream(),
                    b.atMillis(), b.bytes(), b.text());
            offset += b.lineCount();
            lines += b.lineCount();
            bytes += b.bytes();
        }
        return new Counters(k.first(), offset, lines, bytes);
    }

    /** The blocks from the one holding offset {@code ?3} on, oldest first (parameters: node, node, offset). */
    private static final String FROM_OFFSET_ON = "FROM history_blocks WHERE node_id = ? AND first_offset >= "
            + "COALESCE((SELECT MAX(first_offset) FROM history_blocks WHERE node_id = ? AND first_offset <= ?), 0) "
            + "ORDER BY first_offset";
    /** Those blocks, whole. */
    private static final String BLOCKS_FROM = "SELECT first_offset, line_count, task_id, stream, at, text, bytes "
            + FROM_OFFSET_ON;

    /**
     * The trim's walk: blocks from the one holding offset {@code ?3} on, without their text
     * (parameters: node, node, offset). A row's text is most of it, in overflow pages SQLite reads
     * whenever the column is selected; only the one block the trim cuts needs it ({@link #BLOCK_TEXT}).
     */
    private static final String TRIM_WALK = "SELECT first_offset, line_count, bytes " + FROM_OFFSET_ON;
    private static final String BLOCK_TEXT = "SELECT text FROM history_blocks WHERE node_id = ? AND first_offset = ?";

    /**
     * Moves the node's first offset forward, line by line, until it is within both caps, then
     * deletes the blocks wholly before it. A block cut in two stays; readers skip its trimmed lines.
     */
    private Counters trim(Jdbc.Statements st, String nodeId, Counters k) throws SQLException {
        if (k.lines() <= maxLines && k.bytes() <= maxBytes) {
            return k;
        }
        long first = k.first();
        long lines = k.lines();
        long bytes = k.bytes();
        long keepFrom = first; // first offset of the oldest block to keep
        PreparedStatement ps = st.get(TRIM_WALK);
        Jdbc.bind(ps, nodeId, nodeId, first);
        try (ResultSet rs = ps.executeQuery()) {
            while ((lines > maxLines || bytes > maxBytes) && rs.next()) {
                long blockFirst = rs.getLong(1);
                int n = rs.getInt(2);
                long blockBytes = rs.getLong(3);
                if (first == blockFirst && (lines - n >= maxLines || bytes - blockBytes > maxBytes)) {
                    // the whole block goes: its text is not read
                    lines -= n;
                    bytes -= blockBytes;
                    first = blockFirst + n;
                    keepFrom = first;
                    continue;
                }
                long[] sizes = HistoryBlocks.lineBytes(blockText(st, nodeId, blockFirst), n);
                for (int i = (int) Math.max(0, first - blockFirst); i < n && (lines > maxLines
                        || bytes > maxBytes); i++) {
                    lines--;
                    bytes -= sizes[i];
                    first = blockFirst + i + 1;
                }
                keepFrom = first == blockFirst + n ? first : blockFirst;
            }
        }
        st.update("DELETE FROM history_blocks WHERE node_id = ? AND first_offset < ?", nodeId, keepFrom);
        return new Counters(first, k.next(), lines, bytes);
    }

    private static String blockText(Jdbc.Statements st, String nodeId, long blockFirst) throws SQLException {
        PreparedStatement ps = st.get(BLOCK_TEXT);
        Jdbc.bind(ps, nodeId, blockFirst);
        try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("history block " + blockFirst + " of node " + nodeId + " vanished during its trim");
            }
            return rs.getString(1);
        }
    }

    /** The node's counters, the row created if it has none. */
    private static Counters counters(Jdbc.Statements st, String nodeId) throws SQLException {
        List<Counters> rows = st.query("SELECT first_offset, next_offset, line_count, byte_count "
                + "FROM history_nodes WHERE node_id = ?",
                rs -> new Counters(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)), nodeId);
        if (!rows.isEmpty()) {
            return rows.get(0);
        }
        st.update("INSERT INTO history_nodes (node_id, first_offset, next_offset, line_count, byte_count) "
                + "VALUES (?, 1, 1, 0, 0)", nodeId);
        return new Counters(1, 1, 0, 0);
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
        return jdbc.inConnectionRead(c -> {
            Counters k = counters(c, nodeId);
            if (k == null || n == 0) {
                return new HistoryPage(List.of(), k == null ? 0 : k.next() - 1, null);
            }
            List<HistoryLine> newestFirst = new ArrayList<>(Math.min(n, 1024));
            try (PreparedStatement ps = c.prepareStatement("SELECT first_offset, line_count, task_id, stream, at, "
                    + "text FROM history_blocks WHERE node_id = ? ORDER BY first_offset DESC")) {
                Jdbc.bind(ps, nodeId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (newestFirst.size() < n && rs.next()) {
                        List<HistoryLine> block = block(rs, nodeId, k.first(), Long.MIN_VALUE);
                        for (int i = block.size() - 1; i >= 0 && newestFirst.size() < n; i--) {
                            newestFirst.add(block.get(i));
                        }
                    }
                }
            }
            Collections.reverse(newestFirst);
            return new HistoryPage(newestFirst, k.next() - 1, null);
        });
    }

    @Override
    public HistoryPage after(String nodeId, long after, int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be positive");
        }
        return jdbc.inConnectionRead(c -> {
            Counters k = counters(c, nodeId);
            if (k == null) {
                return new HistoryPage(List.of(), after, null);
            }
            HistoryPage.Gap gap = after + 1 < k.first() ? new HistoryPage.Gap(after + 1, k.first() - 1) : null;
            List<HistoryLine> lines = new ArrayList<>(Math.min(limit, 1024));
            try (PreparedStatement ps = c.prepareStatement(BLOCKS_FROM)) {
                Jdbc.bind(ps, nodeId, nodeId, Math.max(after + 1, k.first()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (lines.size() < limit && rs.next()) {
                        for (HistoryLine l : block(rs, nodeId, k.first(), after)) {
                            if (lines.size() == limit) {
                                break;
                            }
                            lines.add(l);
                        }
                    }
                }
            }
            long next = lines.isEmpty() ? (gap == null ? after : gap.to()) : lines.get(lines.size() - 1).offset();
            return new HistoryPage(lines, next, gap);
        });
    }

    /** The current row's lines at or after {@code first} and after {@code after}. */
    private static List<HistoryLine> block(ResultSet rs, String nodeId, long first, long after) throws SQLException {
        long blockFirst = rs.getLong(1);
        int n = rs.getInt(2);
        String task = rs.getString(3);
        String stream = rs.getString(4);
        Instant at = Instant.ofEpochMilli(rs.getLong(5));
        List<String> texts = HistoryBlocks.lines(rs.getString(6), n);
        List<HistoryLine> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long offset = blockFirst + i;
            if (offset >= first && offset > after) {
                out.add(new HistoryLine(offset, nodeId, task, stream, texts.get(i), at));
            }
        }
        return out;
    }

    @Override
    public void delete(String nodeId) {
        jdbc.inTransaction(c -> {
            Jdbc.update(c, "DELETE FROM history_blocks WHERE node_id = ?", nodeId);
            Jdbc.update(c, "DELETE FROM history_nodes WHERE node_id = ?", nodeId);
            Jdbc.update(c, "DELETE FROM history_task_progress WHERE node_id = ?", nodeId);
            return null;
        });
    }
}

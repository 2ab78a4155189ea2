package hub.hubd.history;

import java.util.List;

/**
 * Durable per-node terminal history, capped per node by lines and bytes and trimmed (oldest first)
 * by the store itself. Implementations: SQLite/PostgreSQL ({@code store.JdbcHistoryStore}) and Redis
 * ({@code redis.RedisHistoryStore}).
 * Methods may block on I/O: ingest and HTTP threads call them, never a gRPC thread.
 */
public interface HistoryStore {

    /** A line to append (offset and node come from the store and the call). */
    record NewLine(String taskId, String stream, String text, long atMillis) {
    }

    /**
     * Consecutive lines of one stream of one task, stored together (one row, one stream entry):
     * offsets are assigned to its lines in order. Use {@link HistoryBlocks} to build one.
     *
     * @param text      the lines joined with {@code \n} (a line never contains one)
     * @param lineCount how many lines, at least 1
     * @param bytes     the UTF-8 bytes of the lines, without separators
     */
    record NewBlock(String taskId, String stream, long atMillis, String text, int lineCount, long bytes) {
        public NewBlock {
            if (lineCount < 1) {
                throw new IllegalArgumentException("a block holds at least one line");
            }
        }
    }

    /** What {@link #append} did. */
    enum Outcome {
        /** Stored; the sequence is now the task's last. */
        APPENDED,
        /** The sequence was already stored: nothing changed (a resend after a reconnect). */
        DUPLICATE,
        /** The sequence is not the next one: nothing stored; the agent must resend in order. */
        OUT_OF_ORDER
    }

    /**
     * Appends the lines that one output chunk of a task completed (as blocks), atomically with the chunk's
     * sequence and the task's unfinished lines, then trims the node's history to its caps.
     *
     * @param sequence      the chunk's sequence: 1, 2, 3… per task
     * @param pendingStdout the unfinished last stdout line after this chunk (restored after a
     *                      crash), or null
     * @param pendingStderr likewise for stderr
     */
    Outcome appendBlocks(String nodeId, String taskId, long sequence, List<NewBlock> blocks, String pendingStdout,
            String pendingStderr);

    /** One chunk's append, for {@link #appendAll}. */
    record Append(String nodeId, String taskId, long sequence, List<NewBlock> blocks, String pendingStdout,
            String pendingStderr) {
    }

    /**
     * Several {@link #appendBlocks} in order, as one unit where the store can (one transaction in
     * SQL): the outcome of each, in order. If it throws, none of them may be taken as stored.
     */
    default List<Outcome> appendAll(List<Append> appends) {
        List<Outcome> out = new java.util.ArrayList<>(appends.size());
        for (Append a : appends) {
            out.add(appendBlocks(a.nodeId(), a.taskId(), a.sequence(), a.blocks(), a.pendingStdout(),
                    a.pendingStderr()));
        }
        return out;
    }

    /** {@link #appendBlocks} with single lines (consecutive lines alike in task, stream and time share a block). */
    default Outcome append(String nodeId, String taskId, long sequence, List<NewLine> lines, String pendingStdout,
            String pendingStderr) {
        return appendBlocks(nodeId, taskId, sequence, HistoryBlocks.of(lines), pendingStdout, pendingStderr);
    }

    /** The task's progress as stored: last sequence (0 if none) and unfinished lines. */
    TaskProgress progress(String nodeId, String taskId);

    /** The task's stored ingest position. */
    record TaskProgress(long lastSequence, String pendingStdout, String pendingStderr) {
    }

    /** The last {@code n} lines of the node's history. */
    HistoryPage tail(String nodeId, int n);

    /**
     * Up to {@code limit} lines after offset {@code after}; when lines after it were trimmed, the
     * page says so in {@link HistoryPage#gap()}.
     */
    HistoryPage after(String nodeId, long after, int limit);

    /** Forgets the node's history (node removed). */
    void delete(String nodeId);
}

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
     * Appends the lines that one output chunk of a task completed, atomically with the chunk's
     * sequence and the task's unfinished lines, then trims the node's history to its caps.
     *
     * @param sequence      the chunk's sequence: 1, 2, 3… per task
     * @param pendingStdout the unfinished last stdout line after this chunk (restored after a
     *                      crash), or null
     * @param pendingStderr likewise for stderr
     */
    Outcome append(String nodeId, String taskId, long sequence, List<NewLine> lines, String pendingStdout,
            String pendingStderr);

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

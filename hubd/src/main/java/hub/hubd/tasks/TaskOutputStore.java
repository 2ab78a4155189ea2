package hub.hubd.tasks;

import java.util.List;
import java.util.Map;

/**
 * A task's raw output, chunk by chunk, exactly as its agent sent it: what {@code hubctl exec}
 * reads, whatever the history's caps trimmed (the history keeps the text view). Methods block on
 * the database; never called on a gRPC thread.
 */
public interface TaskOutputStore {

    /** One output chunk: {@code sequence} as the agent numbered it (1, 2, 3… across both streams). */
    record RawChunk(String taskId, long sequence, String nodeId, boolean stderr, byte[] data) {
    }

    /**
     * Stores the chunks in one transaction; a chunk already stored (a resend) is left as it is.
     *
     * @return the bytes newly stored, by node
     */
    Map<String, Long> appendAll(List<RawChunk> chunks);

    /**
     * The task's chunks after {@code after}, in order, adding up to about {@code maxBytes} (at least
     * one chunk when there is one, however large).
     */
    List<RawChunk> after(String taskId, long after, long maxBytes);

    /** Forgets the task's chunks up to {@code through}; returns the bytes freed, by node. */
    Map<String, Long> release(String taskId, long through);

    /** Forgets the chunks of tasks that ended before {@code endedBeforeMillis}; the bytes freed, by node. */
    Map<String, Long> expire(long endedBeforeMillis);

    /** Forgets everything of the node (removed). */
    void deleteNode(String nodeId);

    /** Bytes stored, by node (once, at start). */
    Map<String, Long> bytesByNode();

    /** Where the task's output ends, as far as raw readers need to know. */
    record End(Long lastSequence, Long droppedFrom) {
    }

    /** The task's {@link End}; both null while it runs and every chunk is kept. */
    End end(String taskId);

    /** Records the task's last chunk (with its result). */
    void ended(String taskId, long lastSequence);

    /** Records that the task's chunks from {@code sequence} on are not kept raw (its node was over its bound). */
    void dropped(String taskId, long sequence);
}

package hub.hubd.tasks;

import java.util.List;

/**
 * Terminal sessions' side of ingest, implemented by the sessions feature: the live view of a
 * session's output (before it is stored), where its output is recorded, its input's
 * acknowledgements, and whether a client still holds it.
 */
public interface TerminalTap {

    /**
     * A task's output chunk as it arrives, before it is stored (gRPC thread): for the clients of a
     * live session. Called for every task's output, so it must be cheap, and must not block.
     */
    void arrived(String nodeId, String taskId, long sequence, byte[] data);

    /**
     * Records terminal tasks' output chunks (ingest lane, in the batch that stores them in the
     * history, before they are acknowledged); a failure fails the batch, and the agents resend.
     */
    void record(List<TaskOutputStore.RawChunk> chunks, long atMillis);

    /** The agent took a session's input up to {@code sequence}; false when the task is not a live session. */
    boolean inputAcked(String nodeId, String taskId, long sequence, String error);

    /** Whether a client holds the session now (one nobody holds is ended when its agent reconnects). */
    boolean held(String taskId);
}

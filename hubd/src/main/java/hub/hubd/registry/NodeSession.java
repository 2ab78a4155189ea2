package hub.hubd.registry;

/**
 * The registry's handle on one agent stream. Implemented by the gRPC adapter; every method is
 * non-blocking and safe to call from any thread, any number of times.
 */
public interface NodeSession {

    /** Asks the agent to close and reconnect later (hub shutdown). */
    void drain(String reason);

    /** Ends the stream from the hub's side, e.g. after missed heartbeats. */
    void close(String reason);

    /** Peer address, for logs. */
    String remoteAddress();

    /**
     * Sends a command to run. Exactly one of {@code shellCommand} and {@code argv} is non-null.
     *
     * @return false when the stream is already closed
     */
    boolean runCommand(String taskId, String shellCommand, java.util.List<String> argv, long timeoutMillis);

    /** Asks the agent to kill a task. */
    void cancelTask(String taskId, String reason);

    /** Acknowledges a task's output up to {@code sequence}. */
    void ackOutput(String taskId, long sequence);

    /** Acknowledges a task's result. */
    void ackResult(String taskId);
}

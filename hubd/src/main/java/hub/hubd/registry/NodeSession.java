package hub.hubd.registry;

/**
 * The registry's handle on one agent stream. Implemented by the gRPC adapter; every method is
 * non-blocking and safe to call from any thread, any number of times.
 */
public interface NodeSession {

    /** Asks the agent to close and reconnect later (hub shutdown). */
    void drain(String reason);

    /** Asks the agent to close and reconnect to one of {@code hubs} (HOST:PORT; the other hubs of a cluster). */
    default void drain(String reason, java.util.List<String> hubs) {
        drain(reason);
    }

    /**
     * {@link #drain(String, java.util.List)}, telling the agent to spread its reconnects over
     * {@code window} (the whole fleet comes back at a steady pace, not at once).
     */
    default void drain(String reason, java.util.List<String> hubs, java.time.Duration window) {
        drain(reason, hubs);
    }

    /** Ends the stream from the hub's side, e.g. after missed heartbeats. */
    void close(String reason);

    /** How an agent broke the protocol; the stream ends with the matching gRPC status. */
    enum Violation {
        /** A message about a task that was not issued to this node (PERMISSION_DENIED). */
        NOT_YOURS,
        /** A malformed message: a bad sequence, an oversized chunk (INVALID_ARGUMENT). */
        INVALID,
        /** More than the node may make the hub hold (RESOURCE_EXHAUSTED). */
        OVER_LIMIT
    }

    /** Ends the stream because the agent broke the protocol: told with a status, counted, logged (rate-limited). */
    void violated(Violation violation, String reason);

    /** Peer address, for logs. */
    String remoteAddress();

    /**
     * Sends a command to run. Exactly one of {@code shellCommand} and {@code argv} is non-null.
     *
     * @param runAs the local user to run it as, or null for the agent's default
     * @return false when the stream is already closed
     */
    boolean runCommand(String taskId, String shellCommand, java.util.List<String> argv, long timeoutMillis,
            String runAs, boolean stdin);

    /**
     * Sends a terminal session to start: {@code command} (null: the login shell) on a
     * pseudo-terminal of that type and size, as {@code runAs} (null: the agent's default).
     *
     * @param env the client's locale variables (LANG, LC_*), checked by the caller
     * @return false when the stream is already closed
     */
    default boolean runTerminal(String taskId, String command, String runAs, String term, int columns, int rows,
            java.util.Map<String, String> env) {
        return false;
    }

    /** Tells a terminal session's agent that its window is now {@code columns} by {@code rows}. */
    default void resizeTerminal(String taskId, int columns, int rows) {
    }

    /** Sends a chunk of a task's stdin ({@code eof}: close it after). */
    default void sendInput(String taskId, long sequence, byte[] data, boolean eof) {
        throw new UnsupportedOperationException("this session takes no input");
    }

    /**
     * Sends a file transfer message (FileOpen, FileData, FileAck, FileClose) to the agent.
     *
     * @return false when the stream is already closed
     */
    default boolean sendFileMessage(hub.proto.agent.v1.HubMessage message) {
        return false;
    }

    /** Asks the agent to kill a task. */
    void cancelTask(String taskId, String reason);

    /** Acknowledges a task's output up to {@code sequence}. */
    void ackOutput(String taskId, long sequence);

    /** Acknowledges a task's result. */
    void ackResult(String taskId);
}

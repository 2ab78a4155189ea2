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
}

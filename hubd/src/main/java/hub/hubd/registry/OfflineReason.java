package hub.hubd.registry;

/** Why a node went offline; the text is what the API and hubctl show. */
public final class OfflineReason {
    /** The agent's stream ended (agent stopped, network cut, agent crashed). */
    public static final String STREAM_CLOSED = "stream closed";
    /** No heartbeat for 3 intervals. */
    public static final String MISSED_HEARTBEATS = "missed heartbeats";
    /** The hub stopped or restarted while the node was online. */
    public static final String HUB_RESTART = "hub restart";
    /** The hub of a cluster that held the stream stopped answering (its presence lease ran out). */
    public static final String HUB_LOST = "hub lost";
    /** A newer stream of the same node replaced this one. */
    public static final String REPLACED = "replaced by a new connection";

    private OfflineReason() {
    }
}

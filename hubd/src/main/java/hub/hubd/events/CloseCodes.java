package hub.hubd.events;

/** WebSocket close codes the hub uses when it ends a listener (4000–4999 are the application's). */
public final class CloseCodes {
    private CloseCodes() {
    }

    /** The peer closed (or the connection broke). */
    public static final int NORMAL = 1000;
    /** The hub is stopping: reconnect later and resume with {@code after=}. */
    public static final int GOING_AWAY = 1001;
    /** The listener's queue overflowed: the reason says {@code after=SEQ} to resume from. */
    public static final int LAGGED = 4001;
    /** An admin killed it ({@code DELETE /api/v1/listeners/{id}}). */
    public static final int KILLED = 4002;
    /** Its credentials were revoked or its user removed. */
    public static final int REVOKED = 4003;
    /** Its user's access changed (grants, nodes): reconnect and resume with {@code after=}. */
    public static final int ACCESS_CHANGED = 4005;
    /** It answered no ping within the timeout. */
    public static final int SILENT = 4004;
    /** Sending to it failed. */
    public static final int SEND_FAILED = 1011;
}

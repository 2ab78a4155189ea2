package hub.hubd.sessions;

import java.util.List;

/**
 * Terminal sessions' recordings ({@code session_recordings}): output exactly as the agent sent it,
 * typed input (only with {@code --record-input}) and window size changes, each with the time the
 * hub took it. Methods block on the database; never called on a gRPC thread.
 */
public interface RecordingStore {

    /** What a recorded item is. */
    enum Kind {
        OUTPUT(1), INPUT(3), RESIZE(4);

        final int code;

        Kind(int code) {
            this.code = code;
        }

        public static Kind of(int code) {
            for (Kind k : values()) {
                if (k.code == code) {
                    return k;
                }
            }
            throw new IllegalArgumentException("no recording kind " + code);
        }

        /** The name in the API. */
        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /** Its number in the store. */
        public int code() {
            return code;
        }
    }

    /** One recorded item; {@code sequence} counts per session and kind from 1. */
    record Item(String sessionId, Kind kind, long sequence, long atMillis, String nodeId, byte[] data) {
    }

    /** Where a reader is: after the item at {@code (atMillis, kind, sequence)}; {@link #START} before all. */
    record Position(long atMillis, int kind, long sequence) {
        public static final Position START = new Position(Long.MIN_VALUE, 0, 0);

        /** The position of {@code item}. */
        public static Position of(Item item) {
            return new Position(item.atMillis(), item.kind().code(), item.sequence());
        }
    }

    /** Stores the items in one transaction; one already stored (a resend) is left as it is. */
    void appendAll(List<Item> items);

    /**
     * The session's items after {@code after} in time order, adding up to about {@code maxBytes} (at
     * least one when there is one), at most {@code limit}; input only when {@code withInput}.
     */
    List<Item> after(String sessionId, Position after, long maxBytes, int limit, boolean withInput);

    /** Bytes of output recorded for the session (once per session, when it is taken after a restart). */
    long outputBytes(String sessionId);

    /** Forgets the recordings of sessions that ended before {@code endedBeforeMillis}; the items deleted. */
    int expire(long endedBeforeMillis);

    /** Forgets every recording of the node (removed). */
    void deleteNode(String nodeId);
}

package hub.hubd.events;

/** Turns events into the JSON objects subscribers receive (one per line of a frame). */
public interface EventCodec {
    /** An event: {@code seq}, {@code at}, {@code type} and the event's fields. */
    String encode(Envelope e);

    /** A gap notice: events {@code from}..{@code to} were not kept and cannot be replayed. */
    String gap(long from, long to);

    /**
     * A gap notice for a resume from before a restart the hub did not record (it was killed):
     * events after {@code from - 1} up to the restart, if there were any, are gone; {@code to} is
     * the last sequence before this run's first.
     */
    String restartGap(long from, long to);

    /** After the replay: everything up to {@code seq} was sent; live events follow. */
    String sync(long seq);
}

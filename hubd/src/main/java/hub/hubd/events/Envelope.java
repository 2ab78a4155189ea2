package hub.hubd.events;

import java.time.Instant;

/**
 * An event as published: its hub-wide sequence (increasing, no gaps among the events kept for
 * replay) and when it was published. The JSON is made once, by the first writer that needs it.
 */
public final class Envelope {
    private final long seq;
    private final Instant at;
    private final Event event;
    private volatile String json;

    Envelope(long seq, Instant at, Event event) {
        this.seq = seq;
        this.at = at;
        this.event = event;
    }

    public long seq() {
        return seq;
    }

    public Instant at() {
        return at;
    }

    public Event event() {
        return event;
    }

    /** The event's JSON, made once with {@code codec}. */
    String json(EventCodec codec) {
        String j = json;
        if (j == null) {
            j = codec.encode(this);
            json = j;
        }
        return j;
    }
}

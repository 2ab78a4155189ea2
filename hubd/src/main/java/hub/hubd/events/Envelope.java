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
    private final long typeBit;
    private final java.util.Map<String, String> labels;
    private volatile String json;
    /** A frame that ends with this event, made by one subscriber, for the others that send the same run. */
    private volatile Frame frame;

    Envelope(long seq, Instant at, Event event, java.util.Map<String, String> labels) {
        this.seq = seq;
        this.at = at;
        this.event = event;
        this.typeBit = typeBit(event.type());
        this.labels = labels;
    }

    /** The labels of the event's node when it was published, or {@code null} if it is about no known node. */
    java.util.Map<String, String> labels() {
        return labels;
    }

    /** The bit of an event type in a subscription's type mask. */
    static long typeBit(String type) {
        int i = Event.TYPES.indexOf(type);
        return i < 0 ? 0 : 1L << i;
    }

    long typeBit() {
        return typeBit;
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

    /**
     * A frame of events, encoded once: {@code count} events from {@code firstSeq} to this one, as
     * a subscriber whose events are decided by {@code key} alone receives them.
     */
    record Frame(long key, long firstSeq, int count, String text, java.nio.ByteBuffer utf8) {
    }

    /** The frame ending here for {@code key}, {@code firstSeq} and {@code count}, if one was made. */
    Frame frame(long key, long firstSeq, int count) {
        Frame f = frame;
        return f != null && f.key() == key && f.firstSeq() == firstSeq && f.count() == count ? f : null;
    }

    void frame(Frame f) {
        this.frame = f;
    }
}


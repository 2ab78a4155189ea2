package hub.hubd.events;

import java.util.AbstractList;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The lines of a block of text ({@code count} lines joined by {@code '\n'}), split only as they are
 * read: a {@code task.output} event is kept in the ring whether anyone listens or not, and splitting
 * every block into strings at ingest cost the hub a few per cent of its CPU on output nobody was
 * watching. Read in order (an encoder iterates it once); {@link #get} scans from the start.
 * Immutable.
 */
public final class TextLines extends AbstractList<String> {
    private final String text;
    private final int count;

    /** The text is not scanned here (the history's blocks hold their count): a short one fails when read. */
    public TextLines(String text, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("a block holds at least one line");
        }
        this.text = text;
        this.count = count;
    }

    /** What the lines weigh in the event ring: their characters, one more each for its end. */
    public long chars() {
        return text.length() + 1L;
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public String get(int index) {
        if (index < 0 || index >= count) {
            throw new IndexOutOfBoundsException(index);
        }
        Iterator<String> it = iterator();
        for (int i = 0; i < index; i++) {
            it.next();
        }
        return it.next();
    }

    @Override
    public Iterator<String> iterator() {
        return new Iterator<>() {
            private int from;
            private int given;

            @Override
            public boolean hasNext() {
                return given < count;
            }

            @Override
            public String next() {
                if (given >= count) {
                    throw new NoSuchElementException();
                }
                given++;
                int end = given == count ? text.length() : text.indexOf('\n', from);
                if (end < 0) {
                    throw new IllegalStateException("history block holds fewer lines than its count");
                }
                String line = text.substring(from, end);
                from = end + 1;
                return line;
            }
        };
    }
}

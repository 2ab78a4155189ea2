package hub.hubd.history;

import hub.hubd.history.HistoryStore.NewBlock;
import hub.hubd.history.HistoryStore.NewLine;
import hub.text.AnsiStripper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * History is stored in blocks: the lines one output chunk completed, joined with {@code \n}, in one
 * row or stream entry. Storing 200 lines as one row instead of 200 is what lets ingest keep up
 * with a chatty node. These helpers build blocks and split them back into lines.
 */
public final class HistoryBlocks {
    private HistoryBlocks() {
    }

    /** Groups consecutive lines with the same task, stream and time into blocks. */
    public static List<NewBlock> of(List<NewLine> lines) {
        List<NewBlock> blocks = new ArrayList<>();
        int i = 0;
        while (i < lines.size()) {
            NewLine head = lines.get(i);
            StringBuilder text = new StringBuilder(head.text());
            int j = i + 1;
            while (j < lines.size() && sameBlock(head, lines.get(j))) {
                text.append('\n').append(lines.get(j).text());
                j++;
            }
            String t = text.toString();
            int n = j - i;
            blocks.add(new NewBlock(head.taskId(), head.stream(), head.atMillis(), t, n, utf8Length(t) - (n - 1)));
            i = j;
        }
        return blocks;
    }

    private static boolean sameBlock(NewLine a, NewLine b) {
        return Objects.equals(a.taskId(), b.taskId()) && a.stream().equals(b.stream()) && a.atMillis() == b.atMillis();
    }

    /** The lines of a block's text. */
    public static List<String> lines(String text, int lineCount) {
        List<String> out = new ArrayList<>(lineCount);
        int from = 0;
        for (int k = 1; k < lineCount; k++) {
            int nl = text.indexOf('\n', from);
            if (nl < 0) {
                throw new IllegalStateException("history block holds fewer lines than its count");
            }
            out.add(text.substring(from, nl));
            from = nl + 1;
        }
        out.add(text.substring(from));
        return out;
    }

    /** The UTF-8 size of each line of a block's text. */
    public static long[] lineBytes(String text, int lineCount) {
        long[] sizes = new long[lineCount];
        int from = 0;
        for (int k = 0; k < lineCount; k++) {
            int nl = k == lineCount - 1 ? text.length() : text.indexOf('\n', from);
            if (nl < 0) {
                throw new IllegalStateException("history block holds fewer lines than its count");
            }
            sizes[k] = utf8Length(text, from, nl);
            from = nl + 1;
        }
        return sizes;
    }

    /** The UTF-8 size of {@code s}. */
    public static long utf8Length(CharSequence s) {
        return utf8Length(s, 0, s.length());
    }

    /** The UTF-8 size of {@code s[from, to)}; unpaired surrogates count as the 3-byte replacement. */
    public static long utf8Length(CharSequence s, int from, int to) {
        long n = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < to && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    /**
     * Collects the lines an {@link AnsiStripper} completes into one block: the sink of a stripper
     * for one stream of one task. Not thread-safe.
     */
    public static final class Builder implements AnsiStripper.LineSink {
        private byte[] buf = new byte[16 * 1024];
        private int size;
        private int lines;

        @Override
        public void line(byte[] utf8, int offset, int length) {
            int need = size + length + 1;
            if (need > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(need, buf.length * 2));
            }
            if (lines > 0) {
                buf[size++] = '\n';
            }
            System.arraycopy(utf8, offset, buf, size, length);
            size += length;
            lines++;
        }

        /** The block of the lines collected since the last call, or {@code null} if none; then empty. */
        public NewBlock take(String taskId, String stream, long atMillis) {
            if (lines == 0) {
                return null;
            }
            String text = new String(buf, 0, size, StandardCharsets.UTF_8);
            // As many chars as bytes and no replacement char: every byte was ASCII, no need to count.
            boolean ascii = text.length() == size && text.indexOf('\uFFFD') < 0;
            long bytes = (ascii ? size : utf8Length(text)) - (lines - 1);
            NewBlock b = new NewBlock(taskId, stream, atMillis, text, lines, bytes);
            size = 0;
            lines = 0;
            return b;
        }
    }
}

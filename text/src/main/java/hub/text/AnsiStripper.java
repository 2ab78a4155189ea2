package hub.text;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Turns a terminal's raw output bytes into the plain text lines a person would read, once, at
 * ingest. Stateful: feed it chunks as they arrive, split anywhere (inside an escape sequence, inside
 * a UTF-8 character), and it emits each completed line to its {@link LineSink}.
 *
 * <p>What it removes: CSI sequences ({@code ESC [} … final byte, and C1 {@code U+009B}), OSC strings
 * ({@code ESC ]} … ended by BEL or ST: titles, hyperlinks), DCS, SOS, PM and APC strings (ended by
 * ST), two-byte and intermediate ESC sequences ({@code ESC 7}, {@code ESC ( B}), C1 controls, and C0
 * controls other than tab. What it keeps: the final state of each line as a terminal would show it,
 * so a progress bar redrawn with carriage returns (and {@code ESC [K}, {@code ESC [G}, backspace)
 * leaves only its last state. A full-screen program's alternate screen is dropped whole (see
 * {@link #alternate}): what stays is the main screen's lines. Invalid UTF-8 becomes U+FFFD; nothing here throws on any input.
 *
 * <p>The line is kept as UTF-8 bytes, so printable ASCII (nearly all output) is copied in bulk and
 * becomes a {@link String} without decoding; cursor motion and overwrites work in code points.
 * Memory is bounded: a line longer than {@code maxLineBytes} is emitted in pieces of at most that
 * size. Not thread-safe: one instance per output stream of a task.
 */
public final class AnsiStripper {

    /**
     * Receives completed lines, without their line terminator, as valid UTF-8. The array is the
     * stripper's own buffer: copy what you keep before returning.
     */
    @FunctionalInterface
    public interface LineSink {
        void line(byte[] utf8, int offset, int length);
    }

    /** A sink that decodes each line to a {@link String}. */
    public static LineSink strings(java.util.function.Consumer<String> lines) {
        return (b, off, n) -> lines.accept(new String(b, off, n, StandardCharsets.UTF_8));
    }

    private static final int GROUND = 0;
    private static final int ESC = 1;
    private static final int ESC_INTERMEDIATE = 2;
    private static final int CSI = 3;
    private static final int OSC = 4;
    private static final int STRING = 5;
    private static final int STRING_ESC = 6;
    private static final int REPLACEMENT = 0xFFFD;

    private final LineSink sink;
    private final int maxLine;
    private byte[] line;
    private final byte[] encoded = new byte[4];
    private int len;
    private int cursor;
    private int state = GROUND;
    /**
     * On the alternate screen (a full-screen program: vi, less, top, between {@code ESC [ ? 1049 h}
     * and {@code l}, or 47/1047): its output is not lines anyone reads later, so it is dropped, and
     * the line before it (the prompt that started it) goes on when the program leaves, as a terminal
     * restores its main screen.
     */
    private boolean alternate;
    // Inside OSC/DCS/… strings: whether the last byte was 0xC2, the first half of UTF-8 C1 ST.
    private boolean stringC2;
    // CSI parameter parsing: only the first parameter matters for the few sequences we obey.
    private int csiParam;
    private boolean csiPrivate;
    private boolean csiSecondParam;
    // UTF-8 decoding across chunk boundaries.
    private int utf8Needed;
    private int utf8Seen;
    private int utf8CodePoint;
    private int utf8Min;
    private int utf8LowerBound;
    private int utf8UpperBound;

    /**
     * @param maxLineBytes longest line kept, in UTF-8 bytes; longer ones are cut into pieces
     * @param sink         receives each completed line
     */
    public AnsiStripper(int maxLineBytes, LineSink sink) {
        if (maxLineBytes < 16) {
            throw new IllegalArgumentException("maxLineBytes must be at least 16");
        }
        this.maxLine = maxLineBytes;
        this.sink = Objects.requireNonNull(sink, "sink");
        this.line = new byte[Math.min(256, maxLineBytes)];
    }

    /** Feeds the whole array. */
    public void feed(byte[] bytes) {
        feed(bytes, 0, bytes.length);
    }

    /** Feeds {@code length} bytes of {@code bytes} from {@code offset}. */
    public void feed(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        int i = offset;
        final int end = offset + length;
        while (i < end) {
            if (state == GROUND && alternate) {
                // A full-screen program's screen: nothing of it is a line; only its escapes count.
                if (bytes[i] == 0x1b) {
                    state = ESC;
                }
                i++;
            } else if (state == GROUND) {
                if (utf8Needed == 0 && cursor == len) {
                    i = groundRun(bytes, i, end);
                    if (i >= end) {
                        break;
                    }
                }
                int b = bytes[i] & 0xff;
                if (b == 0x1b && i + 1 < end && bytes[i + 1] == '[' && utf8Needed == 0) {
                    int sgrEnd = sgrEnd(bytes, i + 2, end);
                    if (sgrEnd > 0) {
                        i = sgrEnd; // colours (ESC [ digits ; : m) change nothing a line keeps
                    } else {
                        startCsi(); // any other CSI, or one split across chunks: skip the ESC state
                        i += 2;
                    }
                } else {
                    ground(b);
                    i++;
                }
            } else if (state == CSI) {
                i = csiRun(bytes, i, end);
            } else {
                step(bytes[i] & 0xff);
                i++;
            }
        }
    }

    /**
     * If the bytes from {@code j} are an SGR sequence's parameters and its final {@code m}, all in
     * this chunk, the index after the {@code m}; else -1.
     */
    private static int sgrEnd(byte[] src, int j, int end) {
        while (j < end) {
            byte c = src[j];
            if (c == 'm') {
                return j + 1;
            }
            if ((c < '0' || c > '9') && c != ';' && c != ':') {
                return -1;
            }
            j++;
        }
        return -1;
    }

    /** Reads a CSI sequence's bytes in a tight loop up to its final byte (or the chunk's end). */
    private int csiRun(byte[] src, int i, int end) {
        while (i < end && state == CSI) {
            csi(src[i++] & 0xff);
        }
        return i;
    }

    /**
     * The fast path, at the end of the line with no character pending: copies printable ASCII
     * (eight bytes at a time where it can) and skips complete SGR sequences (colours), in one loop
     * with the line in locals. Returns at the first byte that needs the general path (a control,
     * another escape, non-ASCII, the line cap).
     */
    private int groundRun(byte[] src, int i, int end) {
        int limit = maxLine;
        int need = Math.min(len + (end - i), limit) + 8; // + 8: a whole word may be stored at the end
        if (line.length < need) {
            grow(need);
        }
        byte[] dst = line;
        int n = len;
        while (i < end) {
            if (i + 8 <= end && n + 8 <= limit) {
                long w = (long) LONGS.get(src, i);
                long bad = notPrintableAscii8(w);
                if (bad == 0) {
                    LONGS.set(dst, n, w);
                    i += 8;
                    n += 8;
                    continue;
                }
                int k = Long.numberOfTrailingZeros(bad) >>> 3; // printable bytes before the first other one
                if (k > 0) {
                    LONGS.set(dst, n, w); // only the first k bytes count
                    i += k;
                    n += k;
                }
            } else {
                byte b = src[i];
                if (b >= 0x20 && b != 0x7f && n < limit) { // negative (>= 0x80) fails the first test
                    dst[n++] = b;
                    i++;
                    continue;
                }
            }
            if (src[i] == 0x1b && i + 1 < end && src[i + 1] == '[') {
                int e = sgrEnd(src, i + 2, end);
                if (e > 0) {
                    i = e;
                    continue;
                }
            }
            break;
        }
        len = n;
        cursor = n;
        if (n >= limit) {
            emit();
        }
        return i;
    }

    /**
     * SWAR over eight bytes (little-endian): the high bit is set in the lowest byte that is not
     * printable ASCII (below 0x20, 0x7F, or 0x80 and up), and possibly in bytes above it (borrows
     * and carries only travel upwards from such a byte); 0 when all eight are printable. So the
     * trailing zeros count the printable bytes before the first other one exactly.
     */
    static long notPrintableAscii8(long x) {
        long below20 = (x - ONES * 0x20) & ~x;       // high bit where a byte < 0x20 (or >= 0x80)
        long above7e = (x + ONES * (0x7f - 0x7e)) | x; // high bit where a byte > 0x7E
        return (below20 | above7e) & HIGHS;
    }

    private static final java.lang.invoke.VarHandle LONGS = java.lang.invoke.MethodHandles
            .byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;

    /** Whether all eight bytes are in 0x20..0x7E. */
    static boolean isPrintableAscii8(long x) {
        return notPrintableAscii8(x) == 0;
    }

    private void step(int b) {
        switch (state) {
            case GROUND -> ground(b);
            case ESC -> escape(b);
            case ESC_INTERMEDIATE -> {
                if (b >= 0x30 && b <= 0x7e) {
                    state = GROUND;
                } else if (b < 0x20 || b > 0x7e) {
                    abortSequence(b);
                }
            }
            case CSI -> csi(b);
            case OSC, STRING -> string(b);
            case STRING_ESC -> {
                // ESC \ is ST. Any other ESC ends the string too and starts a new sequence.
                state = GROUND;
                if (b != '\\') {
                    state = ESC;
                    escape(b);
                }
            }
            default -> state = GROUND;
        }
    }

    /** Inside OSC (ended by BEL or ST) or DCS/SOS/PM/APC (ended by ST; BEL too, leniently). */
    private void string(int b) {
        boolean afterC2 = stringC2;
        stringC2 = b == 0xc2;
        if (b == 0x1b) {
            state = STRING_ESC;
        } else if (b == 0x07 || b == 0x18 || b == 0x1a || (afterC2 && b == 0x9c)) {
            state = GROUND;
        }
    }

    private void ground(int b) {
        if (utf8Needed > 0) {
            utf8Continue(b);
            return;
        }
        if (b >= 0x20 && b < 0x7f) {
            putAscii(b);
        } else if (b >= 0x80) {
            utf8Start(b);
        } else {
            control(b);
        }
    }

    private void control(int b) {
        switch (b) {
            case '\n' -> emit();
            case '\r' -> cursor = 0;
            case '\t' -> putAscii('\t');
            case 0x08 -> back(1);
            case 0x1b -> state = ESC;
            default -> {
                // other C0 controls (BEL, NUL, SO/SI, …) and DEL print nothing
            }
        }
    }

    private void escape(int b) {
        switch (b) {
            case '[' -> startCsi();
            case ']' -> enterString(OSC);
            case 'P', 'X', '^', '_' -> enterString(STRING);
            case 0x1b -> state = ESC;
            default -> {
                if (b >= 0x20 && b <= 0x2f) {
                    state = ESC_INTERMEDIATE;
                } else if (b >= 0x30 && b <= 0x7e) {
                    state = GROUND;
                } else {
                    abortSequence(b);
                }
            }
        }
    }

    /** A control or non-ASCII byte inside an ESC sequence cancels it and is processed as itself. */
    private void abortSequence(int b) {
        state = GROUND;
        if (b != 0x18 && b != 0x1a) {
            ground(b);
        }
    }

    private void enterString(int which) {
        state = which;
        stringC2 = false;
    }

    private void startCsi() {
        state = CSI;
        csiParam = 0;
        csiPrivate = false;
        csiSecondParam = false;
    }

    private void csi(int b) {
        if (b >= '0' && b <= '9') {
            if (!csiSecondParam && csiParam < 10_000) {
                csiParam = csiParam * 10 + (b - '0');
            }
        } else if (b == ';' || b == ':') {
            csiSecondParam = true;
        } else if (b >= 0x3c && b <= 0x3f) {
            csiPrivate = true;
        } else if (b >= 0x40 && b <= 0x7e) {
            state = GROUND;
            if (!csiPrivate) {
                if (!alternate) { // the full-screen program's cursor motion is not the main screen's
                    csiDispatch(b);
                }
            } else if ((b == 'h' || b == 'l') && (csiParam == 1049 || csiParam == 1047 || csiParam == 47)) {
                alternate = b == 'h';
            }
        } else if (b == 0x18 || b == 0x1a) {
            state = GROUND;
        } else if (b == 0x1b) {
            state = ESC;
        } else if (b < 0x20 && !alternate) {
            control(b); // C0 controls inside CSI act immediately, as in a terminal
        }
        // intermediates 0x20-0x2f and bytes >= 0x80: part of the sequence, ignored
    }

    /** Obeys the line-editing sequences that decide what the line finally shows. */
    private void csiDispatch(int fin) {
        int n = Math.max(1, csiParam);
        switch (fin) {
            case 'K' -> eraseInLine(csiParam);
            case 'G', '`' -> {
                cursor = 0;
                forward(n - 1);
            }
            case 'C' -> forward(n);
            case 'D' -> back(n);
            default -> {
                // colours, cursor up/down, scrolling, modes: nothing a single line can keep
            }
        }
    }

    private void eraseInLine(int mode) {
        if (mode == 0) {
            len = Math.min(len, cursor);
        } else if (mode == 1) {
            // Blank every character up to and including the cursor's.
            int upTo = Math.min(len, cursor < len ? cursor + cpLengthAt(cursor) : len);
            int chars = 0;
            for (int k = 0; k < upTo; k++) {
                if ((line[k] & 0xc0) != 0x80) {
                    chars++;
                }
            }
            int tail = len - upTo;
            System.arraycopy(line, upTo, line, chars, tail);
            java.util.Arrays.fill(line, 0, chars, (byte) ' ');
            cursor = cursor - upTo + chars;
            len = chars + tail;
        } else if (mode == 2) {
            len = 0;
        }
    }

    /** Moves the cursor {@code n} characters left (cells past the end count as one byte each). */
    private void back(int n) {
        for (int k = 0; k < n && cursor > 0; k++) {
            cursor--;
            while (cursor > 0 && cursor < len && (line[cursor] & 0xc0) == 0x80) {
                cursor--;
            }
        }
    }

    /** Moves the cursor {@code n} characters right, past the end if need be. */
    private void forward(int n) {
        for (int k = 0; k < n && cursor < maxLine - 1; k++) {
            cursor += cursor < len ? cpLengthAt(cursor) : 1;
        }
    }

    private int cpLengthAt(int i) {
        int lead = line[i] & 0xff;
        int n = lead < 0xc0 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
        return Math.min(n, len - i);
    }

    /** Extends the line with spaces up to the cursor (after cursor motion past the end). */
    private void padToCursor() {
        if (cursor > len) {
            if (line.length < cursor) {
                grow(cursor);
            }
            java.util.Arrays.fill(line, len, cursor, (byte) ' ');
            len = cursor;
        }
    }

    private void putAscii(int b) {
        encoded[0] = (byte) b;
        putEncoded(1);
    }

    /** Writes the {@code n} bytes in {@link #encoded} (one character) at the cursor. */
    private void putEncoded(int n) {
        if (len + n > maxLine) {
            emit();
        }
        padToCursor();
        if (cursor == len) {
            if (line.length < len + n) {
                grow(len + n);
            }
            System.arraycopy(encoded, 0, line, len, n);
            len += n;
            cursor = len;
        } else {
            // Overwrite the character under the cursor, which may be longer or shorter in UTF-8.
            int old = cpLengthAt(cursor);
            if (old != n) {
                if (line.length < len - old + n) {
                    grow(len - old + n);
                }
                System.arraycopy(line, cursor + old, line, cursor + n, len - cursor - old);
                len += n - old;
            }
            System.arraycopy(encoded, 0, line, cursor, n);
            cursor += n;
        }
        if (len >= maxLine) {
            emit();
        }
    }

    private void putCodePoint(int cp) {
        if (cp >= 0x80 && cp <= 0x9f) {
            c1(cp);
        } else if (cp < 0x80) {
            putAscii(cp);
        } else if (cp < 0x800) {
            encoded[0] = (byte) (0xc0 | (cp >> 6));
            encoded[1] = (byte) (0x80 | (cp & 0x3f));
            putEncoded(2);
        } else if (cp < 0x10000) {
            encoded[0] = (byte) (0xe0 | (cp >> 12));
            encoded[1] = (byte) (0x80 | ((cp >> 6) & 0x3f));
            encoded[2] = (byte) (0x80 | (cp & 0x3f));
            putEncoded(3);
        } else {
            encoded[0] = (byte) (0xf0 | (cp >> 18));
            encoded[1] = (byte) (0x80 | ((cp >> 12) & 0x3f));
            encoded[2] = (byte) (0x80 | ((cp >> 6) & 0x3f));
            encoded[3] = (byte) (0x80 | (cp & 0x3f));
            putEncoded(4);
        }
    }

    /** C1 controls, as UTF-8 encodes them (U+0080..U+009F). */
    private void c1(int cp) {
        switch (cp) {
            case 0x9b -> startCsi();
            case 0x9d -> enterString(OSC);
            case 0x90, 0x98, 0x9e, 0x9f -> enterString(STRING);
            case 0x85 -> emit(); // NEL
            default -> {
                // other C1 controls print nothing
            }
        }
    }

    private void utf8Start(int b) {
        if (b >= 0xc2 && b <= 0xdf) {
            begin(1, b & 0x1f, 0x80, 0x80, 0xbf);
        } else if (b >= 0xe0 && b <= 0xef) {
            begin(2, b & 0x0f, 0x800, b == 0xe0 ? 0xa0 : 0x80, b == 0xed ? 0x9f : 0xbf);
        } else if (b >= 0xf0 && b <= 0xf4) {
            begin(3, b & 0x07, 0x10000, b == 0xf0 ? 0x90 : 0x80, b == 0xf4 ? 0x8f : 0xbf);
        } else {
            putCodePoint(REPLACEMENT); // stray continuation byte, C0/C1 overlong lead, or F5..FF
        }
    }

    private void begin(int needed, int bits, int min, int lower, int upper) {
        utf8Needed = needed;
        utf8Seen = 0;
        utf8CodePoint = bits;
        utf8Min = min;
        utf8LowerBound = lower;
        utf8UpperBound = upper;
    }

    private void utf8Continue(int b) {
        int lower = utf8Seen == 0 ? utf8LowerBound : 0x80;
        int upper = utf8Seen == 0 ? utf8UpperBound : 0xbf;
        if (b < lower || b > upper) {
            // Truncated character: replace what we had, then read this byte afresh.
            utf8Needed = 0;
            putCodePoint(REPLACEMENT);
            ground(b);
            return;
        }
        utf8CodePoint = (utf8CodePoint << 6) | (b & 0x3f);
        utf8Seen++;
        if (utf8Seen == utf8Needed) {
            utf8Needed = 0;
            int cp = utf8CodePoint;
            putCodePoint(cp >= utf8Min ? cp : REPLACEMENT);
        }
    }

    private void grow(int atLeast) {
        int size = Math.min(maxLine, Math.max(atLeast, line.length * 2));
        line = java.util.Arrays.copyOf(line, Math.max(size, atLeast));
    }

    private void emit() {
        sink.line(line, 0, len);
        len = 0;
        cursor = 0;
    }

    /**
     * End of the stream: emits the unfinished last line, if it has anything, and forgets any
     * unfinished escape sequence or character (a truncated character becomes U+FFFD).
     */
    public void finish() {
        if (utf8Needed > 0) {
            utf8Needed = 0;
            if (state == GROUND) {
                putCodePoint(REPLACEMENT);
            }
        }
        state = GROUND;
        if (len > 0) {
            emit();
        }
        cursor = 0;
    }

    /**
     * Restores an unfinished line saved with {@link #pendingLine()} (after a hub restart), with the
     * cursor at its end.
     */
    public void restore(String pending) {
        byte[] b = pending.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(b.length, maxLine - 1);
        if (line.length < n) {
            grow(n);
        }
        System.arraycopy(b, 0, line, 0, n);
        len = n;
        cursor = n;
        state = GROUND;
        utf8Needed = 0;
    }

    /** The unfinished current line as a terminal would show it now (for live views). */
    public String pendingLine() {
        return new String(line, 0, len, StandardCharsets.UTF_8);
    }
}

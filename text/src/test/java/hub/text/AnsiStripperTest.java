package hub.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ANSI stripper against real terminal output captured on this machine ({@code ansi/*.raw},
 * recorded with {@code script} from ls, grep, git log and curl's progress bar) and against crafted
 * sequences of every family. Every case is fed whole, split at every byte position, and one byte
 * at a time: the lines must be the same.
 */
class AnsiStripperTest {
    private static final String ESC = "\u001b";

    private static List<String> strip(byte[] input, int... cuts) {
        List<String> lines = new ArrayList<>();
        AnsiStripper s = new AnsiStripper(4096, AnsiStripper.strings(lines::add));
        int from = 0;
        for (int cut : cuts) {
            s.feed(input, from, cut - from);
            from = cut;
        }
        s.feed(input, from, input.length - from);
        s.finish();
        return lines;
    }

    /** Strips {@code input} whole, at every split point, and byte by byte; all must agree. */
    private static List<String> stripEveryWay(byte[] input) {
        List<String> whole = strip(input);
        for (int cut = 0; cut <= input.length; cut++) {
            assertThat(strip(input, cut)).as("split at byte %d", cut).isEqualTo(whole);
        }
        int[] every = new int[input.length];
        for (int i = 0; i < input.length; i++) {
            every[i] = i;
        }
        assertThat(strip(input, every)).as("byte by byte").isEqualTo(whole);
        return whole;
    }

    private static List<String> stripEveryWay(String input) {
        return stripEveryWay(input.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = AnsiStripperTest.class.getResourceAsStream("/ansi/" + name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ls-color", "grep-color", "git-log", "curl-progress"})
    void realTerminalOutput(String name) throws IOException {
        byte[] raw = resource(name + ".raw");
        String expected = new String(resource(name + ".txt"), StandardCharsets.UTF_8);
        List<String> lines = stripEveryWay(raw);
        assertThat(String.join("\n", lines) + "\n").isEqualTo(expected);
        assertThat(lines).noneMatch(l -> l.contains(ESC) || l.contains("\r"));
    }

    @Test
    void colours16And256AndTruecolor() {
        assertThat(stripEveryWay(ESC + "[1;31mred" + ESC + "[0m plain" + ESC + "[m\n")).containsExactly("red plain");
        assertThat(stripEveryWay(ESC + "[38;5;196mred" + ESC + "[48;5;21m on blue" + ESC + "[0m\n"))
                .containsExactly("red on blue");
        assertThat(stripEveryWay(ESC + "[38;2;255;100;0morange" + ESC + "[38:2::10:20:30m!" + ESC + "[0m\n"))
                .containsExactly("orange!");
    }

    @Test
    void cursorMovementWithinTheLine() {
        assertThat(stripEveryWay("abcdef" + ESC + "[3Dxy\n")).containsExactly("abcxyf");
        assertThat(stripEveryWay("abc" + ESC + "[1Gz\n")).containsExactly("zbc");
        assertThat(stripEveryWay("a" + ESC + "[3Cb\n")).containsExactly("a   b");
        assertThat(stripEveryWay("col" + ESC + "[10G|\n")).containsExactly("col      |");
        // Moves to other lines and screen modes cannot be kept: they vanish.
        assertThat(stripEveryWay(ESC + "[2J" + ESC + "[H" + ESC + "[?25lhidden cursor" + ESC + "[?25h"
                + ESC + "[3A up\n")).containsExactly("hidden cursor up");
    }

    @Test
    void aFullScreenProgramLeavesOnlyTheMainScreensLines() {
        // vi as a shell in a terminal session runs it: its alternate screen (drawn with cursor moves,
        // forward motion, CRs and newlines) leaves nothing; the prompt line goes on after it.
        String vi = "$ vi notes\r\n" + ESC + "[?1049h" + ESC + "[1;30r" + ESC + "[H" + ESC + "[J~\r\n~"
                + ESC + "[30;83H0,0-1" + ESC + "[9CAll\r\nhello from vi" + ESC + "[11C" + ESC + "[?1049l"
                + "$ cat notes\r\nhello from vi\r\n";
        assertThat(stripEveryWay(vi)).containsExactly("$ vi notes", "$ cat notes", "hello from vi");
        // 47 and 1047 are the older names of the same mode.
        assertThat(stripEveryWay("a" + ESC + "[?47hgone\n" + ESC + "[?47lb\n")).containsExactly("ab");
        assertThat(stripEveryWay("x" + ESC + "[?1047hgone" + ESC + "[?1047ly\n")).containsExactly("xy");
    }

    @Test
    void oscTitlesAndHyperlinks() {
        assertThat(stripEveryWay(ESC + "]0;my title\u0007after\n")).containsExactly("after");
        assertThat(stripEveryWay(ESC + "]2;title with ST" + ESC + "\\after\n")).containsExactly("after");
        assertThat(stripEveryWay(ESC + "]8;;https://example.com/a?b=c" + ESC + "\\link" + ESC + "]8;;" + ESC
                + "\\ text\n")).containsExactly("link text");
        assertThat(stripEveryWay(ESC + "]0;tïtle ünïcode\u0007ok\n")).containsExactly("ok");
    }

    @Test
    void dcsSosPmApcStrings() {
        assertThat(stripEveryWay(ESC + "P1$r0m" + ESC + "\\x\n")).containsExactly("x");
        assertThat(stripEveryWay(ESC + "_Gf=100,a=T;iVBORw0KGgo=" + ESC + "\\y\n")).containsExactly("y");
        assertThat(stripEveryWay(ESC + "Xsos" + ESC + "\\" + ESC + "^pm" + ESC + "\\z\n")).containsExactly("z");
    }

    @Test
    void c1ControlsAsUtf8() {
        assertThat(stripEveryWay("\u009b31mred\u009b0m\n")).containsExactly("red");
        assertThat(stripEveryWay("\u009d0;title\u009cok\n")).containsExactly("ok");
        assertThat(stripEveryWay("a\u0084b\u0090dcs\u009cc\n")).containsExactly("abc");
    }

    @Test
    void twoByteAndIntermediateEscapes() {
        assertThat(stripEveryWay(ESC + "7save" + ESC + "8" + ESC + "(Bx" + ESC + "=" + ESC + ">" + ESC + "#8y\n"))
                .containsExactly("savexy");
    }

    @Test
    void progressBarsKeepTheirFinalState() {
        assertThat(stripEveryWay("10%\r20%\r100%\n")).containsExactly("100%");
        assertThat(stripEveryWay("\r" + ESC + "[Kdownloading 1/3\r" + ESC + "[Kdone 3/3\n"))
                .containsExactly("done 3/3");
        assertThat(stripEveryWay("abcdef\rXY\n")).as("like a terminal, no erase").containsExactly("XYcdef");
        assertThat(stripEveryWay("|\b/\b-\b\\\bdone\n")).containsExactly("done");
        assertThat(stripEveryWay("[##   ] 40%\r[#####] 100%" + ESC + "[K\r\n")).containsExactly("[#####] 100%");
        assertThat(stripEveryWay("████▌ 45%\r█████████ 100%\n")).containsExactly("█████████ 100%");
    }

    @Test
    void lineEndingsAndControls() {
        assertThat(stripEveryWay("a\r\nb\nc\r\n\n")).containsExactly("a", "b", "c", "");
        assertThat(stripEveryWay("tab\there\u0007\u0000\u000e\u000f\u007f!\n")).containsExactly("tab\there!");
        assertThat(stripEveryWay("no newline at end")).containsExactly("no newline at end");
    }

    @Test
    void invalidUtf8BecomesReplacementAndNeverThrows() {
        byte[] bad = {'a', (byte) 0xff, 'b', (byte) 0xc3, '(', (byte) 0xe2, (byte) 0x82, 'c', (byte) 0xc0, (byte) 0xaf,
            (byte) 0xed, (byte) 0xa0, (byte) 0x80, '\n', (byte) 0xf0, (byte) 0x9f};
        List<String> lines = stripEveryWay(bad);
        assertThat(lines.get(0)).startsWith("a\uFFFDb\uFFFD(\uFFFDc").doesNotContain(ESC);
        assertThat(lines.get(1)).isEqualTo("\uFFFD");
        assertThat(stripEveryWay("emoji 😀 and ünïcödé 中文\n")).containsExactly("emoji 😀 and ünïcödé 中文");
    }

    @Test
    void randomBytesNeverThrowAndNeverLeakEscapes() {
        Random r = new Random(42);
        for (int round = 0; round < 200; round++) {
            byte[] junk = new byte[r.nextInt(400)];
            r.nextBytes(junk);
            for (String l : stripEveryWay(junk)) {
                assertThat(l).doesNotContain(ESC).doesNotContain("\r").doesNotContain("\n");
            }
        }
    }

    @Test
    void longLinesAreCutAtTheLimit() {
        List<String> lines = new ArrayList<>();
        AnsiStripper s = new AnsiStripper(16, AnsiStripper.strings(lines::add));
        s.feed("0123456789abcdefXYZ\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(lines).containsExactly("0123456789abcdef", "XYZ");
    }

    @Test
    void pendingLineShowsTheUnfinishedLine() {
        List<String> lines = new ArrayList<>();
        AnsiStripper s = new AnsiStripper(4096, AnsiStripper.strings(lines::add));
        s.feed(("done\n50%\r" + ESC + "[K60%").getBytes(StandardCharsets.UTF_8));
        assertThat(lines).containsExactly("done");
        assertThat(s.pendingLine()).isEqualTo("60%");
    }

    @Test
    void wordAtATimeCheckAgreesWithTheByteCheckForEveryByte() {
        for (int pos = 0; pos < 8; pos++) {
            for (int v = 0; v < 256; v++) {
                long x = 0x4141414141414141L; // "AAAAAAAA"
                x = (x & ~(0xffL << (8 * pos))) | ((long) v << (8 * pos));
                boolean printable = v >= 0x20 && v <= 0x7e;
                assertThat(AnsiStripper.isPrintableAscii8(x)).as("byte %02x at %d", v, pos).isEqualTo(printable);
            }
        }
    }

    @Test
    void theWordTestFindsTheFirstNonPrintableByteExactly() {
        java.util.Random r = new java.util.Random(42);
        byte[] interesting = {0x00, 0x09, 0x0a, 0x1b, 0x1f, 0x20, 0x41, 0x7e, 0x7f, (byte) 0x80, (byte) 0xc3,
            (byte) 0xff};
        for (int round = 0; round < 200_000; round++) {
            byte[] b = new byte[8];
            for (int k = 0; k < 8; k++) {
                b[k] = r.nextBoolean() ? interesting[r.nextInt(interesting.length)] : (byte) r.nextInt(256);
            }
            int first = 8;
            for (int k = 0; k < 8; k++) {
                int v = b[k] & 0xff;
                if (v < 0x20 || v >= 0x7f) {
                    first = k;
                    break;
                }
            }
            long w = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            long bad = AnsiStripper.notPrintableAscii8(w);
            int found = bad == 0 ? 8 : Long.numberOfTrailingZeros(bad) >>> 3;
            assertThat(found).as("bytes %s", java.util.Arrays.toString(b)).isEqualTo(first);
        }
    }
}

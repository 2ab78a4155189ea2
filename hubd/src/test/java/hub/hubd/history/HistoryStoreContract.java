package hub.hubd.history;

import static org.assertj.core.api.Assertions.assertThat;

import hub.hubd.history.HistoryStore.NewLine;
import hub.hubd.history.HistoryStore.Outcome;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * What every {@link HistoryStore} must do: append, tail, after, duplicates, trim by lines and by
 * bytes with gaps, survive a reopen, delete. Subclasses supply a real store.
 */
public abstract class HistoryStoreContract {

    /** A store with these caps over the backend under test (same data as the previous one). */
    protected abstract HistoryStore store(long maxLines, long maxBytes);

    /** Closes the backend's connection and opens a new one on the same data. */
    protected abstract void reopen();

    private static List<NewLine> lines(String task, int from, int to) {
        return IntStream.rangeClosed(from, to).mapToObj(i -> new NewLine(task, "stdout", "line " + i, 1000L + i))
                .toList();
    }

    private static List<String> texts(HistoryPage p) {
        return p.lines().stream().map(HistoryLine::text).toList();
    }

    @Test
    public void appendThenTailAndAfterInOrder() {
        HistoryStore s = store(1000, 1 << 20);
        assertThat(s.append("n1", "t1", 1, lines("t1", 1, 3), null, null)).isEqualTo(Outcome.APPENDED);
        assertThat(s.append("n1", "t1", 2, lines("t1", 4, 5), "partial", null)).isEqualTo(Outcome.APPENDED);

        HistoryPage tail = s.tail("n1", 2);
        assertThat(texts(tail)).containsExactly("line 4", "line 5");
        assertThat(tail.lines().get(0).offset()).isEqualTo(4);
        assertThat(tail.nextOffset()).isEqualTo(5);

        HistoryPage after = s.after("n1", 1, 10);
        assertThat(texts(after)).containsExactly("line 2", "line 3", "line 4", "line 5");
        assertThat(after.gap()).isNull();
        assertThat(after.nextOffset()).isEqualTo(5);
        assertThat(s.after("n1", 5, 10).lines()).isEmpty();
        assertThat(s.after("n1", 5, 10).nextOffset()).isEqualTo(5);
        assertThat(s.after("n1", 0, 2).nextOffset()).isEqualTo(2);
        assertThat(s.tail("other", 10).lines()).isEmpty();
    }

    @Test
    public void duplicatesAndOutOfOrderChunksChangeNothing() {
        HistoryStore s = store(1000, 1 << 20);
        s.append("n1", "t1", 1, lines("t1", 1, 2), null, null);
        assertThat(s.append("n1", "t1", 1, lines("t1", 1, 2), null, null)).isEqualTo(Outcome.DUPLICATE);
        assertThat(s.append("n1", "t1", 3, lines("t1", 5, 6), null, null)).isEqualTo(Outcome.OUT_OF_ORDER);
        assertThat(texts(s.tail("n1", 10))).containsExactly("line 1", "line 2");
        assertThat(s.progress("n1", "t1").lastSequence()).isEqualTo(1);
        assertThat(s.progress("n1", "t9").lastSequence()).isZero();
    }

    @Test
    public void chunkWithoutCompleteLinesStillAdvancesTheSequenceAndKeepsThePendingLine() {
        HistoryStore s = store(1000, 1 << 20);
        assertThat(s.append("n1", "t1", 1, List.of(), "half a li", "err part")).isEqualTo(Outcome.APPENDED);
        HistoryStore.TaskProgress p = s.progress("n1", "t1");
        assertThat(p.lastSequence()).isEqualTo(1);
        assertThat(p.pendingStdout()).isEqualTo("half a li");
        assertThat(p.pendingStderr()).isEqualTo("err part");
        assertThat(s.tail("n1", 10).lines()).isEmpty();
    }

    @Test
    public void trimsToTheLineCapAndReportsTheGap() {
        HistoryStore s = store(5, 1 << 20);
        s.append("n1", "t1", 1, lines("t1", 1, 4), null, null);
        s.append("n1", "t1", 2, lines("t1", 5, 8), null, null);
        assertThat(texts(s.tail("n1", 100))).containsExactly("line 4", "line 5", "line 6", "line 7", "line 8");

        HistoryPage p = s.after("n1", 1, 100);
        assertThat(p.gap()).isEqualTo(new HistoryPage.Gap(2, 3));
        assertThat(texts(p)).containsExactly("line 4", "line 5", "line 6", "line 7", "line 8");
        assertThat(s.after("n1", 3, 100).gap()).isNull();
    }

    @Test
    public void trimsToTheByteCap() {
        HistoryStore s = store(1000, 20); // "line N" is 6 bytes: 3 lines fit
        s.append("n1", "t1", 1, lines("t1", 1, 5), null, null);
        assertThat(texts(s.tail("n1", 100))).containsExactly("line 3", "line 4", "line 5");
        assertThat(s.after("n1", 0, 100).gap()).isEqualTo(new HistoryPage.Gap(1, 2));
    }

    private static HistoryStore.NewBlock block(String task, String stream, int from, int to) {
        return HistoryBlocks.of(lines(task, from, to).stream()
                .map(l -> new NewLine(l.taskId(), stream, l.text(), 7L)).toList()).get(0);
    }

    @Test
    public void blocksAreReadAsLinesWithTheirOwnOffsets() {
        HistoryStore s = store(1000, 1 << 20);
        s.appendBlocks("n1", "t1", 1, List.of(block("t1", "stdout", 1, 100), block("t1", "stderr", 101, 150)),
                null, null);
        s.appendBlocks("n1", "t1", 2, List.of(block("t1", "stdout", 151, 151)), null, null);

        HistoryPage tail = s.tail("n1", 60);
        assertThat(tail.lines()).hasSize(60);
        assertThat(tail.lines().get(0).offset()).isEqualTo(92);
        assertThat(tail.lines().get(0).text()).isEqualTo("line 92");
        assertThat(tail.lines().get(8).stream()).isEqualTo("stdout");
        assertThat(tail.lines().get(9).stream()).isEqualTo("stderr");
        assertThat(tail.lines().get(59).text()).isEqualTo("line 151");
        assertThat(tail.nextOffset()).isEqualTo(151);

        HistoryPage mid = s.after("n1", 98, 5);
        assertThat(texts(mid)).containsExactly("line 99", "line 100", "line 101", "line 102", "line 103");
        assertThat(mid.lines().get(4).offset()).isEqualTo(103);
        assertThat(mid.nextOffset()).isEqualTo(103);
        assertThat(s.after("n1", 0, 1000).lines()).hasSize(151);
    }

    @Test
    public void trimCutsABlockInTwoAndReadersSkipItsTrimmedLines() {
        HistoryStore s = store(130, 1 << 20);
        s.appendBlocks("n1", "t1", 1, List.of(block("t1", "stdout", 1, 100)), null, null);
        s.appendBlocks("n1", "t1", 2, List.of(block("t1", "stdout", 101, 150)), null, null); // 20 over

        HistoryPage all = s.after("n1", 0, 1000);
        assertThat(all.gap()).isEqualTo(new HistoryPage.Gap(1, 20));
        assertThat(all.lines()).hasSize(130);
        assertThat(all.lines().get(0).text()).isEqualTo("line 21");
        assertThat(s.tail("n1", 1000).lines()).hasSize(130);
        assertThat(s.after("n1", 10, 3).lines().get(0).offset()).isEqualTo(21);
        assertThat(s.after("n1", 30, 2).lines().get(0).text()).isEqualTo("line 31");

        s.appendBlocks("n1", "t1", 3, List.of(block("t1", "stdout", 151, 240)), null, null); // 110 over
        HistoryPage later = s.after("n1", 0, 1000);
        assertThat(later.gap()).isEqualTo(new HistoryPage.Gap(1, 110));
        assertThat(later.lines()).hasSize(130);
        assertThat(later.lines().get(0).text()).isEqualTo("line 111");
        assertThat(later.lines().get(129).text()).isEqualTo("line 240");
    }

    @Test
    public void byteCapCountsUtf8BytesOfEachLine() {
        // "é" is two bytes: each line "é N" is 4 bytes
        List<NewLine> lines = IntStream.rangeClosed(1, 9).mapToObj(i -> new NewLine("t1", "stdout", "é " + i, 5L))
                .toList();
        HistoryStore s = store(1000, 12);
        s.append("n1", "t1", 1, lines, null, null);
        assertThat(texts(s.tail("n1", 100))).containsExactly("é 7", "é 8", "é 9");
        assertThat(s.after("n1", 0, 100).gap()).isEqualTo(new HistoryPage.Gap(1, 6));
    }

    /**
     * Blocks of random lines (empty, ASCII, two- and three-byte characters, an emoji) against a
     * model: after every append the store keeps exactly the newest lines that fit both caps, cut
     * blocks included, and reads them back as written.
     */
    @Test
    public void trimKeepsExactlyTheNewestLinesWithinBothCapsForRandomBlocks() {
        java.util.Random random = new java.util.Random(20261207);
        String[] pieces = {"", "a", "line of text", "é", "€uro", "\uD83D\uDE00", " ", "tab\tand more text here"};
        for (int round = 0; round < 4; round++) {
            long maxLines = 5 + random.nextInt(60);
            long maxBytes = 20 + random.nextInt(400);
            HistoryStore s = store(maxLines, maxBytes);
            String node = "rnd" + round;
            String task = "rt" + round;
            List<String> all = new java.util.ArrayList<>(); // every line ever appended, offset = index + 1
            for (int seq = 1; seq <= 25; seq++) {
                List<HistoryStore.NewBlock> blocks = new java.util.ArrayList<>();
                for (int b = 0, nb = 1 + random.nextInt(2); b < nb; b++) {
                    List<NewLine> ls = new java.util.ArrayList<>();
                    for (int i = 0, n = 1 + random.nextInt(12); i < n; i++) {
                        StringBuilder t = new StringBuilder();
                        for (int k = 0, m = random.nextInt(4); k < m; k++) {
                            t.append(pieces[random.nextInt(pieces.length)]);
                        }
                        ls.add(new NewLine(task, b == 0 ? "stdout" : "stderr", t.toString(), 5L));
                        all.add(t.toString());
                    }
                    blocks.addAll(HistoryBlocks.of(ls));
                }
                assertThat(s.appendBlocks(node, task, seq, blocks, null, null)).isEqualTo(Outcome.APPENDED);
                // the model: the oldest line kept is the first from which both caps hold
                int first = all.size();
                long bytes = 0;
                while (first > 0) {
                    long b = all.get(first - 1).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
                    if (all.size() - first + 1 > maxLines || bytes + b > maxBytes) {
                        break;
                    }
                    bytes += b;
                    first--;
                }
                HistoryPage kept = s.after(node, 0, 100_000);
                assertThat(texts(kept)).as("round %d, chunk %d, caps %d lines %d bytes", round, seq, maxLines,
                        maxBytes).isEqualTo(all.subList(first, all.size()));
                assertThat(texts(s.tail(node, 100_000))).isEqualTo(all.subList(first, all.size()));
                if (first > 0) {
                    assertThat(kept.gap()).isEqualTo(new HistoryPage.Gap(1, first));
                }
            }
        }
    }

    @Test
    public void historySurvivesReopening() {
        store(1000, 1 << 20).append("n1", "t1", 1, lines("t1", 1, 3), "p", null);
        reopen();
        HistoryStore s = store(1000, 1 << 20);
        assertThat(texts(s.tail("n1", 10))).containsExactly("line 1", "line 2", "line 3");
        assertThat(s.progress("n1", "t1").lastSequence()).isEqualTo(1);
        assertThat(s.append("n1", "t1", 1, lines("t1", 1, 3), null, null)).isEqualTo(Outcome.DUPLICATE);
        s.append("n1", "t1", 2, lines("t1", 4, 4), null, null);
        assertThat(s.tail("n1", 1).lines().get(0).offset()).isEqualTo(4);
    }

    @Test
    public void deleteForgetsTheNode() {
        HistoryStore s = store(1000, 1 << 20);
        s.append("n1", "t1", 1, lines("t1", 1, 3), null, null);
        s.append("n2", "t2", 1, lines("t2", 1, 1), null, null);
        s.delete("n1");
        assertThat(s.tail("n1", 10).lines()).isEmpty();
        assertThat(s.progress("n1", "t1").lastSequence()).isZero();
        assertThat(s.tail("n2", 10).lines()).hasSize(1);
    }
}

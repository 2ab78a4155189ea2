package hub.hubd.history;

import java.util.List;

/**
 * Lines read from a node's history.
 *
 * @param lines      in offset order
 * @param nextOffset the offset to pass as {@code after} to continue (the last line's, or the
 *                   {@code after} asked for when there were none)
 * @param gap        lines the reader asked for that were already trimmed, or {@code null}
 */
public record HistoryPage(List<HistoryLine> lines, long nextOffset, Gap gap) {
    public HistoryPage {
        lines = List.copyOf(lines);
    }

    /**
     * Offsets {@code from}..{@code to} (inclusive) no longer exist: trimmed by the store's caps.
     *
     * @param from first missing offset
     * @param to   last missing offset
     */
    public record Gap(long from, long to) {
    }
}

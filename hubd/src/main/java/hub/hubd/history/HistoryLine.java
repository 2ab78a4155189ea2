package hub.hubd.history;

import java.time.Instant;
import java.util.Objects;

/**
 * One line of a node's terminal history, ANSI already stripped.
 *
 * @param offset position in the node's history: increasing, never reused
 * @param nodeId the node
 * @param taskId the task that printed it, or {@code null}
 * @param stream {@code stdout} or {@code stderr}
 * @param text   the line, without terminator
 * @param at     when the agent read it
 */
public record HistoryLine(long offset, String nodeId, String taskId, String stream, String text, Instant at) {
    public HistoryLine {
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(at, "at");
    }
}

package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;

/**
 * Reads a node's history page by page from an offset, printing each line's text (stdout lines to
 * {@code out}, stderr lines to {@code err}), optionally only one task's lines, and saying so when
 * lines were trimmed before they could be read. With a null {@code nodePath} it only prints what it
 * is given ({@code tasks output} fetches its own pages).
 */
final class HistoryFollower {
    private final HubClient client;
    private final String nodePath;
    private final String taskId;
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean json;
    private volatile long offset;

    HistoryFollower(HubClient client, String nodePath, long offset, String taskId, PrintWriter out, PrintWriter err) {
        this(client, nodePath, offset, taskId, out, err, false);
    }

    HistoryFollower(HubClient client, String nodePath, long offset, String taskId, PrintWriter out, PrintWriter err,
            boolean json) {
        this.client = client;
        this.nodePath = nodePath;
        this.offset = offset;
        this.taskId = taskId;
        this.out = out;
        this.err = err;
        this.json = json;
    }

    long offset() {
        return offset;
    }

    /**
     * Fetches and prints the next page.
     *
     * @return whether there were lines (more may follow at once)
     */
    boolean poll() {
        JsonNode page = client.get(nodePath + "/history?after=" + offset + "&limit=1000");
        JsonNode gap = page.get("gap");
        if (gap != null && !gap.isNull()) {
            gap(gap);
        }
        JsonNode lines = page.path("lines");
        print(lines);
        offset = page.path("nextOffset").asLong(offset);
        return lines.size() > 0;
    }

    /** Says which lines were trimmed before they could be read. */
    void gap(JsonNode gap) {
        err.printf("hubctl: lines %d-%d were trimmed from the history before they could be read%n",
                gap.get("from").asLong(), gap.get("to").asLong());
        err.flush();
    }

    /** Prints a page's lines. */
    void print(JsonNode lines) {
        for (JsonNode l : lines) {
            write(l);
        }
        out.flush();
        err.flush();
    }

    /** Prints one streamed line and moves past it. */
    void printLine(JsonNode l) {
        write(l);
        offset = Math.max(offset, l.path("offset").asLong(offset));
        out.flush();
        err.flush();
    }

    private void write(JsonNode l) {
        if (taskId != null && !taskId.equals(l.path("taskId").asText())) {
            return;
        }
        if (json) {
            com.fasterxml.jackson.databind.node.ObjectNode o = l.deepCopy();
            o.remove("type"); // the same objects as GET …/history lines
            out.println(o.toString());
        } else {
            ("stderr".equals(l.path("stream").asText()) ? err : out).println(l.path("text").asText());
        }
    }
}

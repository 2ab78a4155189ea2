package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import hub.text.AnsiStripper;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Base64;

/**
 * Reads one task's output from the hub, whole and in order, from its raw chunks ({@code GET
 * /api/v1/tasks/{id}/raw}), releasing on each request what the one before gave (so the hub holds
 * only what was not printed yet), across hub restarts (the position only moves on a page handed
 * on). Chunks go to a {@link Sink}: as bytes ({@code --raw}) or as the text lines a person reads,
 * rendered by the same ANSI stripper as the hub's history.
 *
 * <p>When the hub says chunks are missing (read by another client, past its retention, or not kept
 * past its per-node bound), the reader remembers it: {@link #incomplete()} is the message exec
 * fails with, never a silent trim.
 */
final class TaskReader {
    /** Largest page asked for. */
    static final long PAGE_BYTES = 1024 * 1024;

    /** Where output goes. */
    interface Sink {
        /** Bytes of one stream, as the remote process wrote them. */
        void bytes(boolean stderr, byte[] data);

        /** The task's output is all read: flush what is held (an unfinished last line). */
        default void finish() {
        }
    }

    /** Each chunk's bytes, as they are, to two byte streams. */
    static Sink raw(OutputStream out, OutputStream err) {
        return new Sink() {
            @Override
            public void bytes(boolean stderr, byte[] data) {
                try {
                    OutputStream o = stderr ? err : out;
                    o.write(data);
                    o.flush();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
    }

    /** Receives the text lines of a task's output. */
    interface Lines {
        void line(boolean stderr, String text);
    }

    /** The text a person reads: escapes stripped, redraws rendered, one call per line. */
    static Sink text(Lines lines) {
        return new Sink() {
            private final AnsiStripper out = new AnsiStripper(64 * 1024, AnsiStripper.strings(l -> lines.line(false, l)));
            private final AnsiStripper err = new AnsiStripper(64 * 1024, AnsiStripper.strings(l -> lines.line(true, l)));

            @Override
            public void bytes(boolean stderr, byte[] data) {
                (stderr ? err : out).feed(data);
            }

            @Override
            public void finish() {
                out.finish();
                err.finish();
            }
        };
    }

    private final HubClient client;
    private final String taskId;
    private final Sink sink;
    private long after;
    private boolean complete;
    private boolean released;
    private String incomplete;
    private JsonNode task;

    TaskReader(HubClient client, String taskId, Sink sink) {
        this.client = client;
        this.taskId = taskId;
        this.sink = sink;
    }

    /** A page to ask the hub for: the task's output after {@code after}, releasing what is before it. */
    record Ask(String taskId, long after, long maxBytes) {
    }

    /**
     * What to ask for next: the next page, or once the task's output is all read, a last call that
     * frees what the last page gave; null when there is nothing left to ask.
     */
    Ask next() {
        if (complete) {
            return released || after == 0 ? null : new Ask(taskId, after, 1);
        }
        return new Ask(taskId, after, PAGE_BYTES);
    }

    /**
     * Fetches the next page and hands its chunks on; after the last one, releases it.
     *
     * @return whether there were chunks (more may follow at once)
     */
    boolean poll() {
        if (complete) {
            releaseLast();
            return false;
        }
        Ask a = next();
        boolean any = take(client.get("api/v1/tasks/" + HubClient.enc(taskId) + "/raw?release=true&maxBytes="
                + a.maxBytes() + "&after=" + a.after()));
        if (complete) {
            releaseLast();
        }
        return any;
    }

    /**
     * Takes the answer to {@link #next()} (a page as {@code GET …/raw} gives it, or an item of
     * {@code POST /api/v1/tasks/raw}): hands its chunks on, and notes the end.
     *
     * @return whether there were chunks
     */
    boolean take(JsonNode page) {
        if (complete) { // the answer to the last call, which released the rest
            released = true;
            return false;
        }
        task = page.path("task");
        JsonNode missing = page.get("missing");
        if (missing != null && !missing.isNull() && incomplete == null) {
            incomplete = missing(page, missing);
        }
        JsonNode chunks = page.path("chunks");
        Base64.Decoder b64 = Base64.getDecoder();
        for (JsonNode c : chunks) {
            sink.bytes("stderr".equals(c.path("stream").asText()), b64.decode(c.path("data").asText()));
        }
        after = page.path("next").asLong(after);
        if (page.path("complete").asBoolean()) {
            complete = true;
            sink.finish();
        }
        return chunks.size() > 0;
    }

    /**
     * The hub refused the ask (an item's {@code error}: a problem). A refused release is given up
     * (the hub's retention frees it); a refused read fails as {@code GET …/raw} would.
     */
    void refused(JsonNode problem) {
        if (complete) {
            released = true;
            return;
        }
        throw HubctlException.hub(problem.path("detail").asText("the hub refused to read task " + taskId));
    }

    /** Frees what the last page gave (best effort: the hub's retention frees it otherwise). */
    private void releaseLast() {
        if (released || after == 0) {
            return;
        }
        try {
            client.get("api/v1/tasks/" + HubClient.enc(taskId) + "/raw?release=true&maxBytes=1&after=" + after);
            released = true;
        } catch (HubctlException e) {
            if (!e.isTransient()) {
                released = true; // e.g. the task's node was removed meanwhile: nothing left to free
            }
        }
    }

    private static String missing(JsonNode page, JsonNode missing) {
        long from = missing.path("from").asLong();
        if (page.hasNonNull("droppedFrom") && page.get("droppedFrom").asLong() <= from) {
            return "the hub kept this task's output from chunk " + from + " on as history text only: its node's "
                    + "unread output was over the hub's --task-output-max-bytes ('hubctl history' has the text)";
        }
        return "chunks " + from + (missing.hasNonNull("to") ? "-" + missing.get("to").asLong() : "")
                + " of this task's output are no longer on the hub (read by another client, or past its "
                + "--task-output-retention)";
    }

    /** The task as the last page had it, or null before the first. */
    JsonNode task() {
        return task;
    }

    /** Whether every chunk was read (and the task has ended). */
    boolean complete() {
        return complete;
    }

    /** Why the output read is not the whole output, or null when it is. */
    String incomplete() {
        return incomplete;
    }
}

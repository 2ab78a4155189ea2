package hub.hubd.tasks;

import java.util.Locale;

/** Where a task is in its life. The last four are final. */
public enum TaskState {
    QUEUED, SENT, RUNNING, EXITED, FAILED, TIMED_OUT, CANCELLED;

    /** The JSON name: {@code queued}, {@code timed_out}, … */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the task has ended. */
    public boolean isFinal() {
        return ordinal() >= EXITED.ordinal();
    }

    static TaskState parse(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}

package hub.hubd.tasks;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

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

    /**
     * The states a {@code ?state=} filter names: a state's JSON name, {@code unfinished} (queued,
     * sent or running) or {@code finished}; null or blank for all.
     *
     * @throws IllegalArgumentException for anything else
     */
    public static Set<TaskState> filter(String s) {
        if (s == null || s.isBlank()) {
            return EnumSet.allOf(TaskState.class);
        }
        return switch (s) {
            case "unfinished" -> EnumSet.of(QUEUED, SENT, RUNNING);
            case "finished" -> EnumSet.of(EXITED, FAILED, TIMED_OUT, CANCELLED);
            default -> {
                for (TaskState t : values()) {
                    if (t.wireName().equals(s)) {
                        yield EnumSet.of(t);
                    }
                }
                throw new IllegalArgumentException("state must be one of queued, sent, running, exited, failed, "
                        + "timed_out, cancelled, unfinished, finished; not '" + s + "'");
            }
        };
    }
}

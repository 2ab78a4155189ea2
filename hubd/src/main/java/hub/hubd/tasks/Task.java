package hub.hubd.tasks;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A command on a node.
 *
 * @param id         task id
 * @param nodeId     the node it runs on
 * @param owner      user who created it
 * @param command    shell command ({@code /bin/sh -c}), or null when {@code argv} is given
 * @param argv       program and arguments, or null when {@code command} is given
 * @param timeoutMs  limit in milliseconds; 0 for none
 * @param state      where it is
 * @param exitCode   exit status once ended, else null
 * @param error      why it failed, timed out or was cancelled, else null
 * @param createdAt  when it was created
 * @param startedAt  when the process started, or null
 * @param finishedAt when it ended, or null
 * @param cancel     the first cancel asked for while it was unfinished, or null
 * @param output     where its output lies in the node's history
 * @param runAs      the local user it runs as on the node, or null for the agent's default
 * @param terminal   the pseudo-terminal of a terminal session ({@code hubctl ssh}), else null
 */
public record Task(String id, String nodeId, String owner, String command, List<String> argv, long timeoutMs,
        TaskState state, Integer exitCode, String error, Instant createdAt, Instant startedAt, Instant finishedAt,
        CancelRequest cancel, OutputRange output, String runAs, Terminal terminal) {

    /** A task that is not a terminal session. */
    public Task(String id, String nodeId, String owner, String command, List<String> argv, long timeoutMs,
            TaskState state, Integer exitCode, String error, Instant createdAt, Instant startedAt, Instant finishedAt,
            CancelRequest cancel, OutputRange output, String runAs) {
        this(id, nodeId, owner, command, argv, timeoutMs, state, exitCode, error, createdAt, startedAt, finishedAt,
                cancel, output, runAs, null);
    }

    /**
     * The pseudo-terminal a session runs on: its type (TERM) and, when it started, its size and the
     * client's locale variables (LANG, LC_*). The store keeps the type only: tasks read back have
     * sizes 0 and no variables.
     */
    public record Terminal(String term, int columns, int rows, java.util.Map<String, String> env) {
        public Terminal {
            Objects.requireNonNull(term, "term");
            env = env == null ? java.util.Map.of() : java.util.Map.copyOf(env);
        }
    }

    /** This task in another state (the rest as it is). */
    public Task with(TaskState newState, String newError, Instant newFinishedAt, OutputRange newOutput) {
        return new Task(id, nodeId, owner, command, argv, timeoutMs, newState, exitCode, newError, createdAt, startedAt,
                newFinishedAt, cancel, newOutput, runAs, terminal);
    }

    /**
     * Every line of the task's output has a history offset above {@code after} and, once the task
     * has ended, at most {@code until} (null while it runs). Tasks made before hubd recorded this
     * have {@code after} 0 and {@code until} null: their whole node history is searched.
     */
    public record OutputRange(long after, Long until) {
        public static final OutputRange UNKNOWN = new OutputRange(0, null);
    }

    /** A cancel asked for: it is sent again each time the agent reconnects still holding the task. */
    public record CancelRequest(Instant at, String by) {
        public CancelRequest {
            Objects.requireNonNull(at, "at");
            Objects.requireNonNull(by, "by");
        }

        /** What the agent is told, and what the task's error says once it ends. */
        public String reason() {
            return "cancelled by " + by;
        }
    }

    public Task {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(state, "state");
        argv = argv == null ? null : List.copyOf(argv);
        output = output == null ? OutputRange.UNKNOWN : output;
    }
}

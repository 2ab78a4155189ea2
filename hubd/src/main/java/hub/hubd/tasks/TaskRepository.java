package hub.hubd.tasks;

import java.util.Optional;

/** Tasks as stored. Implementations block on the database; never called on a gRPC thread. */
public interface TaskRepository {

    void insert(Task task);

    /** Stores several tasks at once (one transaction where the store has them): all or none. */
    default void insertAll(java.util.List<Task> tasks) {
        for (Task t : tasks) {
            insert(t);
        }
    }

    Optional<Task> find(String id);

    /** The node's most recently created task. */
    Optional<Task> latest(String nodeId);

    /**
     * The node's tasks in {@code states}, newest first: at most {@code limit}, created before
     * {@code before} (null: from the newest).
     */
    java.util.List<Task> list(String nodeId, java.util.Set<TaskState> states, Position before, int limit);

    /** Where a task sits in newest-first order: its creation time, then its id. */
    record Position(long createdAtMillis, String id) {
        public static Position of(Task t) {
            return new Position(t.createdAt().toEpochMilli(), t.id());
        }
    }

    /** The node's tasks that are not in a final state, oldest first. */
    java.util.List<Task> unfinished(String nodeId);

    /**
     * Terminal sessions (tasks with a terminal), newest first, of one node (null: all), created before
     * {@code before} (null: from the newest), at most {@code limit}.
     */
    java.util.List<Task> sessions(String nodeId, Position before, int limit);

    /**
     * Records a state change; final states are never overwritten.
     *
     * @param outputUntil the node's last history offset once the task's output is all stored (set
     *                    with a final state), else null
     * @return false when the task was already final (or does not exist): nothing changed
     */
    boolean update(String id, TaskState state, Integer exitCode, String error, Long startedAtMillis,
            Long finishedAtMillis, Long outputUntil);

    /** Keeps a cancel request on an unfinished task; the first one asked for stays. */
    /**
     * Moves the task from {@code from} to {@code to} only if it is in {@code from} now (error,
     * finish time and output end set when given): of several hubs trying, one succeeds.
     *
     * @return whether it moved
     */
    boolean move(String id, TaskState from, TaskState to, String error, Long finishedAtMillis, Long outputUntil);

    void requestCancel(String id, Task.CancelRequest cancel);
}

package hub.hubd.tasks;

import java.util.Optional;

/** Tasks as stored. Implementations block on the database; never called on a gRPC thread. */
public interface TaskRepository {

    void insert(Task task);

    Optional<Task> find(String id);

    /** The node's most recently created task. */
    Optional<Task> latest(String nodeId);

    /** The node's tasks that are not in a final state, oldest first. */
    java.util.List<Task> unfinished(String nodeId);

    /** Records a state change; final states are never overwritten. */
    void update(String id, TaskState state, Integer exitCode, String error, Long startedAtMillis,
            Long finishedAtMillis);
}

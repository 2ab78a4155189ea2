package hub.hubd.runs;

import java.util.List;
import java.util.Optional;

/** Runs as stored. Blocks on the database. */
public interface RunRepository {
    void insert(Run run);

    /** A node's task and outcome changed. */
    void updateNode(String runId, Run.Node node);

    /** Several nodes' tasks and outcomes changed: stored together (one transaction where the store has them). */
    default void updateNodes(String runId, List<Run.Node> nodes) {
        for (Run.Node n : nodes) {
            updateNode(runId, n);
        }
    }

    void finish(String runId, Run.State state, long atMillis);

    Optional<Run> find(String id);

    /** The newest runs (of the user id {@code ownerIdOrNull}, or everyone's), at most {@code limit}. */
    List<Run> list(String ownerIdOrNull, int limit);

    /** Runs still running (for a hub that starts again). */
    List<Run> unfinished();
}

package hub.hubd.runs;

import java.time.Instant;
import java.util.List;

/**
 * One command on many nodes: the resolved nodes in launch order, each with its task and outcome.
 *
 * @param owner     the creator's name then; {@code ownerId} is what access is decided by
 * @param selector  the label selector it was given, or null for a list of nodes
 * @param parallel  at most this many of its tasks unfinished at once
 * @param maxErrors launching stops once more than this many nodes failed
 * @param stdin     its tasks read the stdin their client sends each of them
 * @param batchWaitMs 0: a sliding window of {@code parallel} nodes; else batches of {@code parallel},
 *                  each started this long after the one before has ended
 * @param copy      for a copy run, the file copied to each node (its client sends it, through the hub,
 *                  node by node: the hub records each node's outcome as it relays); null for a command
 */
public record Run(String id, String owner, String ownerId, String command, List<String> argv, String runAs,
        String selector, int parallel, int maxErrors, long timeoutMs, long batchWaitMs, boolean stdin, State state, Instant createdAt,
        Instant finishedAt, List<Node> nodes, Copy copy) {

    /** The file of a copy run: where it goes on each node and what it is. */
    public record Copy(String path, String name, long size, String sha256) {
    }

    /** The same run in another state, with these nodes. */
    public Run with(State s, Instant finished, List<Node> ns) {
        return new Run(id, owner, ownerId, command, argv, runAs, selector, parallel, maxErrors, timeoutMs, batchWaitMs,
                stdin, s, createdAt, finished, ns, copy);
    }

    /** Where a run is. */
    public enum State {
        /** Launching or waiting for tasks. */
        RUNNING,
        /** Every node has an outcome. */
        DONE,
        /** More than maxErrors nodes failed: the rest were skipped. */
        STOPPED,
        /** Cancelled: its unfinished tasks were cancelled, the rest skipped. */
        CANCELLED;

        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        public boolean isFinal() {
            return this != RUNNING;
        }
    }

    /** What became of a node of a run. */
    public enum Outcome {
        PENDING, RUNNING, OK, FAILED, TIMED_OUT, CANCELLED, OFFLINE, SKIPPED;

        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        public boolean isFinal() {
            return this != PENDING && this != RUNNING;
        }

        /** Whether it counts towards maxErrors (offline nodes are reported, not counted). */
        public boolean isError() {
            return this == FAILED || this == TIMED_OUT;
        }
    }

    /** A node of a run. */
    public record Node(int position, String nodeId, String nodeName, String taskId, Outcome outcome,
            Integer exitCode, String error) {
    }
}

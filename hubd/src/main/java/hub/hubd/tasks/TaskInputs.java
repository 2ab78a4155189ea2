package hub.hubd.tasks;

import hub.hubd.core.HubException;
import hub.hubd.registry.NodeRegistry;
import hub.hubd.registry.NodeSession;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The stdin of tasks started with it: a client posts chunks numbered 1, 2, 3…; each goes to the
 * task's node as a {@code TaskInput} and the post answers once the agent acknowledges it (written
 * to the process, or dropped because the process closed its stdin). One chunk per task is in
 * flight, so the hub holds at most one request body per task, and a process that stops reading
 * stops its client (flow control end to end). A chunk already acknowledged is answered at once; a
 * post sent again after a timeout or a reconnect shares the chunk in flight, and the agent never
 * writes a chunk twice.
 *
 * <p>Acknowledgements are taken only from the node the task runs on; others are counted and
 * ignored. What is kept per task (its last acknowledged chunk) goes when the task ends.
 */
public final class TaskInputs {
    /** Largest chunk. */
    public static final int MAX_CHUNK = 1024 * 1024;

    private final NodeRegistry registry;
    private final Map<String, State> tasks = new ConcurrentHashMap<>();
    private final Counter strayAcks;

    /** A task's input: what the agent acknowledged, and the chunk in flight. */
    private static final class State {
        final String nodeId;
        long acked;
        String error;
        long inFlight;
        CompletableFuture<String> done;

        State(String nodeId) {
            this.nodeId = nodeId;
        }
    }

    public TaskInputs(NodeRegistry registry, MeterRegistry metrics) {
        this.registry = registry;
        this.strayAcks = Counter.builder("hub_task_input_stray_acks")
                .description("Stdin acknowledgements from a node for a task not in flight there; ignored")
                .register(metrics);
    }

    /**
     * Sends chunk {@code seq} of task {@code t}'s stdin and waits up to {@code wait} for the agent.
     *
     * @return true once written; false if the wait passed (the client sends it again)
     * @throws HubException CONFLICT when the task has ended or its process's stdin is closed, or
     *         another chunk is in flight; INVALID for a sequence out of order; UNAVAILABLE when its
     *         node is offline
     */
    public boolean send(Task t, long seq, byte[] data, boolean eof, Duration wait) throws InterruptedException {
        if (t.state().isFinal()) {
            throw HubException.conflict("task " + t.id() + " has ended; its stdin is closed");
        }
        State s = tasks.computeIfAbsent(t.id(), k -> new State(t.nodeId()));
        CompletableFuture<String> done;
        synchronized (s) {
            if (seq <= s.acked) {
                return answer(s.error); // sent again: already handled
            }
            if (seq != s.acked + 1) {
                throw HubException.invalid("stdin chunk " + seq + " out of order: the next is " + (s.acked + 1));
            }
            if (s.done != null && s.inFlight != seq) {
                throw HubException.conflict("stdin chunk " + s.inFlight + " of task " + t.id() + " is in flight");
            }
            if (s.done == null) {
                NodeSession session = registry.session(t.nodeId()).orElseThrow(() -> HubException.unavailable(
                        "the task's node is offline; send its stdin again when it is back"));
                s.inFlight = seq;
                s.done = new CompletableFuture<>();
                session.sendInput(t.id(), seq, data, eof);
            }
            done = s.done;
        }
        try {
            return answer(done.get(wait.toMillis(), TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            synchronized (s) {
                if (s.done == done) { // may go again (a reconnect may have lost it): the agent dedupes
                    s.done = null;
                }
            }
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    private static boolean answer(String error) {
        if (error != null) {
            throw HubException.conflict(error);
        }
        return true;
    }

    /** The agent on {@code nodeId} handled the task's stdin up to {@code seq} (error: dropped, why). */
    public void acked(String nodeId, String taskId, long seq, String error) {
        State s = tasks.get(taskId);
        if (s == null || !s.nodeId.equals(nodeId)) {
            strayAcks.increment();
            return;
        }
        CompletableFuture<String> done = null;
        synchronized (s) {
            if (seq > s.acked && seq <= Math.max(s.inFlight, s.acked + 1)) {
                s.acked = seq;
                s.error = error == null || error.isEmpty() ? null : error;
                if (s.done != null && s.inFlight <= seq) {
                    done = s.done;
                    s.done = null;
                }
            } else if (seq > s.acked) {
                strayAcks.increment(); // beyond anything sent
            }
        }
        if (done != null) {
            done.complete(s.error);
        }
    }

    /** The task ended: its input state goes; a post still waiting is told its stdin is closed. */
    public void ended(String taskId) {
        State s = tasks.remove(taskId);
        if (s != null) {
            CompletableFuture<String> done;
            synchronized (s) {
                done = s.done;
                s.done = null;
            }
            if (done != null) {
                done.complete("task " + taskId + " has ended; its stdin is closed");
            }
        }
    }
}

package hub.hubd.tasks;

import hub.hubd.history.AnsiStripper;
import hub.hubd.history.HistoryStore;
import hub.hubd.history.HistoryStore.NewLine;
import hub.hubd.registry.NodeSession;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Task messages from agents, off the gRPC threads: output is deduplicated by (task, sequence),
 * stripped of ANSI once, appended to the history store, and only then acknowledged; starts and
 * results update the task. Each node's messages are handled in order on one of a few lanes (a
 * single thread each, picked by node). A lane's queue is bounded; when it is full the agent's stream
 * is closed, and the agent reconnects and resends what was not acknowledged: nothing is lost.
 */
public final class TaskIngest implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TaskIngest.class);
    static final int LANES = 2;
    static final int LANE_QUEUE = 8192;
    static final int MAX_LINE_BYTES = 64 * 1024;

    private final HistoryStore history;
    private final TaskRepository tasks;
    private final TaskService service;
    private final Clock clock;
    private final ThreadPoolExecutor[] lanes = new ThreadPoolExecutor[LANES];
    private final Map<String, TaskStreams> open = new ConcurrentHashMap<>();
    private final Counter overflows;

    public TaskIngest(HistoryStore history, TaskRepository tasks, TaskService service, Clock clock,
            MeterRegistry metrics) {
        this.history = history;
        this.tasks = tasks;
        this.service = service;
        this.clock = clock;
        for (int i = 0; i < LANES; i++) {
            int lane = i;
            lanes[i] = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(LANE_QUEUE),
                    r -> {
                        Thread t = new Thread(r, "ingest-" + lane);
                        t.setDaemon(true);
                        return t;
                    });
        }
        this.overflows = Counter.builder("hub_ingest_overflows")
                .description("Agent streams closed because their ingest lane was full").register(metrics);
    }

    /** One running task's strippers and last stored sequence (lane thread only). */
    private static final class TaskStreams {
        final List<NewLine> lines = new ArrayList<>();
        final AnsiStripper out;
        final AnsiStripper err;
        long lastSequence;

        TaskStreams(String taskId, HistoryStore.TaskProgress p, Clock clock) {
            this.out = new AnsiStripper(MAX_LINE_BYTES, AnsiStripper.strings(
                    t -> lines.add(new NewLine(taskId, "stdout", t, clock.millis()))));
            this.err = new AnsiStripper(MAX_LINE_BYTES, AnsiStripper.strings(
                    t -> lines.add(new NewLine(taskId, "stderr", t, clock.millis()))));
            if (p.pendingStdout() != null) {
                out.restore(p.pendingStdout());
            }
            if (p.pendingStderr() != null) {
                err.restore(p.pendingStderr());
            }
            this.lastSequence = p.lastSequence();
        }

        String pending(AnsiStripper s) {
            String p = s.pendingLine();
            return p.isEmpty() ? null : p;
        }
    }

    private void submit(String nodeId, NodeSession session, Runnable work) {
        ThreadPoolExecutor lane = lanes[Math.floorMod(nodeId.hashCode(), LANES)];
        try {
            lane.execute(() -> {
                try {
                    work.run();
                } catch (RuntimeException e) {
                    log.error("ingest for node {} failed; closing its stream so the agent resends", nodeId, e);
                    session.close("hub could not store task output; reconnect and resend");
                }
            });
        } catch (RejectedExecutionException e) {
            overflows.increment();
            session.close("hub is behind on task output; reconnect and resend");
        }
    }

    /** The task's process started. */
    public void started(String nodeId, NodeSession session, String taskId, long startedAtMillis) {
        submit(nodeId, session, () -> tasks.update(taskId, TaskState.RUNNING, null, null, startedAtMillis, null));
    }

    /** A chunk of output. */
    public void output(String nodeId, NodeSession session, String taskId, boolean stderr, long sequence,
            byte[] data) {
        submit(nodeId, session, () -> {
            TaskStreams ts = open.computeIfAbsent(taskId,
                    id -> new TaskStreams(id, history.progress(nodeId, id), clock));
            if (sequence <= ts.lastSequence) {
                session.ackOutput(taskId, sequence); // already stored: a resend
                return;
            }
            if (sequence != ts.lastSequence + 1) {
                log.warn("task {} output {} arrived after {}; waiting for the resend", taskId, sequence,
                        ts.lastSequence);
                return;
            }
            ts.lines.clear();
            (stderr ? ts.err : ts.out).feed(data);
            HistoryStore.Outcome r;
            try {
                r = history.append(nodeId, taskId, sequence, ts.lines, ts.pending(ts.out), ts.pending(ts.err));
            } catch (RuntimeException e) {
                open.remove(taskId); // the strippers saw bytes that were not stored: reload from the store
                throw e;
            }
            if (r == HistoryStore.Outcome.OUT_OF_ORDER) {
                open.remove(taskId);
                return;
            }
            ts.lastSequence = sequence;
            session.ackOutput(taskId, sequence);
        });
    }

    /** The task ended; {@code lastSequence} is its last output chunk. */
    public void result(String nodeId, NodeSession session, String taskId, TaskState state, int exitCode, String error,
            long lastSequence, long startedAtMillis, long finishedAtMillis) {
        submit(nodeId, session, () -> {
            if (tasks.find(taskId).map(t -> t.state().isFinal()).orElse(true)) {
                session.ackResult(taskId); // stored before (a resend), or a task this hub never made
                return;
            }
            TaskStreams ts = open.computeIfAbsent(taskId,
                    id -> new TaskStreams(id, history.progress(nodeId, id), clock));
            if (ts.lastSequence < lastSequence) {
                log.warn("task {} result before its output {}; waiting for the resend", taskId, lastSequence);
                return;
            }
            ts.lines.clear();
            ts.out.finish();
            ts.err.finish();
            // The unfinished last lines, stored under the sequence after the last chunk.
            history.append(nodeId, taskId, lastSequence + 1, ts.lines, null, null);
            tasks.update(taskId, state, exitCode, error == null || error.isEmpty() ? null : error,
                    startedAtMillis > 0 ? startedAtMillis : null, finishedAtMillis);
            open.remove(taskId);
            service.finished(nodeId);
            session.ackResult(taskId);
        });
    }

    @Override
    public void close() {
        for (ThreadPoolExecutor lane : lanes) {
            lane.shutdown();
        }
        for (ThreadPoolExecutor lane : lanes) {
            try {
                if (!lane.awaitTermination(5, TimeUnit.SECONDS)) {
                    lane.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                lane.shutdownNow();
            }
        }
    }
}

package hub.agent;

import com.google.protobuf.ByteString;
import hub.proto.agent.v1.AgentMessage;
import hub.proto.agent.v1.InputAck;
import hub.proto.agent.v1.TaskInput;
import hub.proto.agent.v1.OutputStream;
import hub.proto.agent.v1.RunCommand;
import hub.proto.agent.v1.TaskOutcome;
import hub.proto.agent.v1.TaskOutput;
import hub.proto.agent.v1.TaskResult;
import hub.proto.agent.v1.TaskStarted;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the hub's commands on this node. Each task's stdout and stderr are read in chunks numbered
 * 1, 2, 3… across both streams and sent through the {@link Outbox}; every chunk is kept until the hub
 * acknowledges it and resent after a reconnect ({@link #resendAll}). The unacknowledged bytes of all
 * tasks share one budget: when it is spent, the readers stop reading, so the process blocks on its
 * full pipe and nothing is dropped. Timeouts and cancels kill the whole process tree. The result is
 * sent after all output and kept until the hub acknowledges it.
 *
 * <p>Threads: two reader threads per task (they block on the pipe and on the budget), gRPC callbacks
 * calling {@link #ack}/{@link #cancel}, and the shared timer for timeouts. A task's state is guarded
 * by its own monitor.
 */
public final class TaskRunner implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TaskRunner.class);
    static final int CHUNK = 64 * 1024;
    /** How long a hung-up terminal's processes have to end before they are killed. */
    static final long HANGUP_GRACE_MS = 2000;

    /** Where messages for the hub go. Sends while disconnected may be dropped: they are resent. */
    @FunctionalInterface
    public interface Outbox {
        void send(AgentMessage message);
    }

    private final Outbox outbox;
    private final ScheduledExecutorService timers;
    private final Semaphore budget;
    private final Map<String, Task> tasks = new ConcurrentHashMap<>();
    private volatile RunAs runAs = RunAs.ownUser();
    private volatile boolean hollow;

    /**
     * @param maxUnackedBytes output kept for resending, over all tasks; at least 2 chunks (128 KiB)
     */
    public TaskRunner(Outbox outbox, ScheduledExecutorService timers, int maxUnackedBytes) {
        if (maxUnackedBytes < 2 * CHUNK) {
            throw new IllegalArgumentException("maxUnackedBytes must be at least " + 2 * CHUNK);
        }
        this.outbox = outbox;
        this.timers = timers;
        this.budget = new Semaphore(maxUnackedBytes);
    }

    /** Which users tasks run as, and which this node allows (default: the agent's own user only). */
    public void runAs(RunAs policy) {
        this.runAs = policy;
    }

    /**
     * Load drivers only ({@code hub-agent simulate --hollow-tasks}): every task is answered at once,
     * started and exited 0, and nothing runs, so a driver measures the hub rather than how fast the
     * simulating machine forks (as kubemark's hollow nodes run no containers).
     */
    void hollow() {
        this.hollow = true;
    }

    /** Ids of tasks still running or holding unacknowledged output or results (for Hello). */
    public Set<String> pendingTaskIds() {
        return Set.copyOf(tasks.keySet());
    }

    /** Starts a task; a task id already known is ignored (the hub resent RunCommand). */
    public void start(RunCommand cmd) {
        Task t = new Task(cmd);
        if (tasks.putIfAbsent(cmd.getTaskId(), t) != null) {
            return;
        }
        t.launch();
    }

    /** The hub stored every chunk of the task up to {@code sequence}. */
    public void ack(String taskId, long sequence) {
        Task t = tasks.get(taskId);
        if (t != null) {
            t.ack(sequence);
        }
    }

    /** The hub stored the task's result: forget the task. */
    public void ackResult(String taskId) {
        Task t = tasks.get(taskId);
        if (t != null && t.resultSent()) {
            tasks.remove(taskId, t);
        }
    }

    /**
     * Bytes for a task's stdin: written in order by the task's stdin thread, acknowledged once
     * written (so the hub sends the next: flow control), or with an error when the task has no open
     * stdin. A sequence already taken is acknowledged again, not written twice.
     */
    public void input(TaskInput in) {
        Task t = tasks.get(in.getTaskId());
        if (t == null) {
            inputAck(in.getTaskId(), in.getSequence(), "the task is not running on this node");
            return;
        }
        t.input(in);
    }

    private void inputAck(String taskId, long sequence, String error) {
        outbox.send(AgentMessage.newBuilder().setInputAck(InputAck.newBuilder().setTaskId(taskId)
                .setSequence(sequence).setError(error == null ? "" : error)).build());
    }

    /** A terminal task's window changed size. */
    public void resize(String taskId, int columns, int rows) {
        Task t = tasks.get(taskId);
        if (t != null) {
            t.resize(columns, rows);
        }
    }

    /** Kills the task's process tree; it ends as CANCELLED. */
    public void cancel(String taskId, String reason) {
        Task t = tasks.get(taskId);
        if (t != null) {
            t.kill(TaskOutcome.TASK_OUTCOME_CANCELLED, reason);
        }
    }

    /** After a reconnect: every unacknowledged chunk and result again, in order. */
    public void resendAll() {
        for (Task t : tasks.values()) {
            t.resend();
        }
    }

    /** Kills every running task (agent stopping). */
    @Override
    public void close() {
        for (Task t : tasks.values()) {
            t.kill(TaskOutcome.TASK_OUTCOME_CANCELLED, "agent stopping");
        }
    }

    private final class Task {
        private final RunCommand cmd;
        private final String id;
        // guarded by this
        private final TreeMap<Long, TaskOutput> unacked = new TreeMap<>();
        private long nextSequence = 1;
        private long ackedSequence;
        private TaskResult result;
        private TaskOutcome killedAs;
        private String killReason;
        private Process process;
        private ScheduledFuture<?> timeout;
        private long startedAt;
        /** The process's stdin, with RunCommand.stdin; null once closed or without. */
        private java.io.OutputStream stdin;
        /** Highest input sequence taken (queued), and handled (written or dropped). */
        private long inputTaken;
        private long inputHandled;
        private String inputError;
        /** Writes input in order, off the gRPC thread (a write blocks while the process does not read). */
        private java.util.concurrent.ExecutorService stdinWriter;

        Task(RunCommand cmd) {
            this.cmd = cmd;
            this.id = cmd.getTaskId();
        }

        void launch() {
            if (hollow) {
                synchronized (this) {
                    startedAt = System.currentTimeMillis();
                }
                outbox.send(AgentMessage.newBuilder().setTaskStarted(TaskStarted.newBuilder().setTaskId(id)
                        .setStartedAtUnixMillis(startedAt)).build());
                finish(TaskOutcome.TASK_OUTCOME_EXITED, 0, "");
                return;
            }
            boolean terminal = cmd.hasTerminal();
            List<String> argv = cmd.getArgvCount() > 0 ? cmd.getArgvList()
                    : List.of("/bin/sh", "-c", cmd.getShellCommand());
            Terminals.Launch onTerminal = null;
            try {
                if (terminal) {
                    RunAs.Target who = runAs.target(cmd.getRunAs());
                    onTerminal = Terminals.launch(cmd, Terminals.account(who.user()), who.agentUser(), who.runuser(),
                            Terminals.side(cmd.getTerminal().getColumns(), 80),
                            Terminals.side(cmd.getTerminal().getRows(), 24));
                } else {
                    argv = runAs.command(cmd.getRunAs(), argv);
                }
            } catch (RunAs.Refused e) {
                log.info("task {} refused: {}", id, e.getMessage());
                finish(TaskOutcome.TASK_OUTCOME_FAILED, -1, "refused: " + e.getMessage());
                return;
            }
            ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(argv));
            pb.environment().putAll(cmd.getEnvMap());
            if (!cmd.getWorkingDir().isEmpty()) {
                pb.directory(Path.of(cmd.getWorkingDir()).toFile());
            }
            if (!cmd.getStdin()) {
                pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            }
            Process p;
            try {
                synchronized (this) {
                    if (onTerminal != null) {
                        p = Terminals.start(onTerminal, Terminals.side(cmd.getTerminal().getColumns(), 80),
                                Terminals.side(cmd.getTerminal().getRows(), 24));
                    } else {
                        p = pb.start();
                    }
                    process = p;
                    if (cmd.getStdin() || terminal) {
                        stdin = p.getOutputStream();
                        stdinWriter = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                            Thread th = new Thread(r, "task-" + id + "-in");
                            th.setDaemon(true);
                            return th;
                        });
                    }
                    startedAt = System.currentTimeMillis();
                }
            } catch (IOException | RuntimeException e) {
                log.info("task {} could not start: {}", id, e.getMessage());
                finish(TaskOutcome.TASK_OUTCOME_FAILED, -1, "could not start: " + e.getMessage());
                return;
            }
            outbox.send(AgentMessage.newBuilder().setTaskStarted(TaskStarted.newBuilder().setTaskId(id)
                    .setStartedAtUnixMillis(startedAt).setPid(p.pid())).build());
            boolean cancelledBeforeStart;
            synchronized (this) {
                cancelledBeforeStart = killedAs != null; // a Cancel that came while it was being set up
            }
            if (cancelledBeforeStart) {
                killTree(p);
            }
            if (cmd.getTimeoutMillis() > 0) {
                synchronized (this) {
                    timeout = timers.schedule(() -> kill(TaskOutcome.TASK_OUTCOME_TIMED_OUT,
                            "timed out after " + cmd.getTimeoutMillis() + "ms"), cmd.getTimeoutMillis(),
                            TimeUnit.MILLISECONDS);
                }
            }
            CompletableFuture<Void> out = read(p.getInputStream(), OutputStream.OUTPUT_STREAM_STDOUT);
            // A terminal's stderr is the terminal: everything comes on its one output.
            CompletableFuture<Void> err = terminal ? CompletableFuture.completedFuture(null)
                    : read(p.getErrorStream(), OutputStream.OUTPUT_STREAM_STDERR);
            CompletableFuture.allOf(out, err, p.onExit()).whenComplete((v, e) -> {
                TaskOutcome killed;
                String reason;
                synchronized (this) {
                    killed = killedAs;
                    reason = killReason;
                    if (timeout != null) {
                        timeout.cancel(false);
                    }
                }
                int code = p.exitValue();
                if (killed != null) {
                    finish(killed, code, reason);
                } else {
                    finish(TaskOutcome.TASK_OUTCOME_EXITED, code, "");
                }
            });
        }

        private CompletableFuture<Void> read(InputStream in, OutputStream stream) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                byte[] buf = new byte[CHUNK];
                try (in) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        budget.acquire(n); // backpressure: stop reading while the hub is behind
                        chunk(stream, ByteString.copyFrom(buf, 0, n));
                    }
                } catch (IOException e) {
                    log.debug("task {} {} closed: {}", id, stream, e.getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.complete(null);
                }
            }, "task-" + id + "-" + (stream == OutputStream.OUTPUT_STREAM_STDOUT ? "out" : "err"));
            t.setDaemon(true);
            t.start();
            return done;
        }

        private void chunk(OutputStream stream, ByteString data) {
            TaskOutput o;
            synchronized (this) {
                o = TaskOutput.newBuilder().setTaskId(id).setStream(stream).setSequence(nextSequence++)
                        .setData(data).setReadAtUnixMillis(System.currentTimeMillis()).build();
                unacked.put(o.getSequence(), o);
                // Sent under the lock so chunks leave in sequence order.
                outbox.send(AgentMessage.newBuilder().setTaskOutput(o).build());
            }
        }

        synchronized void ack(long sequence) {
            if (sequence <= ackedSequence) {
                return;
            }
            ackedSequence = sequence;
            var done = unacked.headMap(sequence, true);
            int bytes = 0;
            for (TaskOutput o : done.values()) {
                bytes += o.getData().size();
            }
            done.clear();
            budget.release(bytes);
        }

        void kill(TaskOutcome as, String reason) {
            Process p;
            synchronized (this) {
                if (result != null || killedAs != null) {
                    return;
                }
                killedAs = as;
                killReason = reason;
                p = process;
            }
            if (p instanceof com.pty4j.unix.UnixPtyProcess pty) {
                // A terminal is hung up first, as sshd does when its connection goes: shells save their
                // history and scripts run their exit traps (a lock file left behind blocks the next
                // login); what is still there after the grace period is killed.
                hangUp(pty);
                timers.schedule(() -> killTree(p), HANGUP_GRACE_MS, TimeUnit.MILLISECONDS);
            } else if (p != null) {
                killTree(p);
            }
        }

        /** SIGHUP to the terminal's whole process group (the shell is its leader), as a closed terminal does. */
        private void hangUp(com.pty4j.unix.UnixPtyProcess pty) {
            try {
                Process k = new ProcessBuilder("kill", "-HUP", "--", "-" + pty.pid()).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (k.waitFor(2, TimeUnit.SECONDS) && k.exitValue() == 0) {
                    return;
                }
            } catch (IOException e) {
                log.debug("task {}: kill -HUP failed: {}", id, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            pty.hangup(); // the shell alone, then
        }

        private void killTree(Process p) {
            // pty4j's processes have a pid but no handle: go through the pid for the tree.
            ProcessHandle.of(p.pid()).ifPresent(h -> h.descendants().forEach(ProcessHandle::destroyForcibly));
            p.destroyForcibly();
        }

        /** A terminal task's window size changed; ignored for any other task. */
        void resize(int columns, int rows) {
            Process p;
            synchronized (this) {
                p = process;
            }
            if (p instanceof com.pty4j.PtyProcess pty && p.isAlive()) {
                try {
                    pty.setWinSize(new com.pty4j.WinSize(Terminals.side(columns, 80), Terminals.side(rows, 24)));
                } catch (RuntimeException e) {
                    log.debug("task {}: resize failed: {}", id, e.toString());
                }
            }
        }

        private void finish(TaskOutcome outcome, int exitCode, String error) {
            TaskResult r;
            synchronized (this) {
                r = TaskResult.newBuilder().setTaskId(id).setOutcome(outcome).setExitCode(exitCode)
                        .setError(error == null ? "" : error).setLastSequence(nextSequence - 1)
                        .setStartedAtUnixMillis(startedAt).setFinishedAtUnixMillis(System.currentTimeMillis())
                        .build();
                result = r;
            }
            synchronized (this) {
                if (stdinWriter != null) {
                    stdinWriter.shutdown(); // queued input is still handled (dropped: the process is gone)
                }
            }
            log.info("task {} {} (exit {})", id, outcome, exitCode);
            outbox.send(AgentMessage.newBuilder().setTaskResult(r).build());
        }

        void input(TaskInput in) {
            long seq = in.getSequence();
            synchronized (this) {
                if (seq <= inputTaken) { // sent again after a reconnect
                    if (seq <= inputHandled) {
                        inputAck(id, inputHandled, inputError);
                    }
                    return;
                }
                if (seq != inputTaken + 1) {
                    log.debug("task {} input {} after {}: ignored, the hub sends in order", id, seq, inputTaken);
                    return;
                }
                inputTaken = seq;
                if (stdinWriter == null) {
                    inputHandled = seq;
                    inputError = process == null ? "the task did not start" : "the task was not started with stdin";
                    inputAck(id, seq, inputError);
                    return;
                }
                try {
                    stdinWriter.execute(() -> write(in));
                } catch (java.util.concurrent.RejectedExecutionException e) { // the task has ended
                    inputHandled = seq;
                    inputError = "the process has ended";
                    inputAck(id, seq, inputError);
                }
            }
        }

        /** Stdin thread: writes one chunk (closing stdin after it if asked), then acknowledges it. */
        private void write(TaskInput in) {
            java.io.OutputStream os;
            synchronized (this) {
                os = stdin;
            }
            String error = null;
            if (os == null) {
                error = "the process's stdin is closed";
            } else {
                try {
                    if (!in.getData().isEmpty()) {
                        in.getData().writeTo(os);
                        os.flush();
                    }
                    if (in.getEof()) {
                        os.close();
                        synchronized (this) {
                            stdin = null;
                        }
                    }
                } catch (IOException e) {
                    error = "the process closed its stdin";
                    synchronized (this) {
                        stdin = null;
                    }
                    try {
                        os.close();
                    } catch (IOException ignored) {
                        // closed already
                    }
                }
            }
            synchronized (this) {
                inputHandled = in.getSequence();
                inputError = error;
            }
            inputAck(id, in.getSequence(), error);
        }

        synchronized boolean resultSent() {
            return result != null;
        }

        synchronized void resend() {
            for (TaskOutput o : unacked.values()) {
                outbox.send(AgentMessage.newBuilder().setTaskOutput(o).build());
            }
            if (result != null) {
                outbox.send(AgentMessage.newBuilder().setTaskResult(result).build());
            }
        }
    }
}

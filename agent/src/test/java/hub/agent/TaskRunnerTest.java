package hub.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.proto.agent.v1.AgentMessage;
import hub.proto.agent.v1.OutputStream;
import hub.proto.agent.v1.RunCommand;
import hub.proto.agent.v1.TaskOutcome;
import hub.proto.agent.v1.TaskOutput;
import hub.proto.agent.v1.TaskResult;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Real processes through the task runner, with the hub played by a recording outbox. */
class TaskRunnerTest {
    final List<AgentMessage> sent = new CopyOnWriteArrayList<>();
    final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    TaskRunner runner;

    @AfterEach
    void stop() {
        if (runner != null) {
            runner.close();
        }
        timers.shutdownNow();
    }

    private TaskRunner runner(int budget, boolean autoAck) {
        runner = new TaskRunner(m -> {
            sent.add(m);
            if (autoAck && m.hasTaskOutput()) {
                runner.ack(m.getTaskOutput().getTaskId(), m.getTaskOutput().getSequence());
            }
        }, timers, budget);
        return runner;
    }

    private static RunCommand shell(String id, String command, long timeoutMs) {
        return RunCommand.newBuilder().setTaskId(id).setShellCommand(command).setTimeoutMillis(timeoutMs).build();
    }

    private TaskResult awaitResult(String id) {
        await().atMost(Duration.ofSeconds(20)).until(() -> result(id) != null);
        return result(id);
    }

    private TaskResult result(String id) {
        return sent.stream().filter(AgentMessage::hasTaskResult).map(AgentMessage::getTaskResult)
                .filter(r -> r.getTaskId().equals(id)).findFirst().orElse(null);
    }

    private List<TaskOutput> outputs(String id) {
        return sent.stream().filter(AgentMessage::hasTaskOutput).map(AgentMessage::getTaskOutput)
                .filter(o -> o.getTaskId().equals(id)).toList();
    }

    private String text(String id, OutputStream stream) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        outputs(id).stream().filter(o -> o.getStream() == stream).forEach(o -> b.writeBytes(o.getData().toByteArray()));
        return b.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void runsAShellCommandAndReportsOutputInSequenceThenTheExitCode() {
        runner(1 << 20, true).start(shell("t1", "for i in $(seq 1 2000); do echo line $i; done; echo oops >&2; exit 3",
                0));
        TaskResult r = awaitResult("t1");
        assertThat(r.getOutcome()).isEqualTo(TaskOutcome.TASK_OUTCOME_EXITED);
        assertThat(r.getExitCode()).isEqualTo(3);
        List<TaskOutput> outs = outputs("t1");
        for (int i = 0; i < outs.size(); i++) {
            assertThat(outs.get(i).getSequence()).isEqualTo(i + 1);
        }
        assertThat(r.getLastSequence()).isEqualTo(outs.size());
        StringBuilder expected = new StringBuilder();
        for (int i = 1; i <= 2000; i++) {
            expected.append("line ").append(i).append('\n');
        }
        assertThat(text("t1", OutputStream.OUTPUT_STREAM_STDOUT)).isEqualTo(expected.toString());
        assertThat(text("t1", OutputStream.OUTPUT_STREAM_STDERR)).isEqualTo("oops\n");
        assertThat(sent.get(0).hasTaskStarted()).isTrue();
        int resultIndex = sent.indexOf(AgentMessage.newBuilder().setTaskResult(r).build());
        assertThat(resultIndex).as("result after all output").isEqualTo(sent.size() - 1);
    }

    private List<hub.proto.agent.v1.InputAck> inputAcks(String id) {
        return sent.stream().filter(AgentMessage::hasInputAck).map(AgentMessage::getInputAck)
                .filter(a -> a.getTaskId().equals(id)).toList();
    }

    private static hub.proto.agent.v1.TaskInput input(String id, long seq, String data, boolean eof) {
        return hub.proto.agent.v1.TaskInput.newBuilder().setTaskId(id).setSequence(seq)
                .setData(com.google.protobuf.ByteString.copyFromUtf8(data)).setEof(eof).build();
    }

    @Test
    void stdinIsWrittenInOrderOnceEachAndInputAfterTheEndIsAcknowledgedWithAnError() {
        TaskRunner r = runner(1 << 20, true);
        r.start(RunCommand.newBuilder().setTaskId("in1").setShellCommand("cat").setStdin(true).build());
        r.input(input("in1", 1, "one\n", false));
        r.input(input("in1", 1, "one\n", false)); // a resend: acknowledged, not written twice
        r.input(input("in1", 3, "gap\n", false)); // out of order: ignored
        r.input(input("in1", 2, "two\n", true));
        assertThat(awaitResult("in1").getExitCode()).isZero();
        assertThat(text("in1", OutputStream.OUTPUT_STREAM_STDOUT)).isEqualTo("one\ntwo\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> inputAcks("in1").stream()
                .anyMatch(a -> a.getSequence() == 2 && a.getError().isEmpty()));
        // the process is gone: more input is answered at once, with why, and the runner goes on
        r.input(input("in1", 3, "late\n", false));
        await().atMost(Duration.ofSeconds(5)).until(() -> inputAcks("in1").stream()
                .anyMatch(a -> a.getSequence() == 3 && !a.getError().isEmpty()));
        r.input(input("nosuch", 1, "x", false));
        assertThat(inputAcks("nosuch")).singleElement().satisfies(a -> assertThat(a.getError()).contains("not running"));
        // without RunCommand.stdin the process reads /dev/null and input is refused
        r.start(shell("in2", "wc -c", 0));
        assertThat(awaitResult("in2").getExitCode()).isZero();
        assertThat(text("in2", OutputStream.OUTPUT_STREAM_STDOUT).strip()).isEqualTo("0");
    }

    @Test
    void aHollowRunnerAnswersAtOnceWithExitZeroAndRunsNothing(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        TaskRunner r = runner(1 << 20, true);
        r.hollow(); // hub-agent simulate --hollow-tasks
        java.nio.file.Path marker = dir.resolve("ran");
        r.start(shell("h1", "touch " + marker + "; exit 7", 0));
        TaskResult res = awaitResult("h1");
        assertThat(res.getOutcome()).isEqualTo(TaskOutcome.TASK_OUTCOME_EXITED);
        assertThat(res.getExitCode()).isZero();
        assertThat(res.getLastSequence()).isZero();
        assertThat(sent.get(0).hasTaskStarted()).isTrue();
        assertThat(outputs("h1")).isEmpty();
        assertThat(marker).doesNotExist();
    }

    @Test
    void argvRunsWithoutAShell() {
        runner(1 << 20, true).start(RunCommand.newBuilder().setTaskId("t2").addArgv("echo").addArgv("$HOME; *")
                .build());
        assertThat(awaitResult("t2").getExitCode()).isZero();
        assertThat(text("t2", OutputStream.OUTPUT_STREAM_STDOUT)).isEqualTo("$HOME; *\n");
    }

    @Test
    void aFullBufferStopsReadingInsteadOfDropping() {
        int budget = 2 * TaskRunner.CHUNK;
        runner(budget, false).start(shell("t3", "head -c 1000000 /dev/zero", 0));
        // Without acks the runner sends at most the budget, then stops reading; the process waits.
        await().atMost(Duration.ofSeconds(10)).until(() -> outputs("t3").stream()
                .mapToInt(o -> o.getData().size()).sum() >= budget - TaskRunner.CHUNK);
        await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> true);
        int sentBytes = outputs("t3").stream().mapToInt(o -> o.getData().size()).sum();
        assertThat(sentBytes).isLessThanOrEqualTo(budget);
        assertThat(result("t3")).as("still blocked on its pipe").isNull();

        // Acknowledge as the hub would, until the end: every byte arrives exactly once.
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            List<TaskOutput> outs = outputs("t3");
            if (!outs.isEmpty()) {
                runner.ack("t3", outs.get(outs.size() - 1).getSequence());
            }
            return result("t3") != null;
        });
        assertThat(outputs("t3").stream().mapToLong(o -> o.getData().size()).sum()).isEqualTo(1_000_000);
        assertThat(result("t3").getExitCode()).isZero();
    }

    @Test
    void timeoutKillsTheWholeProcessTree() throws Exception {
        runner(1 << 20, true).start(shell("t4", "sleep 60 & echo $!; wait", 300));
        TaskResult r = awaitResult("t4");
        assertThat(r.getOutcome()).isEqualTo(TaskOutcome.TASK_OUTCOME_TIMED_OUT);
        long child = Long.parseLong(text("t4", OutputStream.OUTPUT_STREAM_STDOUT).strip());
        await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(child).map(h -> !h.isAlive()).orElse(true));
    }

    @Test
    void cancelKillsAndReportsCancelled() {
        runner(1 << 20, true).start(shell("t5", "echo started; sleep 60", 0));
        await().atMost(Duration.ofSeconds(10)).until(() -> text("t5", OutputStream.OUTPUT_STREAM_STDOUT)
                .equals("started\n"));
        runner.cancel("t5", "user pressed Ctrl-C");
        TaskResult r = awaitResult("t5");
        assertThat(r.getOutcome()).isEqualTo(TaskOutcome.TASK_OUTCOME_CANCELLED);
        assertThat(r.getError()).isEqualTo("user pressed Ctrl-C");
        assertThat(r.getExitCode()).isEqualTo(137);
    }

    @Test
    void aProgramThatCannotStartFails() {
        runner(1 << 20, true).start(RunCommand.newBuilder().setTaskId("t6").addArgv("/nonexistent/program").build());
        TaskResult r = awaitResult("t6");
        assertThat(r.getOutcome()).isEqualTo(TaskOutcome.TASK_OUTCOME_FAILED);
        assertThat(r.getError()).contains("could not start");
    }

    @Test
    void unacknowledgedOutputAndResultAreResentInOrderUntilAcknowledged() {
        runner(1 << 20, false).start(shell("t7", "echo a; echo b >&2; echo c", 0));
        TaskResult r = awaitResult("t7");
        List<Long> first = outputs("t7").stream().map(TaskOutput::getSequence).toList();
        runner.ack("t7", 1);
        sent.clear();
        runner.resendAll();
        assertThat(outputs("t7").stream().map(TaskOutput::getSequence).toList()).isEqualTo(first.subList(1, first.size()));
        assertThat(result("t7")).isEqualTo(r);
        assertThat(runner.pendingTaskIds()).contains("t7");
        runner.ack("t7", r.getLastSequence());
        runner.ackResult("t7");
        assertThat(runner.pendingTaskIds()).doesNotContain("t7");
    }

    private static RunCommand as(String id, String user, String command) {
        return RunCommand.newBuilder().setTaskId(id).setShellCommand(command).setRunAs(user).build();
    }

    @Test
    void tasksRunAsTheUserAskedForWithinTheNodesPolicy(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path conf = dir.resolve("agent.conf");
        String me = System.getProperty("user.name");
        TaskRunner r = runner(1 << 20, true);
        r.runAs(new RunAs(null, conf, me));

        // no policy file: the agent's own user by default
        r.start(shell("own", "id -un", 0));
        assertThat(awaitResult("own").getExitCode()).isZero();
        assertThat(text("own", OutputStream.OUTPUT_STREAM_STDOUT)).isEqualTo(me + "\n");

        java.nio.file.Files.writeString(conf, "# this node's cap\nallow-users=nobody, " + me + "\n");
        r.start(as("other", "daemon", "id -un"));
        TaskResult refused = awaitResult("other");
        assertThat(refused.getOutcome()).isEqualTo(TaskOutcome.TASK_OUTCOME_FAILED);
        assertThat(refused.getError()).contains("does not allow tasks as daemon").contains("allow-users");
        assertThat(sent).noneMatch(m -> m.hasTaskStarted() && m.getTaskStarted().getTaskId().equals("other"));

        r.start(as("nobody", "nobody", "id -un; echo $HOME $USER"));
        TaskResult asNobody = awaitResult("nobody");
        if (me.equals("root")) {
            assertThat(asNobody.getExitCode()).as(asNobody.getError()).isZero();
            assertThat(text("nobody", OutputStream.OUTPUT_STREAM_STDOUT)).startsWith("nobody\n").contains(" nobody");
        } else {
            assertThat(asNobody.getError()).contains("the agent runs as " + me + " and cannot run tasks as nobody");
        }

        java.nio.file.Files.writeString(conf, "deny-root=true\n");
        r.runAs(new RunAs("root", conf, me));
        r.start(shell("root", "true", 0));
        assertThat(awaitResult("root").getError()).contains("does not allow tasks as root");

        java.nio.file.Files.writeString(conf, "allow_users=" + me + "\n"); // a misspelt cap
        r.runAs(new RunAs(null, conf, me));
        r.start(shell("typo", "true", 0));
        assertThat(awaitResult("typo").getError()).contains("unknown key 'allow_users'").contains("no task runs");
    }
}

package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import hub.agent.AgentConnection;
import hub.agent.CredentialStore;
import hub.agent.IdentityStore;
import hub.hubd.config.HubConfig;
import hub.proto.agent.v1.AgentMessage;
import hub.proto.agent.v1.HubMessage;
import hub.proto.agent.v1.TaskOutcome;
import hub.proto.agent.v1.TaskResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tasks end to end: API → hub → real agent → process → output stripped into history → result. */
class TaskExecTest {
    // Package-private and non-final so that RedisTaskExecTest can run the same cases.
    @TempDir
    Path dir;
    static final Duration WAIT = Duration.ofSeconds(10);
    TestHub hub;
    AgentConnection agent;

    /** The hub's configuration; subclasses run the same tests on another history store. */
    protected HubConfig config(Path data) {
        return HubConfig.defaults(data);
    }

    @BeforeEach
    void start() {
        hub = new TestHub(config(dir.resolve("data")));
        agent = hub.agent("runner-1", hub.joinToken(1, "15m", Map.of()));
        await().atMost(Duration.ofSeconds(10)).until(agent::connected);
    }

    @AfterEach
    void stop() throws Exception {
        try {
            // Removing the node deletes its history (and leaves no keys behind in a shared Redis).
            assertThat(hub.call("DELETE", "/api/v1/nodes/runner-1", null, hub.adminToken()).status()).isEqualTo(204);
            assertThat(hub.get("/api/v1/nodes").get("items")).isEmpty();
        } finally {
            hub.close();
        }
    }

    private JsonNode create(String body) {
        TestHub.Answer a = hub.call("POST", "/api/v1/nodes/runner-1/tasks", body, hub.adminToken());
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        return a.json();
    }

    private JsonNode awaitFinal(String id) {
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            String s = hub.get("/api/v1/tasks/" + id).get("state").asText();
            return List.of("exited", "failed", "timed_out", "cancelled").contains(s);
        });
        return hub.get("/api/v1/tasks/" + id);
    }

    private List<String> historyOf(String taskId) {
        List<String> out = new ArrayList<>();
        for (JsonNode l : hub.get("/api/v1/nodes/runner-1/history?tail=1000").get("lines")) {
            if (taskId.equals(l.path("taskId").asText())) {
                out.add(l.get("stream").asText() + ":" + l.get("text").asText());
            }
        }
        return out;
    }

    @Test
    void commandRunsItsOutputIsStrippedIntoHistoryAndItsExitCodeIsKept() {
        JsonNode t = create("{\"command\": \"echo hello; printf '\\\\033[31mred\\\\033[0m\\\\n'; "
                + "printf '10%%\\\\r100%%\\\\n'; echo warn >&2; printf 'no newline'; exit 3\"}");
        assertThat(t.get("state").asText()).isEqualTo("sent");
        assertThat(t.get("node").asText()).isEqualTo(agent.nodeId());
        JsonNode done = awaitFinal(t.get("id").asText());
        assertThat(done.get("state").asText()).isEqualTo("exited");
        assertThat(done.get("exitCode").asInt()).isEqualTo(3);
        assertThat(done.get("startedAt").asText()).isNotEmpty();
        assertThat(done.get("finishedAt").asText()).isNotEmpty();
        assertThat(historyOf(t.get("id").asText())).contains("stdout:hello", "stdout:red", "stdout:100%",
                "stderr:warn", "stdout:no newline");
    }

    @Test
    void argvAndTimeout() {
        JsonNode t = create("{\"argv\": [\"sleep\", \"30\"], \"timeout\": \"300ms\"}");
        JsonNode done = awaitFinal(t.get("id").asText());
        assertThat(done.get("state").asText()).isEqualTo("timed_out");
        assertThat(done.get("error").asText()).contains("timed out");
    }

    @Test
    void cancelKillsTheRemoteProcess() {
        JsonNode t = create("{\"command\": \"echo begun; sleep 30\"}");
        String id = t.get("id").asText();
        await().atMost(Duration.ofSeconds(10)).until(() -> historyOf(id).contains("stdout:begun"));
        TestHub.Answer a = hub.call("POST", "/api/v1/tasks/" + id + "/cancel", null, hub.adminToken());
        assertThat(a.status()).isEqualTo(202);
        assertThat(awaitFinal(id).get("state").asText()).isEqualTo("cancelled");
    }

    @Test
    void aTaskTheAgentLostFailsWhenTheAgentComesBackWithoutIt() {
        IdentityStore creds = IdentityStore.memory();
        AgentConnection first = hub.agent("lost-1", creds, hub.joinToken(1, "15m", Map.of()));
        await().atMost(Duration.ofSeconds(10)).until(first::connected);
        TestHub.Answer a = hub.call("POST", "/api/v1/nodes/lost-1/tasks", "{\"command\": \"sleep 3\"}",
                hub.adminToken());
        assertThat(a.status()).isEqualTo(201);
        String id = a.json().get("id").asText();
        await().atMost(Duration.ofSeconds(10)).until(() -> hub.get("/api/v1/tasks/" + id).get("state").asText()
                .equals("running"));

        first.close(); // the agent process is gone; a new one starts with the same credential
        AgentConnection second = hub.agent("lost-1", creds, null);
        await().atMost(Duration.ofSeconds(10)).until(second::connected);

        JsonNode done = awaitFinal(id);
        assertThat(done.get("state").asText()).isEqualTo("failed");
        assertThat(done.get("error").asText()).contains("no longer has this task");
        assertThat(hub.call("DELETE", "/api/v1/nodes/lost-1", null, hub.adminToken()).status()).isEqualTo(204);
    }

    @Test
    void aCancelAskedForWhileTheNodeIsOfflineIsSentWhenItReconnectsWithTheTask() throws Exception {
        RawAgent first = new RawAgent(hub.channel())
                .send(RawAgent.hello("partitioned-1").setJoinToken(hub.joinToken(1, "15m", Map.of())));
        hub.proto.agent.v1.Welcome welcome = first.next(WAIT).getWelcome();
        TestHub.Answer a = hub.call("POST", "/api/v1/nodes/partitioned-1/tasks", "{\"command\": \"sleep 600\"}",
                hub.adminToken());
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        String id = a.json().get("id").asText();
        assertThat(first.next(WAIT).getRunCommand().getTaskId()).isEqualTo(id);

        first.close(); // the link drops; the agent still runs the task
        await().atMost(WAIT).until(() -> hub.node("partitioned-1").get("status").asText().equals("offline"));
        TestHub.Answer cancel = hub.call("POST", "/api/v1/tasks/" + id + "/cancel", null, hub.adminToken());
        assertThat(cancel.status()).isEqualTo(202);
        assertThat(cancel.json().get("state").asText()).isEqualTo("sent");
        assertThat(cancel.json().get("cancelRequestedBy").asText()).isEqualTo("admin");
        assertThat(cancel.json().get("cancelRequestedAt").asText()).isNotEmpty();

        RawAgent second = new RawAgent(hub.channel(RawAgent.identity(welcome)))
                .send(RawAgent.hello("partitioned-1").setNodeId(welcome.getNodeId()).addPendingTaskIds(id));
        assertThat(second.next(WAIT).hasWelcome()).isTrue();
        HubMessage resent = second.next(WAIT);
        assertThat(resent.getCancel().getTaskId()).isEqualTo(id);
        assertThat(resent.getCancel().getReason()).isEqualTo("cancelled by admin");

        second.send(AgentMessage.newBuilder().setTaskResult(TaskResult.newBuilder().setTaskId(id)
                .setOutcome(TaskOutcome.TASK_OUTCOME_CANCELLED).setError("cancelled by admin")
                .setFinishedAtUnixMillis(System.currentTimeMillis())).build());
        assertThat(second.next(WAIT).getResultAck().getTaskId()).isEqualTo(id);
        JsonNode done = hub.get("/api/v1/tasks/" + id);
        assertThat(done.get("state").asText()).isEqualTo("cancelled");
        assertThat(done.get("error").asText()).isEqualTo("cancelled by admin");
        second.close();
        assertThat(hub.call("DELETE", "/api/v1/nodes/partitioned-1", null, hub.adminToken()).status()).isEqualTo(204);
    }

    @Test
    void removingANodeFailsItsUnfinishedTasksAndKeepsThemReadable() {
        AgentConnection doomed = hub.agent("doomed-1", hub.joinToken(1, "15m", Map.of()));
        await().atMost(WAIT).until(doomed::connected);
        TestHub.Answer a = hub.call("POST", "/api/v1/nodes/doomed-1/tasks", "{\"command\": \"sleep 600\"}",
                hub.adminToken());
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        String id = a.json().get("id").asText();
        await().atMost(WAIT).until(() -> hub.get("/api/v1/tasks/" + id).get("state").asText().equals("running"));

        assertThat(hub.call("DELETE", "/api/v1/nodes/doomed-1", null, hub.adminToken()).status()).isEqualTo(204);

        JsonNode done = awaitFinal(id);
        assertThat(done.get("state").asText()).isEqualTo("failed");
        assertThat(done.get("error").asText()).isEqualTo("its node was removed before it ended");
        assertThat(done.get("finishedAt").asText()).isNotEmpty();
    }

    @Test
    void aNodesTasksNewestFirstFilteredAndPagedByPosition() {
        List<JsonNode> made = new ArrayList<>();
        made.add(awaitFinal(create("{\"command\": \"true\"}").get("id").asText()));
        made.add(awaitFinal(create("{\"command\": \"exit 1\"}").get("id").asText()));
        String running = create("{\"command\": \"sleep 600\"}").get("id").asText();
        await().atMost(WAIT).until(() -> hub.get("/api/v1/tasks/" + running).get("state").asText().equals("running"));
        made.add(hub.get("/api/v1/tasks/" + running));
        // newest first: by creation time, then by id (tasks made in the same millisecond)
        List<String> newestFirst = made.stream()
                .sorted(java.util.Comparator.<JsonNode, java.time.Instant>comparing(
                                t -> java.time.Instant.parse(t.get("createdAt").asText()))
                        .thenComparing(t -> t.get("id").asText()).reversed())
                .map(t -> t.get("id").asText()).toList();

        JsonNode all = hub.get("/api/v1/nodes/runner-1/tasks");
        assertThat(ids(all)).containsExactlyElementsOf(newestFirst);
        assertThat(all.has("next")).isFalse();
        assertThat(all.get("items").get(0).get("command").asText()).isNotEmpty();

        JsonNode first = hub.get("/api/v1/nodes/runner-1/tasks?limit=2");
        assertThat(ids(first)).containsExactlyElementsOf(newestFirst.subList(0, 2));
        String next = first.get("next").asText();
        awaitFinal(create("{\"command\": \"true\"}").get("id").asText()); // a new task does not shift pages
        JsonNode second = hub.get("/api/v1/nodes/runner-1/tasks?limit=2&cursor=" + next);
        assertThat(ids(second)).containsExactly(newestFirst.get(2));
        assertThat(second.has("next")).isFalse();

        assertThat(ids(hub.get("/api/v1/nodes/runner-1/tasks?state=unfinished"))).containsExactly(running);
        assertThat(ids(hub.get("/api/v1/nodes/runner-1/tasks?state=running"))).containsExactly(running);
        assertThat(hub.get("/api/v1/nodes/runner-1/tasks?state=finished").get("items")).hasSize(3);
        assertThat(hub.get("/api/v1/nodes/runner-1/tasks?state=exited").get("items")).hasSize(3);
        assertThat(hub.get("/api/v1/nodes/runner-1/tasks?state=failed").get("items")).isEmpty();

        for (String bad : List.of("state=done", "limit=0", "limit=1001", "cursor=nonsense", "cursor=dDp4Onk")) {
            TestHub.Answer a = hub.call("GET", "/api/v1/nodes/runner-1/tasks?" + bad, null, hub.adminToken());
            assertThat(a.status()).as(bad).isEqualTo(400);
            assertThat(a.contentType()).as(bad).startsWith("application/problem+json");
        }
        assertThat(hub.call("GET", "/api/v1/nodes/nosuchnode/tasks", null, hub.adminToken()).status()).isEqualTo(404);
        hub.call("POST", "/api/v1/tasks/" + running + "/cancel", null, hub.adminToken());
    }

    @Test
    void aTasksOutputIsItsOwnLinesEvenWhenTasksInterleaveAndPagesUntilComplete() {
        String a = create("{\"command\": \"echo a1; sleep 1; echo a2 >&2; sleep 0.5\"}").get("id").asText();
        await().atMost(WAIT).until(() -> historyOf(a).contains("stdout:a1"));
        String b = create("{\"command\": \"echo b1; echo b2\"}").get("id").asText(); // lands between a1 and a2
        awaitFinal(a);
        awaitFinal(b);

        JsonNode outA = hub.get("/api/v1/tasks/" + a + "/output");
        assertThat(outA.get("lines")).extracting(l -> l.get("stream").asText() + ":" + l.get("text").asText())
                .containsExactly("stdout:a1", "stderr:a2");
        assertThat(outA.get("complete").asBoolean()).isTrue();
        assertThat(outA.get("task").get("state").asText()).isEqualTo("exited");
        JsonNode outB = hub.get("/api/v1/tasks/" + b + "/output");
        assertThat(outB.get("lines")).extracting(l -> l.get("text").asText()).containsExactly("b1", "b2");
        assertThat(outB.get("complete").asBoolean()).isTrue();

        JsonNode first = hub.get("/api/v1/tasks/" + a + "/output?limit=1");
        assertThat(first.get("lines")).extracting(l -> l.get("text").asText()).containsExactly("a1");
        assertThat(first.get("complete").asBoolean()).isFalse();
        JsonNode rest = hub.get("/api/v1/tasks/" + a + "/output?after=" + first.get("nextOffset").asLong());
        assertThat(rest.get("lines")).extracting(l -> l.get("text").asText()).containsExactly("a2");
        assertThat(rest.get("complete").asBoolean()).isTrue();

        String running = create("{\"command\": \"echo started; sleep 600\"}").get("id").asText();
        await().atMost(WAIT).until(() -> historyOf(running).contains("stdout:started"));
        JsonNode partial = hub.get("/api/v1/tasks/" + running + "/output");
        assertThat(partial.get("lines")).extracting(l -> l.get("text").asText()).containsExactly("started");
        assertThat(partial.get("complete").asBoolean()).isFalse();
        hub.call("POST", "/api/v1/tasks/" + running + "/cancel", null, hub.adminToken());
        awaitFinal(running);
        JsonNode ended = hub.get("/api/v1/tasks/" + running + "/output?after=" + partial.get("nextOffset").asLong());
        // nothing before the offset again (the shell may say "Killed" when the cancel reaches sleep first)
        assertThat(ended.get("lines")).extracting(l -> l.get("text").asText()).doesNotContain("started");
        assertThat(ended.get("complete").asBoolean()).isTrue();

        assertThat(hub.call("GET", "/api/v1/tasks/nosuchtask/output", null, hub.adminToken()).status()).isEqualTo(404);
        TestHub.Answer bad = hub.call("GET", "/api/v1/tasks/" + a + "/output?after=-1", null, hub.adminToken());
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.contentType()).startsWith("application/problem+json");
    }

    private static List<String> ids(JsonNode list) {
        List<String> ids = new ArrayList<>();
        list.get("items").forEach(t -> ids.add(t.get("id").asText()));
        return ids;
    }

    @Test
    void historyFollowOverWebSocketStreamsNewLinesAndResumesFromAnOffset() {
        try (WsClient live = WsClient.open(hub, "/api/v1/nodes/runner-1/history/follow", hub.adminToken())) {
            await().atMost(Duration.ofSeconds(5)).until(() -> hub.get("/api/v1/listeners").get("items").size() == 1);
            awaitFinal(create("{\"command\": \"for i in 1 2 3; do echo line$i; done\"}").get("id").asText());
            await().atMost(Duration.ofSeconds(10)).until(() -> live.ofType("line").size() == 3);
            List<JsonNode> lines = live.ofType("line");
            assertThat(lines).extracting(l -> l.get("text").asText()).containsExactly("line1", "line2", "line3");
            long first = lines.get(0).get("offset").asLong();
            assertThat(lines.get(2).get("offset").asLong()).isEqualTo(first + 2);

            try (WsClient resumed = WsClient.open(hub, "/api/v1/nodes/runner-1/history/follow?after=" + first,
                    hub.adminToken())) {
                await().atMost(Duration.ofSeconds(10)).until(() -> resumed.ofType("line").size() == 2);
                assertThat(resumed.ofType("line")).extracting(l -> l.get("text").asText())
                        .containsExactly("line2", "line3");
                assertThat(resumed.ofType("gap")).isEmpty();
            }
        }
    }

    @Test
    void offlineNodeGetsNoTask() {
        agent.close();
        await().atMost(Duration.ofSeconds(5)).until(() -> hub.node("runner-1").get("status").asText().equals("offline"));
        TestHub.Answer a = hub.call("POST", "/api/v1/nodes/runner-1/tasks", "{\"command\": \"true\"}", hub.adminToken());
        assertThat(a.status()).isEqualTo(409);
        assertThat(a.contentType()).startsWith("application/problem+json");
        assertThat(a.json().get("detail").asText()).contains("offline");
    }

    @Test
    void badTaskRequestsAre400() {
        String admin = hub.adminToken();
        for (String body : List.of("{}", "{\"command\": \"true\", \"argv\": [\"true\"]}", "{\"command\": \"\"}",
                "{\"command\": \"true\", \"timeout\": \"soon\"}", "{\"argv\": []}", "not json")) {
            TestHub.Answer a = hub.call("POST", "/api/v1/nodes/runner-1/tasks", body, admin);
            assertThat(a.status()).as(body).isEqualTo(400);
        }
        assertThat(hub.call("GET", "/api/v1/tasks/nosuchtask", null, admin).status()).isEqualTo(404);
        assertThat(hub.call("GET", "/api/v1/nodes/runner-1/history?tail=-1", null, admin).status()).isEqualTo(400);
    }

    @Test
    void historyAfterAnOffsetContinuesWhereItLeftOff() {
        JsonNode t = create("{\"command\": \"for i in 1 2 3 4 5; do echo n$i; done\"}");
        awaitFinal(t.get("id").asText());
        JsonNode first = hub.get("/api/v1/nodes/runner-1/history?after=0&limit=2");
        assertThat(first.get("lines")).hasSize(2);
        long next = first.get("nextOffset").asLong();
        JsonNode rest = hub.get("/api/v1/nodes/runner-1/history?after=" + next);
        assertThat(rest.get("lines")).hasSize(3);
        assertThat(rest.get("lines").get(0).get("offset").asLong()).isEqualTo(next + 1);
        assertThat(rest.get("lines").get(2).get("text").asText()).isEqualTo("n5");
    }

    @Test
    void boundedPlainTextViewsForTools() throws Exception {
        JsonNode t = create("{\"command\": \"for i in 1 2 3 4 5 6 7 8 9; do echo line-$i; done\"}");
        awaitFinal(t.get("id").asText());
        // "line-N" plus a newline is 7 bytes: 20 bytes hold the last two lines.
        JsonNode recent = hub.get("/api/v1/nodes/runner-1/history?maxBytes=20");
        assertThat(recent.get("lines")).hasSize(2);
        assertThat(recent.get("lines").get(1).get("text").asText()).isEqualTo("line-9");
        TestHub.Answer text = hub.call("GET", "/api/v1/nodes/runner-1/history?maxBytes=14&format=text", null,
                hub.adminToken());
        assertThat(text.contentType()).startsWith("text/plain");
        assertThat(text.body()).isEqualTo("line-8\nline-9\n");

        JsonNode last = hub.get("/api/v1/nodes/runner-1/last-task");
        assertThat(last.get("task").get("id").asText()).isEqualTo(t.get("id").asText());
        assertThat(last.get("lines")).hasSize(9);
        assertThat(hub.get("/api/v1/nodes/runner-1/last-task?maxBytes=7").get("lines")).hasSize(1);
    }

    /** Every raw chunk of a task, concatenated (stdout and stderr apart), paging with release as hubctl exec does. */
    private record Raw(byte[] stdout, byte[] stderr, List<JsonNode> pages) {
    }

    private Raw readRaw(String id, long maxBytes) {
        var out = new java.io.ByteArrayOutputStream();
        var err = new java.io.ByteArrayOutputStream();
        List<JsonNode> pages = new ArrayList<>();
        long after = 0;
        for (int i = 0; i < 100_000; i++) {
            JsonNode page = hub.get("/api/v1/tasks/" + id + "/raw?release=true&maxBytes=" + maxBytes + "&after=" + after);
            pages.add(page);
            for (JsonNode c : page.get("chunks")) {
                byte[] data = java.util.Base64.getDecoder().decode(c.get("data").asText());
                (c.get("stream").asText().equals("stderr") ? err : out).writeBytes(data);
            }
            after = page.get("next").asLong();
            if (page.get("complete").asBoolean()) {
                // the last call releases what the last page gave
                assertThat(hub.get("/api/v1/tasks/" + id + "/raw?release=true&after=" + after).get("chunks")).isEmpty();
                return new Raw(out.toByteArray(), err.toByteArray(), pages);
            }
        }
        throw new AssertionError("raw output never complete");
    }

    @Test
    void rawOutputIsTheExactBytesEvenPastTheHistoryCapsAndIsForgottenOnceRead() throws Exception {
        hub.close();
        // history caps far below the output: the history keeps its last lines, the raw output all of it
        HubConfig capped = config(dir.resolve("capped"));
        hub = new TestHub(capped.withHistory(capped.historyStore(), capped.redisUrl(), 50, 4096));
        agent = hub.agent("runner-1", hub.joinToken(1, "15m", Map.of()));
        await().atMost(Duration.ofSeconds(10)).until(agent::connected);
        // bytes text would lose: CR, NUL, ESC, invalid UTF-8; 20,000 lines of stdout, one stderr line
        JsonNode t = create("{\"command\": \"printf 'a\\\\r\\\\000b\\\\033[31m\\\\377\\\\n'; seq 1 20000; "
                + "echo oops >&2\"}");
        String id = t.get("id").asText();
        awaitFinal(id);
        // a viewer may read it but not release it
        String viewer = hub.call("POST", "/api/v1/users", "{\"name\": \"vera\", \"role\": \"viewer\"}",
                hub.adminToken()).json().get("token").asText();
        assertThat(hub.call("POST", "/api/v1/users/vera/grants", "{\"selector\": \"!nothing\", \"role\": \"viewer\"}",
                hub.adminToken()).status()).isEqualTo(201);
        assertThat(hub.call("GET", "/api/v1/tasks/" + id + "/raw?maxBytes=10", null, viewer).status()).isEqualTo(200);
        assertThat(hub.call("GET", "/api/v1/tasks/" + id + "/raw?after=1&release=true", null, viewer).status())
                .isEqualTo(403);
        assertThat(hub.call("GET", "/api/v1/tasks/" + id + "/raw?release=maybe", null, hub.adminToken()).status())
                .isEqualTo(400);

        Raw raw = readRaw(id, 4096);
        StringBuilder expected = new StringBuilder();
        for (int i = 1; i <= 20000; i++) {
            expected.append(i).append('\n');
        }
        byte[] head = {'a', '\r', 0, 'b', 0x1b, '[', '3', '1', 'm', (byte) 0xff, '\n'};
        byte[] tail = expected.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] want = new byte[head.length + tail.length];
        System.arraycopy(head, 0, want, 0, head.length);
        System.arraycopy(tail, 0, want, head.length, tail.length);
        assertThat(raw.stdout()).isEqualTo(want);
        assertThat(new String(raw.stderr(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("oops\n");
        assertThat(raw.pages()).allSatisfy(p -> assertThat(p.has("missing")).as(p.toString()).isFalse());
        assertThat(raw.pages().size()).as("pages of at most 4 KiB (a chunk is never split)").isGreaterThan(2);
        // while the history kept only its last lines
        assertThat(hub.get("/api/v1/nodes/runner-1/history?tail=1000").get("lines").size()).isLessThanOrEqualTo(50);

        // released as read: a second reader finds it gone, and is told, rather than given a part as the whole
        JsonNode again = hub.get("/api/v1/tasks/" + id + "/raw");
        assertThat(again.get("chunks")).isEmpty();
        assertThat(again.get("complete").asBoolean()).isTrue();
        assertThat(again.get("missing").get("from").asLong()).isEqualTo(1);
    }

    @Test
    void severalTasksRawPagesComeInOneRequestWithTheirOwnErrorsWithinAByteBudget() throws Exception {
        String a = create("{\"command\": \"echo one\"}").get("id").asText();
        String b = create("{\"command\": \"seq 1 3000\"}").get("id").asText();
        awaitFinal(a);
        awaitFinal(b);
        String body = "{\"maxBytes\": 100, \"pages\": [{\"task\": \"" + a + "\", \"release\": true}, "
                + "{\"task\": \"nope\"}, {\"task\": \"" + b + "\"}, {\"task\": \"" + a + "\"}]}";
        TestHub.Answer res = hub.call("POST", "/api/v1/tasks/raw", body, hub.adminToken());
        assertThat(res.status()).as(res.body()).isEqualTo(200);
        JsonNode pages = res.json().get("pages");
        assertThat(pages).hasSize(4);
        JsonNode first = pages.get(0).get("page");
        assertThat(new String(java.util.Base64.getDecoder().decode(first.get("chunks").get(0).get("data").asText())))
                .isEqualTo("one\n");
        assertThat(first.get("complete").asBoolean()).isTrue();
        assertThat(first.get("task").get("state").asText()).isEqualTo("exited");
        assertThat(pages.get(1).get("error").get("status").asInt()).isEqualTo(404);
        assertThat(pages.get(1).get("error").get("title").asText()).isEqualTo("Not Found");
        assertThat(pages.get(1).get("error").get("type").asText()).endsWith("/not-found");
        assertThat(pages.get(1).has("page")).isFalse();
        // b's first chunk is over what was left of the 100 bytes (a chunk is never split): the rest waits
        assertThat(pages.get(2).get("page").get("chunks").size()).isEqualTo(1);
        assertThat(pages.get(3).get("deferred").asBoolean()).isTrue();

        String viewer = hub.call("POST", "/api/v1/users", "{\"name\": \"vic\", \"role\": \"viewer\"}",
                hub.adminToken()).json().get("token").asText();
        assertThat(hub.call("POST", "/api/v1/users/vic/grants", "{\"selector\": \"!nothing\", \"role\": \"viewer\"}",
                hub.adminToken()).status()).isEqualTo(201);
        JsonNode mixed = hub.call("POST", "/api/v1/tasks/raw", "{\"pages\": [{\"task\": \"" + b + "\"}, "
                + "{\"task\": \"" + b + "\", \"after\": 1, \"release\": true}]}", viewer).json().get("pages");
        assertThat(mixed.get(0).get("page").get("chunks").size()).isPositive(); // a viewer reads
        assertThat(mixed.get(1).get("error").get("status").asInt()).isEqualTo(403); // but does not release

        assertThat(hub.call("POST", "/api/v1/tasks/raw", "{\"pages\": []}", hub.adminToken()).status()).isEqualTo(400);
        String many = "{\"pages\": [" + "{\"task\": \"x\"},".repeat(256) + "{\"task\": \"x\"}]}";
        TestHub.Answer tooMany = hub.call("POST", "/api/v1/tasks/raw", many, hub.adminToken());
        assertThat(tooMany.status()).isEqualTo(400);
        assertThat(tooMany.contentType()).startsWith("application/problem+json");
        assertThat(hub.call("POST", "/api/v1/tasks/raw", "{\"pages\": [{\"task\": \"" + a + "\", \"after\": -1}]}",
                hub.adminToken()).status()).isEqualTo(400);
    }

    @Test
    void outputPastTheNodesRawBoundIsHistoryTextOnlyAndTheReaderIsTold() throws Exception {
        hub.close();
        HubConfig c = config(dir.resolve("bounded"));
        hub = new TestHub(c.withTaskOutput(new HubConfig.TaskOutput(Duration.ofHours(1), 64 * 1024)));
        agent = hub.agent("runner-1", hub.joinToken(1, "15m", Map.of()));
        await().atMost(Duration.ofSeconds(10)).until(agent::connected);
        // 2,000 lines of 100 bytes: 200 KB, over the 64 KiB bound when nobody reads meanwhile
        String id = create("{\"command\": \"i=0; while [ $i -lt 2000 ]; do printf '%099d\\\\n' $i; i=$((i+1)); done\"}")
                .get("id").asText();
        awaitFinal(id);
        JsonNode first = hub.get("/api/v1/tasks/" + id + "/raw?maxBytes=8388608");
        long kept = 0;
        for (JsonNode ch : first.get("chunks")) {
            kept += java.util.Base64.getDecoder().decode(ch.get("data").asText()).length;
        }
        assertThat(kept).isPositive().isLessThanOrEqualTo(64 * 1024);
        long droppedFrom = first.get("droppedFrom").asLong();
        assertThat(droppedFrom).isEqualTo(first.get("next").asLong() + 1);
        JsonNode rest = hub.get("/api/v1/tasks/" + id + "/raw?after=" + first.get("next").asLong());
        assertThat(rest.get("missing").get("from").asLong()).isEqualTo(droppedFrom);
        assertThat(rest.get("complete").asBoolean()).isTrue();
        // the history has the text all the same
        JsonNode out = hub.get("/api/v1/tasks/" + id + "/output?limit=10000");
        assertThat(out.get("lines").size()).isEqualTo(2000);
    }
}

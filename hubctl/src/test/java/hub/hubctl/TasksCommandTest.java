package hub.hubctl;

import hub.hubd.TestTls;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.agent.AgentConnection;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** hubctl tasks ls|show|cancel against a real hubd and agent running real processes. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TasksCommandTest {
    TestHub hub;
    AgentConnection worker;
    HubClient api;

    Cli.Run hubctl(String... args) {
        return Cli.run(hub.url, hub.token, args);
    }

    @BeforeAll
    void start(@TempDir Path dir) {
        hub = new TestHub(dir);
        worker = hub.agent("worker-1");
        api = new HubClient(URI.create(hub.url + "/"), hub.token, new ObjectMapper(), TestTls.https(hub.hub));
    }

    @AfterAll
    void stop() {
        hub.close();
    }

    private String running(String command) {
        return running("worker-1", command);
    }

    private String running(String node, String command) {
        String id = api.post("api/v1/nodes/" + node + "/tasks", Map.of("command", command)).get("id").asText();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> api.get("api/v1/tasks/" + id).get("state").asText().equals("running"));
        return id;
    }

    @Test
    void listsShowsAndCancelsTasks() throws Exception {
        assertThat(hubctl("exec", "worker-1", "--", "exit", "3").code()).isEqualTo(3);
        assertThat(hubctl("exec", "worker-1", "--", "echo", "hi").code()).isZero();
        String sleeper = running("sleep 600");

        Cli.Run ls = hubctl("tasks", "ls", "worker-1");
        assertThat(ls.code()).as(ls.err()).isZero();
        String[] lines = ls.out().split("\n");
        assertThat(lines[0].split("\\s{2,}")).containsExactly("ID", "STATE", "EXIT", "CREATED", "COMMAND");
        assertThat(lines).hasSize(4);
        assertThat(ls.out()).contains("sleep 600").contains("exit 3").contains("echo hi");
        assertThat(lines[1]).startsWith(sleeper).contains("running"); // newest first

        JsonNode unfinished = hubctl("tasks", "ls", "worker-1", "--state", "unfinished", "-o", "json").json();
        assertThat(unfinished.get("items")).hasSize(1);
        assertThat(unfinished.get("items").get(0).get("id").asText()).isEqualTo(sleeper);

        Cli.Run one = hubctl("tasks", "ls", "worker-1", "--limit", "1");
        assertThat(one.out().split("\n")).hasSize(2);
        assertThat(one.err()).contains("the newest 1 shown");

        Cli.Run show = hubctl("tasks", "show", sleeper);
        assertThat(show.out()).contains("State:         running").contains("Command:       sleep 600")
                .contains("Node:          worker-1 (" + worker.nodeId() + ")")
                .doesNotContain("Cancel asked");

        Cli.Run cancel = hubctl("tasks", "cancel", sleeper);
        assertThat(cancel.code()).as(cancel.err()).isZero();
        assertThat(cancel.out()).isEqualTo("cancel of task " + sleeper + " asked; it ends when its node has killed it\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> hubctl("tasks", "show", sleeper, "-o", "json").json()
                .get("state").asText().equals("cancelled"));
        assertThat(hubctl("tasks", "show", sleeper).out()).contains("Cancel asked:  ").contains(" by admin");
        assertThat(hubctl("tasks", "cancel", sleeper).out())
                .isEqualTo("task " + sleeper + " had already ended (cancelled)\n");
    }

    @Test
    void aRemovedNodesTaskFailsAndStaysReadable() {
        AgentConnection doomed = hub.agent("doomed-1");
        String id = api.post("api/v1/nodes/doomed-1/tasks", Map.of("command", "sleep 600")).get("id").asText();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> api.get("api/v1/tasks/" + id).get("state").asText().equals("running"));
        assertThat(hubctl("nodes", "rm", "doomed-1").code()).isZero();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> api.get("api/v1/tasks/" + id).get("state").asText().equals("failed"));
        Cli.Run show = hubctl("tasks", "show", id);
        assertThat(show.code()).as(show.err()).isZero();
        assertThat(show.out()).contains("Node:          " + doomed.nodeId() + " (removed)")
                .contains("Error:         its node was removed before it ended");
    }

    @Test
    void outputPrintsStdoutAndStderrApartAndFollowsARunningTask() throws Exception {
        hub.agent("printer-1"); // its own node: the other tests count worker-1's tasks
        String done = api.post("api/v1/nodes/printer-1/tasks", Map.of("command", "echo out1; echo err1 >&2; echo out2"))
                .get("id").asText();
        await().atMost(Duration.ofSeconds(10)).until(() -> TasksCommand.FINAL.contains(
                api.get("api/v1/tasks/" + done).get("state").asText()));
        Cli.Run out = hubctl("tasks", "output", done);
        assertThat(out.code()).as(out.err()).isZero();
        assertThat(out.out()).isEqualTo("out1\nout2\n");
        assertThat(out.err()).isEqualTo("err1\n");
        // stdout and stderr are separate pipes: their lines may interleave either way
        List<String> json = new java.util.ArrayList<>();
        for (String line : hubctl("tasks", "logs", done, "-o", "json").out().split("\n")) {
            JsonNode l = new ObjectMapper().readTree(line);
            assertThat(l.get("taskId").asText()).isEqualTo(done);
            json.add(l.get("stream").asText() + ":" + l.get("text").asText());
        }
        assertThat(json).containsExactlyInAnyOrder("stdout:out1", "stdout:out2", "stderr:err1");

        String slow = running("printer-1", "echo started; sleep 600");
        await().atMost(Duration.ofSeconds(10)).until(() -> hubctl("tasks", "output", slow).out().equals("started\n"));
        assertThat(hubctl("tasks", "output", slow).err()).isEqualTo("hubctl: task " + slow
                + " is still running; -f follows it\n");

        String paced = running("printer-1", "echo go; sleep 1; echo gone");
        Cli.Background follow = new Cli.Background(hub.url, hub.token, "tasks", "output", paced, "-f");
        await().atMost(Duration.ofSeconds(10)).until(() -> !follow.alive());
        assertThat(follow.code()).as(follow.err()).isZero();
        assertThat(follow.out()).isEqualTo("go\ngone\n");
        hubctl("tasks", "cancel", slow);
    }

    @Test
    void badRequestsAreOneLineAndExit1() {
        for (List<String> args : List.of(List.of("tasks", "show", "nosuchtask"),
                List.of("tasks", "cancel", "nosuchtask"),
                List.of("tasks", "output", "nosuchtask"),
                List.of("tasks", "ls", "nosuchnode"),
                List.of("tasks", "ls", "worker-1", "--state", "done"))) {
            Cli.Run r = hubctl(args.toArray(String[]::new));
            assertThat(r.code()).as(args.toString()).isEqualTo(1);
            assertThat(r.err().strip()).as(args.toString()).startsWith("hubctl: ").doesNotContain("\n");
            assertThat(r.out()).isEmpty();
        }
        assertThat(hubctl("tasks", "ls", "worker-1", "--state", "done").err()).contains("state must be one of");
        assertThat(hubctl("tasks", "ls").code()).isEqualTo(2);
    }
}

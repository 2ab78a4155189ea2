package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.agent.AgentConnection;
import hub.agent.AgentIdentity;
import hub.agent.Backoff;
import hub.agent.CredentialStore;
import hub.hubd.HubDaemon;
import hub.hubd.TestTls;
import hub.hubd.config.HubConfig;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** hubctl through {@code CommandLine.execute} against a real hubd with a real agent. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HubctlTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    HubDaemon hub;
    String url;
    String token;
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    final List<AgentConnection> agents = new ArrayList<>();

    Cli.Run hubctl(String... args) {
        return Cli.run(url, token, args);
    }

    @BeforeAll
    void start(@TempDir Path dir) {
        hub = HubDaemon.start(HubConfig.defaults(dir.resolve("data")));
        url = Cli.url(hub);
        token = hub.adminToken();
    }

    @AfterAll
    void stop() {
        agents.forEach(AgentConnection::close);
        scheduler.shutdownNow();
        hub.close();
    }

    private AgentConnection agent(String name, String joinToken) {
        AgentConnection a = Agents.start(hub, name, joinToken, scheduler);
        agents.add(a);
        return a;
    }

    @Test
    void tokensCreateThenAgentJoinsThenNodesLsShowsItOnline() throws Exception {
        Cli.Run created = hubctl("tokens", "create", "--uses", "1", "-l", "role=web");
        assertThat(created.code()).as(created.err()).isZero();
        String joinToken = created.out().strip();
        assertThat(joinToken).startsWith("hjt_");
        assertThat(created.err()).contains("not shown again");

        AgentConnection a = agent("web-1", joinToken);

        Cli.Run ls = hubctl("nodes", "ls");
        assertThat(ls.code()).isZero();
        String[] lines = ls.out().split("\n");
        assertThat(lines[0]).startsWith("NAME").contains("ID").contains("STATUS").contains("LAST SEEN");
        String row = java.util.Arrays.stream(lines).filter(l -> l.startsWith("web-1 ")).findFirst().orElseThrow();
        assertThat(row).contains(a.nodeId()).contains("online").contains("role=web");
        // Columns line up: each header starts where its values start.
        assertThat(row.indexOf(a.nodeId())).isEqualTo(lines[0].indexOf("ID"));
        assertThat(row.indexOf("online")).isEqualTo(lines[0].indexOf("STATUS"));

        Cli.Run json = hubctl("nodes", "ls", "-o", "json", "--status", "online", "-l", "role=web");
        JsonNode items = json.json().get("items");
        assertThat(items).hasSize(1);
        assertThat(items.get(0).get("id").asText()).isEqualTo(a.nodeId());
        assertThat(items.get(0).get("status").asText()).isEqualTo("online");

        Cli.Run wide = hubctl("nodes", "ls", "-o", "wide");
        assertThat(wide.out().split("\n")[0]).contains("HOSTNAME").contains("OWNER").contains("REASON");

        Cli.Run show = hubctl("nodes", "show", "web-1");
        assertThat(show.code()).isZero();
        assertThat(show.out()).contains("ID:            " + a.nodeId()).contains("Status:        online");
    }

    @Test
    void tokensLsAndRevoke() throws Exception {
        Cli.Run created = hubctl("tokens", "create", "--ttl", "1h", "--uses", "3", "-o", "json");
        JsonNode t = created.json();
        String id = t.get("id").asText();
        assertThat(t.get("usesLeft").asInt()).isEqualTo(3);

        Cli.Run ls = hubctl("tokens", "ls");
        assertThat(ls.out().split("\n")[0]).startsWith("ID").contains("STATE").contains("USES LEFT");
        assertThat(ls.out()).contains(id).doesNotContain(t.get("token").asText());

        Cli.Run revoked = hubctl("tokens", "revoke", id);
        assertThat(revoked.code()).isZero();
        JsonNode after = hubctl("tokens", "ls", "-o", "json").json();
        boolean found = false;
        for (JsonNode n : after.get("items")) {
            if (n.get("id").asText().equals(id)) {
                assertThat(n.get("state").asText()).isEqualTo("revoked");
                found = true;
            }
        }
        assertThat(found).isTrue();
    }

    @Test
    void nodesRmRemovesAndDisconnects() throws Exception {
        String joinToken = hubctl("tokens", "create").out().strip();
        AgentConnection a = agent("tmp-1", joinToken);
        Cli.Run rm = hubctl("nodes", "rm", a.nodeId());
        assertThat(rm.code()).as(rm.err()).isZero();
        Cli.Run show = hubctl("nodes", "show", a.nodeId());
        assertThat(show.code()).isEqualTo(1);
    }

    @Test
    void hubErrorIsOneStderrLineWithErrorIdAndExit1() {
        Cli.Run r = hubctl("nodes", "show", "no-such-node");
        assertThat(r.code()).isEqualTo(ExitCodes.HUB_ERROR);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().strip().lines().count()).isEqualTo(1);
        assertThat(r.err()).startsWith("hubctl: no node 'no-such-node'").containsPattern("error id [0-9a-z]{16}");
    }

    @Test
    void badTokenIsExit1() {
        StringWriter err = new StringWriter();
        var cli = HubctlMain.commandLine();
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute("--hub", url, "--token", "hat_wrong", "--ca-file",
                TestTls.caFile(hub).toString(), "status");
        assertThat(code).isEqualTo(1);
        assertThat(err.toString()).contains("unknown or revoked API token").contains("error id");
    }

    @Test
    void unreachableHubIsExit1WithAClearMessage() {
        StringWriter err = new StringWriter();
        var cli = HubctlMain.commandLine();
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute("--hub", "http://127.0.0.1:1", "--token", token, "nodes", "ls");
        assertThat(code).isEqualTo(1);
        assertThat(err.toString().strip()).startsWith("hubctl: cannot reach the hub at http://127.0.0.1:1/");
    }

    @Test
    void usageErrorsAreExit2() {
        assertThat(hubctl("nodes", "ls", "--status", "asleep").code()).isEqualTo(ExitCodes.USAGE);
        assertThat(hubctl("nodes", "frobnicate").code()).isEqualTo(ExitCodes.USAGE);
        assertThat(hubctl("tokens", "create", "--uses", "many").code()).isEqualTo(ExitCodes.USAGE);
        Cli.Run r = hubctl("-o", "toml", "status");
        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("toml").contains("yaml"); // names the valid ones
    }

    @Test
    void statusShowsTheHubAndWhoYouAre() {
        Cli.Run r = hubctl("status");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("You:      admin (admin)").contains("gRPC port " + hub.grpcPort());
    }

    @Test
    void usersCreateLsRotateAndRm() throws Exception {
        Cli.Run created = hubctl("users", "create", "dana", "--role", "viewer");
        assertThat(created.code()).as(created.err()).isZero();
        String token = created.out().strip();
        assertThat(token).startsWith("hat_");
        assertThat(created.err()).contains("not shown again");
        assertThat(Cli.run(url, token, "status").code()).isZero();

        Cli.Run ls = hubctl("users", "ls");
        assertThat(ls.out()).contains("NAME").containsPattern("dana\\s+viewer\\s+1");
        Cli.Run json = hubctl("users", "rotate-token", "dana", "-o", "json");
        assertThat(json.json().get("token").asText()).startsWith("hat_").isNotEqualTo(token);
        assertThat(Cli.run(url, token, "status").code()).isEqualTo(1);

        assertThat(hubctl("users", "create", "dana", "--role", "viewer").err()).contains("exists");
        assertThat(hubctl("users", "create", "x", "--role", "root").code()).isEqualTo(1);
        assertThat(hubctl("users", "rm", "dana").code()).isZero();
        assertThat(hubctl("users", "ls").out()).doesNotContain("dana");
        assertThat(hubctl("users", "create", "y").code()).isEqualTo(2); // --role is required
    }

    @Test
    void completionScriptsAreValidBashAndKnowTheCommands() throws Exception {
        Cli.Run bash = hubctl("completion", "bash");
        assertThat(bash.code()).isZero();
        // the script asks hubctl itself (CompletionTest runs it), so it names no command of its own
        assertThat(bash.out()).contains("complete -o default -F _hubctl hubctl").contains("__complete");
        Path f = java.nio.file.Files.createTempFile("hubctl", ".bash");
        java.nio.file.Files.writeString(f, bash.out());
        Process p = new ProcessBuilder("bash", "-n", f.toString()).redirectErrorStream(true).start();
        String err = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(err).isZero();
        assertThat(hubctl("completion", "zsh").out()).isEqualTo(bash.out());
        assertThat(hubctl("completion", "fish").code()).isEqualTo(2);
    }
}

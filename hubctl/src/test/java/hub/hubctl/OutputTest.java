package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import hub.agent.AgentConnection;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Output formats: tables that line up, colors only when asked or on a terminal, JSON with stable names. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OutputTest {
    private static final String GREEN_ONLINE = "\033[32monline\033[0m";
    TestHub hub;
    AgentConnection node;

    @BeforeAll
    void start(@TempDir Path dir) {
        hub = new TestHub(dir);
        node = hub.agent("out-1");
    }

    @AfterAll
    void stop() {
        hub.close();
    }

    private Cli.Run hubctl(Map<String, String> env, String... args) {
        List<String> all = Cli.target(hub.url, hub.token);
        all.addAll(List.of(args));
        return Cli.runWith(env, all.toArray(String[]::new));
    }

    @Test
    void pipedOutputIsPlainAndColorAlwaysColorsStatusButKeepsColumnsAligned() {
        Cli.Run plain = hubctl(Map.of(), "nodes", "ls");
        assertThat(plain.out()).doesNotContain("\033[");

        Cli.Run colored = hubctl(Map.of(), "--color", "always", "nodes", "ls");
        assertThat(colored.out()).contains(GREEN_ONLINE);
        // Widths count the visible text: without its escapes the colored table lines up like the plain one.
        for (String table : List.of(plain.out(), colored.out().replaceAll("\033\\[[0-9;]*m", ""))) {
            String header = table.lines().findFirst().orElseThrow();
            String row = table.lines().filter(l -> l.startsWith("out-1")).findFirst().orElseThrow();
            assertThat(row.indexOf("online")).isEqualTo(header.indexOf("STATUS"));
            assertThat(row.indexOf(node.nodeId())).isEqualTo(header.indexOf("ID"));
        }
    }

    @Test
    void noColorEnvironmentWinsOverAuto() {
        Cli.Run r = hubctl(Map.of("NO_COLOR", "1"), "--color", "auto", "nodes", "ls");
        assertThat(r.out()).doesNotContain("\033[");
        assertThat(hubctl(Map.of("NO_COLOR", "1"), "--color", "never", "nodes", "show", "out-1").out())
                .doesNotContain("\033[");
    }

    @Test
    void wideAddsColumns() {
        String header = hubctl(Map.of(), "nodes", "ls", "-o", "wide").out().lines().findFirst().orElseThrow();
        assertThat(header.split("\\s{3,}")).containsExactly("NAME", "ID", "STATUS", "LAST SEEN", "REASON",
                "HOSTNAME", "OS", "ARCH", "AGENT", "OWNER", "LABELS");
        String narrow = hubctl(Map.of(), "nodes", "ls").out().lines().findFirst().orElseThrow();
        assertThat(narrow.split("\\s{3,}")).containsExactly("NAME", "ID", "STATUS", "LAST SEEN", "LABELS");
    }

    @Test
    void jsonParsesWithTheDocumentedFieldNames() throws Exception {
        JsonNode nodes = hubctl(Map.of(), "nodes", "ls", "-o", "json").json();
        JsonNode n = nodes.get("items").get(0);
        assertThat(n.fieldNames()).toIterable().contains("id", "name", "hostname", "status", "lastSeen",
                "connectedAt", "labels", "os", "arch", "agentVersion", "owner");
        JsonNode show = hubctl(Map.of(), "nodes", "show", node.nodeId(), "-o", "json").json();
        assertThat(show.get("id").asText()).isEqualTo(node.nodeId());
        JsonNode status = hubctl(Map.of(), "status", "-o", "json").json();
        assertThat(status.fieldNames()).toIterable().contains("version", "nodesTotal", "nodesOnline", "user", "role");
        JsonNode token = hubctl(Map.of(), "tokens", "create", "-o", "json").json();
        assertThat(token.fieldNames()).toIterable().contains("id", "token", "expiresAt", "usesLeft", "labels",
                "owner");
        JsonNode tokens = hubctl(Map.of(), "tokens", "ls", "-o", "json").json();
        assertThat(tokens.get("items").get(0).has("token")).isFalse();
    }

    @Test
    void yamlNameAndNoHeadersAsKubectlHasThem() throws Exception {
        Cli.Run yaml = hubctl(Map.of(), "nodes", "show", "out-1", "-o", "yaml");
        assertThat(yaml.code()).as(yaml.err()).isZero();
        JsonNode parsed = new com.fasterxml.jackson.dataformat.yaml.YAMLMapper().readTree(yaml.out());
        assertThat(parsed.get("name").asText()).isEqualTo("out-1");
        assertThat(parsed.get("id").asText()).isEqualTo(node.nodeId());
        assertThat(yaml.out()).startsWith("---").contains("name: \"out-1\"");

        assertThat(hubctl(Map.of(), "nodes", "ls", "-o", "name").out()).isEqualTo("out-1\n");
        String tokenId = hubctl(Map.of(), "tokens", "create", "-o", "json").json().get("id").asText();
        assertThat(hubctl(Map.of(), "tokens", "ls", "-o", "name").out().lines()).contains(tokenId);
        assertThat(hubctl(Map.of(), "users", "ls", "-o", "name").out()).isEqualTo("admin\n");

        Cli.Run bare = hubctl(Map.of(), "nodes", "ls", "--no-headers");
        assertThat(bare.out()).doesNotContain("NAME").startsWith("out-1");
        assertThat(hubctl(Map.of(), "nodes", "ls").out()).startsWith("NAME");
        assertThat(hubctl(Map.of(), "nodes", "ls", "-o", "xml").code()).isEqualTo(ExitCodes.USAGE);
    }
}

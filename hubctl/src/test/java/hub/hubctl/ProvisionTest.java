package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import hub.hubd.config.HubConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hubctl provision} against a real hub serving an agent artifact: the printed link fetches the
 * script whose checksum it prints. (packaging's provision.sh then runs that script.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProvisionTest {
    TestHub hub;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        Path artifact = Files.write(dir.resolve("hub-agent.tar.gz"), new byte[] {1, 2, 3});
        hub = new TestHub(HubConfig.defaults(dir.resolve("data")).withAgentArtifact(artifact));
    }

    @AfterAll
    void stop() {
        hub.close();
    }

    private static String fetch(String url) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void printsTheOneLinerAndTheChecksumOfTheScriptItFetches() throws Exception {
        Cli.Run run = Cli.run(hub.url, hub.token, "provision", "--uses", "2", "-l", "role=web",
                "--hub-address", "10.0.0.5:7443");
        assertThat(run.code()).as(run.err()).isZero();
        String[] lines = run.out().split("\n");
        assertThat(lines[0]).startsWith("curl -fsSL '" + hub.url + "/api/v1/provisioning/script?token=hjt_")
                .endsWith("&hub=10.0.0.5%3A7443' | sudo sh");
        String url = lines[0].substring("curl -fsSL '".length(), lines[0].indexOf("' | sudo sh"));
        // Each fetch of a multi-use token's link renders the same script, so the printed sum checks it.
        String script = fetch(url);
        assertThat(script).startsWith("#!/bin/sh").contains("10.0.0.5:7443");
        assertThat(run.out()).contains("echo '" + sha256(script) + "  hub-agent-install.sh' | sha256sum -c -");
        assertThat(run.err()).contains("2 use(s)").contains("labels role=web");
    }

    @Test
    void scriptPrintsTheScriptAndJsonHasTheSameFields() throws Exception {
        Cli.Run script = Cli.run(hub.url, hub.token, "provision", "--script");
        assertThat(script.code()).as(script.err()).isZero();
        assertThat(script.out()).startsWith("#!/bin/sh").contains("HUB_AGENT_HUB");

        JsonNode json = Cli.run(hub.url, hub.token, "provision", "-o", "json").json();
        assertThat(json.get("sha256").asText()).isEqualTo(sha256(fetch(json.get("url").asText())));
        assertThat(json.get("command").asText()).isEqualTo("curl -fsSL '" + json.get("url").asText() + "' | sudo sh");
        assertThat(json.get("token").get("usesLeft").asInt()).isEqualTo(1);
    }

    @Test
    void aRefusedTokenIsOneLineOnStderr() {
        Cli.Run run = Cli.run(hub.url, hub.token, "provision", "--ttl", "soon");
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err().strip()).startsWith("hubctl: ").doesNotContain("\n").contains("ttl");
        assertThat(run.out()).isEmpty();
    }
}

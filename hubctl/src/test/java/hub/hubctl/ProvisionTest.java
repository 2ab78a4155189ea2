package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import hub.hubd.config.HubConfig;
import hub.tls.Pins;
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
        // The printed one-liner is run with the real curl. CI installs it; elsewhere, without it, skip.
        boolean required = "true".equals(System.getenv("CI")) || "required".equals(System.getenv("HUB_TEST_SERVICES"));
        boolean curl = Files.isExecutable(Path.of("/usr/bin/curl")) || Files.isExecutable(Path.of("/bin/curl"));
        if (!curl && !required) {
            org.junit.jupiter.api.Assumptions.abort("curl is not installed (CI installs it)");
        }
        Path artifact = Files.write(dir.resolve("hub-agent.tar.gz"), new byte[] {1, 2, 3});
        hub = new TestHub(HubConfig.defaults(dir.resolve("data")).withAgentArtifact(artifact));
    }

    @AfterAll
    void stop() {
        hub.close();
    }

    /** Runs a printed command line with sh, as the user would paste it; returns exit code and stdout. */
    private static String[] sh(String command) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        return new String[] {Integer.toString(p.exitValue()), out};
    }

    /** The fetch part of the one-liner (without "| sudo sh"). */
    private static String fetchPart(String oneLiner) {
        assertThat(oneLiner).endsWith(" | sudo sh");
        return oneLiner.substring(0, oneLiner.length() - " | sudo sh".length());
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void printsAPinnedOneLinerThatCurlRunsAndTheChecksumOfTheScriptItFetches() throws Exception {
        Cli.Run run = Cli.run(hub.url, hub.token, "provision", "--uses", "2", "-l", "role=web",
                "--hub-address", "10.0.0.5:7443");
        assertThat(run.code()).as(run.err()).isZero();
        String[] lines = run.out().split("\n");
        String pin = Pins.curl(hub.hub.tls().servingCertificate());
        // The token goes to curl on stdin, as a header: not in the URL, not in curl's arguments.
        String prefix = "printf 'Authorization: Bearer %s\\n' 'hjt_";
        assertThat(lines[0]).startsWith(prefix).endsWith("' | curl -fsS -k --pinnedpubkey '" + pin + "' -H @- '"
                + hub.url + "/api/v1/provisioning/script?hub=10.0.0.5%3A7443' | sudo sh");
        String curlArgs = lines[0].substring(lines[0].indexOf("| curl"));
        assertThat(curlArgs).doesNotContain("hjt_");
        // The real curl, as the user runs it: pinned to the hub's key, the token in a header.
        String[] fetched = sh(fetchPart(lines[0]));
        assertThat(fetched[0]).isEqualTo("0");
        String script = fetched[1];
        assertThat(script).startsWith("#!/bin/sh").contains("10.0.0.5:7443")
                .contains("HUB_CA_PIN='" + hub.hub.tls().caPin() + "'");
        // Each fetch of a multi-use token's script is the same, so the printed sum checks it.
        assertThat(run.out()).contains("echo '" + sha256(script) + "  hub-agent-install.sh' | sha256sum -c -");
        assertThat(run.err()).contains("2 use(s)").contains("labels role=web");
        // Another key on the address (a man in the middle): curl refuses before sending the token.
        String[] wrongKey = sh(fetchPart(lines[0]).replace(pin, "sha256//" + "A".repeat(43) + "="));
        assertThat(wrongKey[0]).isEqualTo("90"); // CURLE_SSL_PINNEDPUBKEYNOTMATCH
    }

    @Test
    void scriptPrintsTheScriptAndJsonHasTheSameFields() throws Exception {
        Cli.Run script = Cli.run(hub.url, hub.token, "provision", "--script");
        assertThat(script.code()).as(script.err()).isZero();
        assertThat(script.out()).startsWith("#!/bin/sh").contains("HUB_AGENT_HUB");

        JsonNode json = Cli.run(hub.url, hub.token, "provision", "-o", "json").json();
        assertThat(json.get("sha256").asText()).isEqualTo(sha256(sh(fetchPart(json.get("command").asText()))[1]));
        assertThat(json.get("pinnedPublicKey").asText())
                .isEqualTo(Pins.curl(hub.hub.tls().servingCertificate()));
        assertThat(json.get("url").asText()).doesNotContain("hjt_");
        assertThat(json.get("token").get("usesLeft").asInt()).isEqualTo(1);
        assertThat(json.get("token").get("caPin").asText()).isEqualTo(hub.hub.tls().caPin());
    }

    @Test
    void aRefusedTokenIsOneLineOnStderr() {
        Cli.Run run = Cli.run(hub.url, hub.token, "provision", "--ttl", "soon");
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err().strip()).startsWith("hubctl: ").doesNotContain("\n").contains("ttl");
        assertThat(run.out()).isEmpty();
    }
}

package hub.hubd.provisioning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import hub.hubd.core.HubException;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The installer script: shellcheck-clean as served, every value validated, and quoting that the
 * real {@code sh} takes literally whatever the value holds.
 */
class ProvisioningScriptTest {
    static final String TOKEN = "hjt_abcdefghijklmnopqrstuvwxyz012345";
    static final String SHA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    @TempDir
    Path dir;

    static final java.security.cert.X509Certificate CA = hub.hubd.TestTls.certificate(hub.hubd.TestTls.keys(),
            "Test CA", null, java.time.Instant.now(), java.time.Instant.now().plusSeconds(3600), null, null);
    static final String PIN = hub.tls.Pins.of(CA);

    static ProvisioningScript.Inputs inputs(List<String> addresses, Map<String, String> labels) {
        return new ProvisioningScript.Inputs(addresses, TOKEN, labels,
                URI.create("https://hub.example:8080/api/v1/provisioning/agent"), SHA, PIN, hub.tls.Pem.certificate(CA));
    }

    static ProvisioningScript.Inputs inputs(String token, URI agent, String sha) {
        return new ProvisioningScript.Inputs(List.of("h:1"), token, Map.of(), agent, sha, PIN,
                hub.tls.Pem.certificate(CA));
    }

    /** Runs a command, returns its exit code and output. */
    static String[] run(Path cwd, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + String.join(" ", cmd));
        }
        return new String[] {Integer.toString(p.exitValue()), out};
    }

    @Test
    void theServedScriptPassesShellcheck() throws Exception {
        boolean required = "true".equals(System.getenv("CI")) || "required".equals(System.getenv("HUB_TEST_SERVICES"));
        boolean present = Files.isExecutable(Path.of("/usr/bin/shellcheck"));
        if (!present) {
            if (required) {
                throw new AssertionError("shellcheck is not installed (.ci/run installs it)");
            }
            Assumptions.abort("shellcheck not installed and not required");
        }
        Path script = dir.resolve("install.sh");
        Files.writeString(script, ProvisioningScript.render(inputs(List.of("hub.example:9090", "[::1]:9091"),
                Map.of("role", "web", "zone", "eu-1"))));
        String[] r = run(dir, "shellcheck", "-s", "sh", script.toString());
        assertThat(r[0]).as(r[1]).isEqualTo("0");
    }

    @Test
    void quotedValuesAreTakenLiterallyByTheShell() throws Exception {
        for (String nasty : List.of("plain", "it's", "$(touch pwned)", "`touch pwned`", "a\"b", "x; touch pwned",
                "line\nbreak", "back\\slash", "''", "$HOME", "*")) {
            String[] r = run(dir, "sh", "-c", "v=" + ProvisioningScript.quote(nasty) + "; printf %s \"$v\"");
            assertThat(r[0]).isEqualTo("0");
            assertThat(r[1]).isEqualTo(nasty);
        }
        assertThat(Files.exists(dir.resolve("pwned"))).isFalse();
    }

    @Test
    void valuesThatAreNotWhatTheyMustBeAreRefused() {
        assertThatThrownBy(() -> ProvisioningScript.render(inputs(List.of("hub.example:9090"),
                Map.of("role", "$(touch pwned)")))).isInstanceOf(HubException.class);
        assertThatThrownBy(() -> ProvisioningScript.render(inputs(List.of("hub;rm -rf /:9090"), Map.of())))
                .isInstanceOf(HubException.class).hasMessageContaining("HOST:PORT");
        assertThatThrownBy(() -> ProvisioningScript.render(inputs(List.of("hub.example:99999"), Map.of())))
                .isInstanceOf(HubException.class);
        assertThatThrownBy(() -> ProvisioningScript.render(inputs(List.of(), Map.of())))
                .isInstanceOf(HubException.class);
        assertThatThrownBy(() -> ProvisioningScript.render(inputs("hjt_x'; rm -rf /", URI.create("https://h/a"), SHA)))
                .isInstanceOf(HubException.class);
        assertThatThrownBy(() -> ProvisioningScript.render(inputs(TOKEN, URI.create("file:///etc/passwd"), SHA)))
                .isInstanceOf(HubException.class);
        assertThatThrownBy(() -> ProvisioningScript.render(inputs(TOKEN, URI.create("https://h/a"), "nope")))
                .isInstanceOf(HubException.class);
        // With TLS the agent's download must be https, and the pin and certificate well-formed.
        assertThatThrownBy(() -> ProvisioningScript.render(inputs(TOKEN, URI.create("http://h/a"), SHA)))
                .isInstanceOf(HubException.class).hasMessageContaining("https");
        assertThatThrownBy(() -> ProvisioningScript.render(new ProvisioningScript.Inputs(List.of("h:1"), TOKEN,
                Map.of(), URI.create("https://h/a"), SHA, "sha256:'; touch pwned", hub.tls.Pem.certificate(CA))))
                .isInstanceOf(HubException.class);
        assertThatThrownBy(() -> ProvisioningScript.render(new ProvisioningScript.Inputs(List.of("h:1"), TOKEN,
                Map.of(), URI.create("https://h/a"), SHA, PIN, "-----BEGIN CERTIFICATE-----\n'$(touch pwned)'\n")))
                .isInstanceOf(HubException.class);
    }

    @Test
    void everyPlaceholderIsFilledAndTheValuesAreQuoted() {
        String s = ProvisioningScript.render(inputs(List.of("hub.example:9090", "10.0.0.2:9090"), Map.of("role", "web")));
        assertThat(s).doesNotContain("@HUB_ADDRESSES@", "@JOIN_TOKEN@", "@NODE_LABELS@", "@AGENT_URL@",
                "@AGENT_SHA256@", "@HUB_CA_PIN@", "@HUB_CA_PEM@");
        assertThat(s).contains("HUB_ADDRESSES='hub.example:9090,10.0.0.2:9090'")
                .contains("JOIN_TOKEN='" + TOKEN + "'").contains("NODE_LABELS='role=web'")
                .contains("AGENT_SHA256='" + SHA + "'").startsWith("#!/bin/sh\n")
                .contains("HUB_CA_PIN='" + PIN + "'").contains("HUB_CA_PEM='" + hub.tls.Pem.certificate(CA) + "'")
                // the agent is configured to pin the hub, and the script's own downloads verify it
                .contains("echo \"HUB_AGENT_CA_PIN=$HUB_CA_PIN\"").contains("--cacert \"$tmp/hub-ca.pem\"");
    }

    @Test
    void uninstallWithDryRunPrintsWhatItWouldRemoveAndChangesNothing() throws Exception {
        Path script = dir.resolve("install.sh");
        Files.writeString(script, ProvisioningScript.render(inputs(List.of("hub.example:9090"), Map.of())));
        Path prefix = dir.resolve("root");
        Files.createDirectories(prefix.resolve("etc/systemd/system"));
        Files.writeString(prefix.resolve("etc/systemd/system/hub-agent.service"), "[Unit]\n");
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path systemctl = bin.resolve("systemctl");
        Files.writeString(systemctl, "#!/bin/sh\necho \"systemctl $*\" >> \"$(dirname \"$0\")/calls\"\n");
        systemctl.toFile().setExecutable(true);
        String[] r = run(dir, "env", "PATH=" + bin + ":/usr/bin:/bin", "HUB_PREFIX=" + prefix, "sh", script.toString(),
                "--uninstall", "--dry-run");
        assertThat(r[0]).as(r[1]).isEqualTo("0");
        assertThat(r[1]).contains("would run: rm -f " + prefix + "/etc/systemd/system/hub-agent.service")
                .contains("would run: rm -rf " + prefix + "/opt/hub-agent");
        assertThat(Files.exists(prefix.resolve("etc/systemd/system/hub-agent.service"))).isTrue();
        assertThat(Files.exists(bin.resolve("calls"))).isFalse();
        String[] bad = run(dir, "env", "PATH=" + bin + ":/usr/bin:/bin", "HUB_PREFIX=" + prefix, "sh",
                script.toString(), "--frobnicate");
        assertThat(bad[0]).isEqualTo("2");
        assertThat(bad[1]).contains("unknown option --frobnicate");
    }
}

package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;

import hub.agent.AgentConnection;
import hub.hubd.TestTls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tab completion of live node names and label selectors: in the shell (JLine), and in bash through
 * the script {@code hubctl completion bash} prints, run by a real bash against a real hub with a
 * real hubctl process answering {@code __complete}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CompletionTest {
    TestHub hub;
    AgentConnection web;
    Path bin;
    Path script;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        hub = new TestHub(dir);
        web = hub.agent("web-1", "role=web", "env=prod");
        hub.agent("db-1", "role=db");
        // a hubctl on PATH: this test's classes, in a JVM of their own
        bin = Files.createDirectories(dir.resolve("bin"));
        Path hubctl = bin.resolve("hubctl");
        Files.writeString(hubctl, "#!/bin/sh\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java")
                + "' -Xshare:auto -XX:TieredStopAtLevel=1 -cp '" + System.getProperty("java.class.path")
                + "' hub.hubctl.HubctlMain \"$@\"\n");
        hubctl.toFile().setExecutable(true);
        script = dir.resolve("hubctl.bash");
        Cli.Run printed = Cli.runWith(java.util.Map.of(), "completion", "bash");
        assertThat(printed.code()).isZero();
        Files.writeString(script, printed.out());
    }

    @AfterAll
    void stop() {
        hub.close();
    }

    HubctlCommand.Session settings() {
        return new HubctlCommand.Session(hub.url, hub.token, null, false,
                TestTls.caFile(hub.hub).toString());
    }

    @Test
    void theShellCompletesLabelKeysThenValuesAfterEachComma(@TempDir Path home) throws Exception {
        try (ShellSession s = new ShellSession(home, settings())) {
            // ShellSession drops a trailing '=': "role=" reads as "role"
            assertThat(s.complete("nodes ls -l ")).contains("role", "env", "role=web", "role=db", "env=prod");
            assertThat(s.complete("exec -l role=w")).containsExactly("role=web");
            assertThat(s.complete("nodes ls -l role=web,e")).containsExactly("role=web,env", "role=web,env=prod");
            assertThat(s.complete("events -l !")).containsExactlyInAnyOrder("!env", "!role");
            assertThat(s.complete("nodes rm --label=ro")).contains("--label=role", "--label=role=web");
            assertThat(s.complete("nodes ls -l env=prod,!r")).containsExactly("env=prod,!role");
            assertThat(s.complete("nodes show ")).contains("web-1", "db-1"); // not labels: a node
        }
    }

    /** Runs the completion function for {@code line} (cursor at its end) in bash; what COMPREPLY holds. */
    List<String> bash(String line) throws Exception {
        String program = "source '" + script + "'\n"
                + "COMP_LINE=" + quote(line) + "; COMP_POINT=${#COMP_LINE}\n"
                + "read -r -a COMP_WORDS <<< \"$COMP_LINE\"; COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
                + "_hubctl\n"
                + "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", program);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().put("HUB_URL", hub.url);
        pb.environment().put("HUB_TOKEN", hub.token);
        pb.environment().put("HUB_CA", TestTls.caFile(hub.hub).toString());
        pb.environment().remove("HUB_CONTEXT");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return Arrays.stream(out.split("\n")).filter(l -> !l.isEmpty()).toList();
    }

    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    @Test
    void bashCompletesCommandsLiveNodeNamesAndLabelSelectors() throws Exception {
        assertThat(bash("hubctl no")).containsExactly("nodes");
        assertThat(bash("hubctl nodes show ")).contains("web-1", "db-1", web.nodeId());
        assertThat(bash("hubctl exec w")).contains("web-1");
        // bash splits words at '=' and ',' is not a break: readline replaces what follows the last '='
        assertThat(bash("hubctl exec -l ro")).contains("role=", "role=web", "role=db");
        assertThat(bash("hubctl exec -l role=w")).containsExactly("web");
        assertThat(bash("hubctl nodes ls -l role=web,e")).containsExactly("web,env=", "web,env=prod");
        assertThat(bash("hubctl events --label=!e")).containsExactly("!env");
        assertThat(bash("hubctl nodes ls --st")).containsExactly("--status");
    }

    @Test
    void withoutAHubBashStillCompletesCommandsAndOptions() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "source '" + script + "'\n"
                + "COMP_LINE='hubctl --hub https://127.0.0.1:1 nodes show '; COMP_POINT=${#COMP_LINE}\n"
                + "COMP_WORDS=(hubctl --hub https://127.0.0.1:1 nodes show ''); COMP_CWORD=5\n"
                + "_hubctl; printf 'show:%s\\n' \"${COMPREPLY[@]}\"\n"
                + "COMP_LINE='hubctl --hub https://127.0.0.1:1 tok'; COMP_POINT=${#COMP_LINE}; _hubctl\n"
                + "printf '%s\\n' \"${COMPREPLY[@]}\"\n");
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        // the line's own --hub is asked and answers nothing: no node names, only show's options
        assertThat(out.lines().filter(l -> l.startsWith("show:")).toList()).isNotEmpty()
                .allMatch(l -> l.startsWith("show:-")).contains("show:--help");
        assertThat(out.lines().filter(l -> !l.startsWith("show:")).toList()).containsExactly("tokens");
    }
}

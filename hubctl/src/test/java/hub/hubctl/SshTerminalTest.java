package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.hubd.TestTls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hubctl ssh} as a person uses it: a real hubctl process in a real terminal (tmux), against
 * a real hub and agent with a real pseudo-terminal on the node. Keys are typed with tmux send-keys
 * and the screen read with capture-pane.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SshTerminalTest {
    TestHub hub;
    Path dir;
    Path hubctl;
    String socket;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        this.dir = dir;
        hub = new TestHub(dir);
        hub.agent("box-1", "role=term");
        Path bin = Files.createDirectories(dir.resolve("bin"));
        hubctl = bin.resolve("hubctl");
        Files.writeString(hubctl, "#!/bin/sh\nexport HUB_URL='" + hub.url + "' HUB_TOKEN='" + hub.token
                + "' HUB_CA='" + TestTls.caFile(hub.hub) + "'\nexec '" + Path.of(System.getProperty("java.home"),
                "bin", "java") + "' -Xshare:auto -XX:TieredStopAtLevel=1 -cp '" + System.getProperty("java.class.path")
                + "' hub.hubctl.HubctlMain \"$@\"\n");
        hubctl.toFile().setExecutable(true);
        socket = "hubctl-test-" + ProcessHandle.current().pid();
    }

    @AfterAll
    void stop() throws Exception {
        tmux("kill-server");
        hub.close();
    }

    private String tmux(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("tmux", "-L", socket, "-f", "/dev/null"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    /** Starts {@code command} in a new tmux session of that size; its exit status goes to a file. */
    private Path window(String name, int columns, int rows, String command) throws Exception {
        Path status = dir.resolve(name + ".status");
        tmux("new-session", "-d", "-s", name, "-x", Integer.toString(columns), "-y", Integer.toString(rows),
                "env TERM=xterm-256color LANG=C.UTF-8 " + command + "; echo $? > " + status + "; sleep 60");
        return status;
    }

    private String screen(String name) throws Exception {
        return tmux("capture-pane", "-p", "-t", name);
    }

    /** Waits for {@code text} on the screen (capture-pane drops trailing spaces: give none). */
    private void awaitScreen(String name, String text) {
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> screen(name).contains(text));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            try {
                throw new AssertionError("no '" + text + "' on the screen:\n" + screen(name) + "\nsessions: "
                        + tmux("list-sessions") + "\nstatus: " + (Files.exists(dir.resolve(name + ".status"))
                        ? Files.readString(dir.resolve(name + ".status")) : "none"), e);
            } catch (Exception x) {
                throw new AssertionError(x);
            }
        }
    }

    private void keys(String name, String... keys) throws Exception {
        List<String> a = new ArrayList<>(List.of("send-keys", "-t", name));
        a.addAll(List.of(keys));
        tmux(a.toArray(String[]::new));
    }

    private int exitStatus(Path status) {
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(status) && !Files.readString(status).isBlank());
        try {
            return Integer.parseInt(Files.readString(status).strip());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aShellOnTheNodeFeelsLikeSsh() throws Exception {
        // A shell without the machine's rc files: the test is about the terminal, not root's .bashrc.
        Path status = window("s1", 100, 30, hubctl + " ssh box-1 -- \"exec env PS1='tp> ' bash --norc --noprofile -i\"");
        awaitScreen("s1", "tp>");
        keys("s1", "tty; stty size", "Enter");
        awaitScreen("s1", "30 100");
        assertThat(screen("s1")).contains("/dev/pts/");
        tmux("resize-window", "-t", "s1", "-x", "120", "-y", "40");
        // The new size travels as SIGWINCH to hubctl, then to the hub and the node: ask until it is there.
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            keys("s1", "clear; stty size", "Enter");
            return screen("s1").contains("40 120");
        });

        // Ctrl-C reaches the remote sleep (the local hubctl goes on).
        keys("s1", "sleep 100", "Enter");
        Thread.sleep(500); // let the shell start sleep: a Ctrl-C before it would only clear the line
        keys("s1", "C-c");
        keys("s1", "echo rc=$?", "Enter");
        awaitScreen("s1", "rc=130");

        // vi opens full screen, writes a file and quits; the shell's screen comes back.
        Path file = dir.resolve("from-vi.txt");
        keys("s1", "vi " + file, "Enter");
        awaitScreen("s1", "~");
        keys("s1", "ihello from vi", "Escape", ":wq", "Enter");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(file));
        assertThat(Files.readString(file)).isEqualTo("hello from vi\n");

        // Someone joins and sees the live output; the owner is told.
        String id = Cli.run(hub.url, hub.token, "sessions", "ls", "box-1", "-o", "name").out().lines()
                .findFirst().orElseThrow();
        Path joined = window("j1", 100, 30, hubctl + " sessions join " + id);
        awaitScreen("s1", "joined this session");
        keys("s1", "echo live-$((40+2))", "Enter");
        awaitScreen("j1", "live-42");

        keys("s1", "exit 3", "Enter");
        assertThat(exitStatus(status)).isEqualTo(3);
        assertThat(exitStatus(joined)).isZero(); // the session ended: the watcher leaves cleanly

        // The session is in the history as text, listed, and plays back.
        Cli.Run history = Cli.run(hub.url, hub.token, "history", "box-1", "--tail", "100");
        assertThat(history.out()).contains("stty size").contains("live-42").doesNotContain("\u001b")
                .doesNotContain("INSERT"); // vi's screen is not history
        Cli.Run ls = Cli.run(hub.url, hub.token, "sessions", "ls");
        assertThat(ls.out()).contains(id).contains("exited 3").contains("box-1");
        Cli.Bytes played = Cli.runBytes(hub.url, hub.token, new byte[0], "sessions", "play", id, "--speed", "0");
        assertThat(played.code()).isZero();
        assertThat(new String(played.stdout(), StandardCharsets.UTF_8)).contains("live-42").contains("40 120");
    }

    @Test
    void tildeDotDisconnectsAndExitCodesFollowSsh() throws Exception {
        Path status = window("s2", 80, 24, hubctl + " ssh box-1 -- \"exec env PS1='tp> ' bash --norc --noprofile -i\"");
        awaitScreen("s2", "tp>");
        keys("s2", "Enter", "~", ".");
        assertThat(exitStatus(status)).isEqualTo(255);
        assertThat(screen("s2")).contains("disconnected (~.)");

        // A command on a terminal; an unknown node is the hub's 404 with exit 255.
        Path cmd = window("s3", 80, 24, hubctl + " ssh box-1 -- 'tty; exit 7'");
        assertThat(exitStatus(cmd)).isEqualTo(7);
        awaitScreen("s3", "/dev/pts/");
        Cli.Run missing = Cli.runWith(Map.of("HUB_URL", hub.url, "HUB_TOKEN", hub.token, "HUB_CA",
                TestTls.caFile(hub.hub).toString()), "ssh", "no-such-node");
        assertThat(missing.code()).isEqualTo(255);
        assertThat(missing.err()).contains("no-such-node");
    }
}

package hub.agent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class AgentCommandLineTest {
    @Test
    void simulateTakesTheHubOptionsAfterTheSubcommandToo() {
        AgentMain main = new AgentMain();
        new CommandLine(main).parseArgs("simulate", "--count", "3", "--hub", "h:1", "--join-token", "hjt_x",
                "-l", "k=v");
        assertThat(main.hub).isEqualTo("h:1");
        assertThat(main.joinToken).isEqualTo("hjt_x");
        assertThat(main.labels).containsEntry("k", "v");
    }

    @Test
    void badHubAddressIsAUsageErrorWithExit2() {
        java.io.StringWriter err = new java.io.StringWriter();
        CommandLine cli = AgentMain.commandLine();
        cli.setErr(new java.io.PrintWriter(err, true));
        int code = cli.execute("--hub", "nohost", "--join-token", "hjt_x", "--state-dir", "/tmp/x");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("invalid hub address 'nohost'");
    }

    private static String[] run(StringBuilder errOut, String... args) {
        java.io.StringWriter err = new java.io.StringWriter();
        CommandLine cli = AgentMain.commandLine();
        cli.setErr(new java.io.PrintWriter(err, true));
        int code = cli.execute(args);
        errOut.append(err);
        return new String[] {Integer.toString(code)};
    }

    @Test
    void withoutAWayToVerifyTheHubItDoesNotStart() {
        StringBuilder err = new StringBuilder();
        String[] r = run(err, "--hub", "127.0.0.1:1", "--join-token", "hjt_x", "--state-dir", "/tmp/agent-none");
        assertThat(r[0]).isEqualTo("2");
        assertThat(err.toString().strip()).startsWith("hub-agent: no way to verify the hub: give --ca-pin sha256:")
                .doesNotContain("\n");
    }

    @Test
    void aBadPinOrTwoWaysAtOnceAreUsageErrors() {
        StringBuilder err = new StringBuilder();
        assertThat(run(err, "--hub", "127.0.0.1:1", "--ca-pin", "sha256:nothex", "--join-token", "hjt_x",
                "--state-dir", "/tmp/agent-bad")[0]).isEqualTo("2");
        assertThat(err).contains("invalid CA pin 'sha256:nothex'");
        StringBuilder two = new StringBuilder();
        assertThat(run(two, "--hub", "127.0.0.1:1", "--ca-pin", "sha256:" + "0".repeat(64), "--insecure-skip-verify",
                "--join-token", "hjt_x", "--state-dir", "/tmp/agent-two")[0]).isEqualTo("2");
        assertThat(two).contains("give one of --ca-pin, --ca-file, --insecure-skip-verify");
    }

    @Test
    void skipVerifyAndPlaintextAreExplicitChoices() {
        AgentMain main = new AgentMain();
        new CommandLine(main).parseArgs("--hub", "h:1", "--insecure-skip-verify");
        assertThat(main.trust()).isNotNull();
        AgentMain plain = new AgentMain();
        new CommandLine(plain).parseArgs("--hub", "h:1", "--insecure-plaintext");
        assertThat(plain.trust()).isNull();
        AgentMain pinned = new AgentMain();
        new CommandLine(pinned).parseArgs("--hub", "h:1", "--ca-pin", "SHA256:" + "AB".repeat(32));
        assertThat(pinned.trust()).isNotNull();
    }
}

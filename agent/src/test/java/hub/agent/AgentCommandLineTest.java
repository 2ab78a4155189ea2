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
}

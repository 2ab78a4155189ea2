package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** hubctl builds only the subcommand a run needs (start-up); these keep that from changing what runs. */
class CommandModelTest {

    @Test
    void theSubcommandTableMatchesEachCommandsOwnName() {
        for (Map.Entry<String, Class<?>> e : HubctlMain.SUBCOMMANDS.entrySet()) {
            assertThat(e.getValue().getAnnotation(CommandLine.Command.class).name()).isEqualTo(e.getKey());
        }
        assertThat(HubctlMain.commandLine().getSubcommands().keySet())
                .containsAll(HubctlMain.SUBCOMMANDS.keySet());
    }

    @Test
    void findsTheSubcommandAfterRootOptionsAndTheirValues() {
        assertThat(HubctlMain.subcommandOf(new String[] {"nodes", "ls"})).isEqualTo("nodes");
        assertThat(HubctlMain.subcommandOf(new String[] {"--hub", "http://h:1", "-o", "json", "status"}))
                .isEqualTo("status");
        assertThat(HubctlMain.subcommandOf(new String[] {"--hub=http://h:1", "-ojson", "tokens", "ls"}))
                .isEqualTo("tokens");
        assertThat(HubctlMain.subcommandOf(new String[] {"--color", "never", "--version"})).isNull();
    }

    @Test
    void aRunBuildsOnlyTheSubcommandItNames() {
        CommandLine cli = HubctlMain.commandLineFor(new HubctlCommand(Map.of()), new String[] {"nodes", "ls"});
        assertThat(cli.getSubcommands().keySet()).containsExactly("nodes");
        assertThat(cli.getSubcommands().get("nodes").getSubcommands()).containsKeys("ls", "show", "rm");
        // Inherited root options reach the subcommand built on its own.
        assertThat(cli.getSubcommands().get("nodes").getSubcommands().get("ls").getCommandSpec()
                .findOption("--hub")).isNotNull();

        assertThat(HubctlMain.commandLineFor(new HubctlCommand(Map.of()), new String[] {"--version"})
                .getSubcommands()).isEmpty();
    }

    @Test
    void helpCompletionShellAndUnknownNamesGetEverySubcommand() {
        for (String[] args : new String[][] {{"--help"}, {}, {"help", "nodes"}, {"shell"}, {"nodez"}}) {
            assertThat(HubctlMain.commandLineFor(new HubctlCommand(Map.of()), args).getSubcommands().keySet())
                    .as(String.join(" ", args)).containsAll(HubctlMain.SUBCOMMANDS.keySet());
        }
    }

    @Test
    void completionOffersEveryCommandAndTheOptionsOfEach() {
        var out = new java.io.ByteArrayOutputStream();
        Completions.run("hubctl ", Map.of(), new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
        assertThat(out.toString(java.nio.charset.StandardCharsets.UTF_8).lines().toList())
                .containsAll(HubctlMain.SUBCOMMANDS.keySet());
        out.reset();
        Completions.run("hubctl exec --par", Map.of(), new java.io.PrintStream(out, true,
                java.nio.charset.StandardCharsets.UTF_8));
        assertThat(out.toString(java.nio.charset.StandardCharsets.UTF_8).strip()).isEqualTo("--parallel");
    }

    @Test
    void aTypoSuggestsTheCommandAndExecOptionsBeforeDashDashSayWhereTheCommandGoes() {
        Cli.Run typo = Cli.runWith(Map.of(), "nods");
        assertThat(typo.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(typo.err()).startsWith("hubctl: ").contains("did you mean 'nodes'?");
        Cli.Run exec = Cli.runWith(Map.of(), "exec", "web-1", "ls", "-la");
        assertThat(exec.code()).isEqualTo(ExitCodes.USAGE);
        // -la reads as exec's -l a: either way the answer says where the command goes
        assertThat(exec.err()).contains("put the remote command after --: hubctl exec NODE -- COMMAND");
        Cli.Run unknown = Cli.runWith(Map.of(), "exec", "web-1", "ls", "--frobnicate");
        assertThat(unknown.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknown.err()).contains("put the remote command after --");
    }
}

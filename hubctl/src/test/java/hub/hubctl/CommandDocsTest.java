package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every command documents its exit status and has examples, in --help and in its man page, and every
 * example is a command line hubctl accepts, so the examples cannot drift from the options.
 */
class CommandDocsTest {
    static List<CommandLine> all(CommandLine cli) {
        List<CommandLine> out = new ArrayList<>(List.of(cli));
        cli.getSubcommands().values().stream().distinct().forEach(s -> out.addAll(all(s)));
        return out;
    }

    @Test
    void everyCommandHasExamplesAndEveryBlockNamesACommand() {
        List<String> names = all(HubctlMain.commandLine()).stream().map(c -> c.getCommandSpec().qualifiedName()).toList();
        assertThat(names).hasSizeGreaterThan(40);
        Map<String, Docs.Entry> docs = Docs.entries();
        assertThat(docs.keySet()).containsExactlyInAnyOrderElementsOf(names);
        docs.forEach((name, e) -> assertThat(e.examples()).as(name).isNotEmpty()
                .allMatch(x -> x.contains(name), "shows " + name));
    }

    /** The hubctl command line in an example: from "hubctl " to the end of its pipeline stage. */
    static String invocation(String example) {
        String x = example.contains("   # ") ? example.substring(0, example.indexOf("   # ")) : example;
        int start = x.indexOf("hubctl ");
        StringBuilder sb = new StringBuilder();
        char quote = 0;
        for (int i = start + "hubctl ".length(); i < x.length(); i++) {
            char c = x.charAt(i);
            if (quote == 0 && "|<>;)".indexOf(c) >= 0) {
                break;
            }
            if (c == '\'' || c == '"') {
                quote = quote == 0 ? c : quote == c ? 0 : quote;
            }
            sb.append(c);
        }
        return sb.toString().strip();
    }

    @Test
    void everyExampleParses() {
        Docs.entries().forEach((name, e) -> {
            for (String x : e.examples()) {
                String[] args = Completions.Words.split(invocation(x)).words().stream().filter(w -> !w.isEmpty())
                        .toArray(String[]::new);
                assertThatCode(() -> HubctlMain.commandLine().parseArgs(args)).as(x).doesNotThrowAnyException();
            }
        });
        assertThat(invocation("tar c site | hubctl exec web-1 -- tar x -C /srv   # stdin"))
                .isEqualTo("exec web-1 -- tar x -C /srv");
        assertThat(invocation("source <(hubctl completion bash)")).isEqualTo("completion bash");
    }

    @Test
    void helpShowsExitStatusAndExamplesWithPercentSignsIntact() {
        Cli.Run exec = Cli.runWith(Map.of(), "exec", "--help");
        assertThat(exec.out()).contains("Exit status:", "255", "Examples:", "--parallel 25% --max-errors 2")
                .doesNotContain("%%");
        assertThat(exec.err()).doesNotContain("WARN");
        Cli.Run ls = Cli.runWith(Map.of(), "tokens", "ls", "--help");
        assertThat(ls.out()).contains("Exit status:", "usage error", "Examples:", "hubctl tokens ls");
        Cli.Run root = Cli.runWith(Map.of(), "--help");
        assertThat(root.out()).contains("Examples:", "Environment:", "HUB_URL");
    }

    @Test
    void everyManPageHasExitStatusAndExamplesSections(@TempDir Path dir) throws Exception {
        ManPages.main(new String[] {dir.toString()});
        List<Path> pages;
        try (Stream<Path> s = Files.list(dir)) {
            pages = s.filter(p -> p.toString().endsWith(".adoc")).toList();
        }
        assertThat(pages).hasSizeGreaterThan(40);
        for (Path p : pages) {
            String text = Files.readString(p);
            assertThat(text).as(p.getFileName().toString()).containsPattern("(?m)^==\\s+Exit status$")
                    .containsPattern("(?m)^==\\s+Examples$").doesNotContain("Exit status:");
        }
        assertThat(Files.readString(dir.resolve("hubctl.adoc"))).contains("== Environment\n", "HUBCTL_CONFIG");
    }
}

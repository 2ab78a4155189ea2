package hub.hubctl;

import java.util.List;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;
import picocli.CommandLine;

/**
 * Completes a shell line as bash completion does ({@link Completions}): subcommands, options, and the
 * candidates of options and positional parameters, including the live ones ({@link LiveValues}) and
 * label selectors part by part. picocli-shell-jline3's own completer does not offer positional
 * candidates (node names), so this completes the whole line itself.
 */
final class ShellCompleter implements Completer {
    private static final List<String> BUILTINS = List.of("exit", "quit", "clear");

    private final CommandLine cli;

    ShellCompleter(CommandLine cli) {
        this.cli = cli;
    }

    @Override
    public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
        List<String> words = line.words();
        int index = line.wordIndex();
        String word = index < words.size() ? words.get(index) : "";
        String prefix = word.substring(0, Math.min(line.wordCursor(), word.length()));
        if (index == 0) {
            for (String b : BUILTINS) {
                if (b.startsWith(prefix)) {
                    candidates.add(new Candidate(b, b, "shell", null, null, null, true));
                }
            }
        }
        for (String value : Completions.candidates(cli, words, index, prefix)) {
            candidates.add(new Candidate(value, value, null, null, null, null, !value.endsWith("=")));
        }
    }
}

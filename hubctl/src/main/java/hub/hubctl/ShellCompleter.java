package hub.hubctl;

import java.util.ArrayList;
import java.util.List;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;
import picocli.AutoComplete;
import picocli.CommandLine;

/**
 * Completes a shell line from hubctl's picocli model: subcommands, options, and the candidates of
 * options and positional parameters, including the live ones ({@link LiveValues}). picocli-shell-jline3's
 * own completer does not offer positional candidates (node names), so this calls
 * {@link AutoComplete#complete} for the whole line itself.
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
        List<CharSequence> suffixes = new ArrayList<>();
        AutoComplete.complete(cli.getCommandSpec(), words.toArray(String[]::new), index, prefix.length(),
                line.cursor(), suffixes);
        // As bash and kubectl do: options are offered once a '-' is typed, unless nothing else fits,
        // so that Tab after "nodes show " goes straight to the node names.
        boolean valuesOnly = !prefix.startsWith("-")
                && suffixes.stream().anyMatch(s -> !(prefix + s).startsWith("-"));
        for (CharSequence s : suffixes) {
            String value = prefix + s;
            if (valuesOnly && value.startsWith("-")) {
                continue;
            }
            candidates.add(new Candidate(value, value, null, null, null, null, true));
        }
    }
}

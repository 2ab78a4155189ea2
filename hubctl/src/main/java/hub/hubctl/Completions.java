package hub.hubctl;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * What Tab offers, for the shell's JLine completer and for bash/zsh ({@code hubctl __complete}):
 * subcommands, options and their candidates from the picocli model, live values from the hub
 * (node names, label keys and values, ids), and label selectors part by part (after the last comma,
 * a key as {@code key=}, then its values, or {@code !key}).
 *
 * <p>bash and zsh ask through a small script ({@link #script}) that runs
 * {@code hubctl __complete LINE} with the line up to the cursor; hubctl answers one candidate per
 * line, cut where readline starts the word it replaces (after the last of {@code COMP_WORDBREAKS},
 * so {@code team=we} completes although bash splits at {@code =}). Nothing is generated into the
 * script, so it never goes stale when hubctl or the fleet changes.
 */
final class Completions {
    /** bash's default {@code COMP_WORDBREAKS}, when the caller gives none (zsh's bashcompinit). */
    static final String DEFAULT_WORDBREAKS = " \t\n\"'@><=;|&(:";

    private Completions() {
    }

    /**
     * The candidates (whole words) for {@code words[index]}, of which {@code prefix} is typed. Options
     * are offered once a '-' is typed, unless nothing else fits (as bash and kubectl do), so Tab after
     * "nodes show " goes straight to the node names.
     */
    static List<String> candidates(CommandLine cli, List<String> words, int index, String prefix) {
        List<String> selector = selectorCandidates(cli.getCommandSpec(), words, index, prefix);
        if (selector != null) {
            return selector;
        }
        List<CharSequence> suffixes = new ArrayList<>();
        AutoComplete.complete(cli.getCommandSpec(), words.toArray(String[]::new), index, prefix.length(),
                String.join(" ", words).length(), suffixes);
        boolean valuesOnly = !prefix.startsWith("-") && suffixes.stream().anyMatch(s -> !(prefix + s).startsWith("-"));
        Set<String> out = new LinkedHashSet<>();
        for (CharSequence s : suffixes) {
            String value = prefix + s;
            if (!(valuesOnly && value.startsWith("-"))) {
                out.add(value);
            }
        }
        return List.copyOf(out);
    }

    /**
     * For the value of an option whose candidates are {@link LiveValues.Labels} (given as the next
     * word or after {@code =}): the live selector parts that complete the text after its last comma;
     * {@code null} when the word is not such a value.
     */
    private static List<String> selectorCandidates(CommandSpec root, List<String> words, int index, String prefix) {
        CommandSpec spec = root;
        for (int i = 0; i < index && i < words.size(); i++) {
            CommandLine sub = spec.subcommands().get(words.get(i));
            if (sub != null) {
                spec = sub.getCommandSpec();
            }
        }
        String value;
        String lead;
        OptionSpec option;
        int eq = prefix.indexOf('=');
        if (prefix.startsWith("-") && eq > 0) {
            option = spec.findOption(prefix.substring(0, eq));
            lead = prefix.substring(0, eq + 1);
            value = prefix.substring(eq + 1);
        } else if (index > 0 && !prefix.startsWith("-")) {
            option = spec.findOption(words.get(index - 1));
            lead = "";
            value = prefix;
        } else {
            return null;
        }
        if (option == null || !(option.completionCandidates() instanceof LiveValues.Labels labels)) {
            return null;
        }
        int comma = value.lastIndexOf(',');
        String head = lead + value.substring(0, comma + 1);
        String part = value.substring(comma + 1);
        boolean not = part.startsWith("!");
        String typed = not ? part.substring(1) : part;
        List<String> out = new ArrayList<>();
        for (String c : labels) {
            if (not) {
                if (c.endsWith("=") && c.startsWith(typed)) {
                    out.add(head + "!" + c.substring(0, c.length() - 1));
                }
            } else if (c.startsWith(typed)) {
                out.add(head + c);
            }
        }
        return out;
    }

    /**
     * {@code hubctl __complete LINE}: prints the candidates for the last word of LINE (the command
     * line up to the cursor, as bash's {@code COMP_LINE}), each from where readline's word starts.
     * The hub is the one the line's own {@code --hub}/{@code --context}/{@code --token} options name,
     * else the environment's and the current context's. Never fails: no hub, no live candidates.
     */
    static int run(String line, Map<String, String> env, PrintStream out) {
        Words w = Words.split(line);
        List<String> words = w.words().isEmpty() ? List.of() : w.words().subList(1, w.words().size());
        int index = words.size() - 1;
        if (index < 0) {
            return 0;
        }
        HubctlCommand root = new HubctlCommand(env);
        rootOptions(root, words);
        CommandLine cli = HubctlMain.commandLine(root, LiveValues.factory(new LiveValues.Cache(() -> root,
                System::nanoTime)));
        String current = words.get(index);
        String breaks = env.getOrDefault("COMP_WORDBREAKS", DEFAULT_WORDBREAKS);
        int cut = 0;
        for (int i = 0; i < current.length(); i++) {
            if (breaks.indexOf(current.charAt(i)) >= 0) {
                cut = i + 1;
            }
        }
        for (String c : candidates(cli, words, index, current)) {
            if (c.length() >= cut) {
                out.println(c.substring(cut));
            }
        }
        out.flush();
        return 0;
    }

    /** Sets the root options that come before the subcommand (a hub, context or token to ask). */
    private static void rootOptions(HubctlCommand root, List<String> words) {
        List<String> lead = new ArrayList<>();
        String[] all = words.subList(0, words.size() - 1).toArray(String[]::new);
        String sub = HubctlMain.subcommandOf(all);
        for (String a : all) {
            if (a.equals(sub)) {
                break;
            }
            lead.add(a);
        }
        try {
            new CommandLine(root).setUnmatchedArgumentsAllowed(true).parseArgs(lead.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            // an option being typed: complete against the defaults
        }
    }

    /** The words of a shell line, unquoted, with an empty last word when it ends in a space. */
    record Words(List<String> words) {
        static Words split(String line) {
            List<String> words = new ArrayList<>();
            StringBuilder cur = new StringBuilder();
            boolean inWord = false;
            char quote = 0;
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (quote != 0) {
                    if (c == quote) {
                        quote = 0;
                    } else if (c == '\\' && quote == '"' && i + 1 < line.length()) {
                        cur.append(line.charAt(++i));
                    } else {
                        cur.append(c);
                    }
                } else if (c == '\'' || c == '"') {
                    quote = c;
                    inWord = true;
                } else if (c == '\\' && i + 1 < line.length()) {
                    cur.append(line.charAt(++i));
                    inWord = true;
                } else if (Character.isWhitespace(c)) {
                    if (inWord) {
                        words.add(cur.toString());
                        cur.setLength(0);
                        inWord = false;
                    }
                } else {
                    cur.append(c);
                    inWord = true;
                }
            }
            if (inWord || quote != 0 || line.isEmpty() || Character.isWhitespace(line.charAt(line.length() - 1))) {
                words.add(cur.toString());
            }
            return new Words(words);
        }
    }

    /**
     * The completion script for bash (and zsh through bashcompinit): it hands the line up to the
     * cursor to {@code hubctl __complete}, and does not add a space after {@code key=}.
     */
    static String script() {
        return """
                # hubctl completion for bash, and zsh through bashcompinit. hubctl itself works out
                # what fits the line up to the cursor: commands, options, and live node names, label
                # keys and values and ids from the hub the line (or the current context) points at.
                _hubctl() {
                    local IFS=$'\\n' out c
                    out=$(COMP_WORDBREAKS="${COMP_WORDBREAKS-}" "${COMP_WORDS[0]}" __complete \\
                        "${COMP_LINE:0:COMP_POINT}" 2>/dev/null) || return 0
                    COMPREPLY=($out)
                    for c in "${COMPREPLY[@]}"; do
                        if [[ $c == *= ]]; then
                            type compopt >/dev/null 2>&1 && compopt -o nospace 2>/dev/null
                            break
                        fi
                    done
                }
                complete -o default -F _hubctl hubctl
                """;
    }
}

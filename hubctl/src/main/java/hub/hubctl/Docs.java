package hub.hubctl;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * The exit status and examples of every command, from {@code command-docs.txt}, put on the command
 * model so that {@code --help} shows them and the man pages get EXIT STATUS and EXAMPLES sections
 * from the same text. Kept apart from the annotations so that a page's examples read as a block,
 * and a test can check that every one of them parses.
 */
final class Docs {
    /** The exit codes of a command that has no list of its own. */
    static final Map<String, String> COMMON = ordered(
            "0", "success",
            "1", "the hub answered an error, or could not be reached",
            "2", "usage error: a bad option or argument",
            "130", "interrupted (Ctrl-C)");

    private static final Pattern EXIT = Pattern.compile("(\\d+|N): (.+)");

    /** One command's block: its exit codes (empty for {@link #COMMON}) and examples, as written. */
    record Entry(Map<String, String> exitCodes, List<String> examples) {
    }

    private static volatile Map<String, Entry> entries;

    private Docs() {
    }

    /** Every block, by qualified command name ({@code hubctl nodes ls}). */
    static Map<String, Entry> entries() {
        Map<String, Entry> e = entries;
        if (e == null) {
            e = parse(read());
            entries = e;
        }
        return e;
    }

    /** Puts each command's exit status and examples on it and on its subcommands. */
    static void apply(CommandLine cli) {
        Entry e = entries().get(cli.getCommandSpec().qualifiedName());
        if (e != null) {
            UsageMessageSpec u = cli.getCommandSpec().usageMessage();
            u.exitCodeListHeading("%nExit status:%n");
            u.exitCodeList(e.exitCodes().isEmpty() ? COMMON : e.exitCodes());
            List<String> footer = new ArrayList<>();
            for (String x : e.examples()) { // as kubectl shows them: the comment, then the command
                int hash = x.indexOf("   # ");
                if (hash > 0) {
                    footer.add("  " + x.substring(hash).strip().replace("%", "%%"));
                }
                footer.add("  " + (hash > 0 ? x.substring(0, hash) : x).replace("%", "%%"));
            }
            if (u.footer().length > 0 && u.footerHeading() != null && !u.footerHeading().isBlank()) {
                // the root's own footer (its environment) follows its examples, under its heading
                footer.add("");
                footer.add(u.footerHeading().replace("%n", "").strip());
                Collections.addAll(footer, u.footer());
            }
            u.footerHeading("%nExamples:%n");
            u.footer(footer.toArray(String[]::new));
        }
        // aliases are listed too: each command once
        cli.getSubcommands().values().stream().distinct().forEach(Docs::apply);
    }

    private static String read() {
        try (InputStream in = Docs.class.getResourceAsStream("command-docs.txt")) {
            if (in == null) {
                throw new IllegalStateException("command-docs.txt is missing from hubctl's classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    static Map<String, Entry> parse(String text) {
        Map<String, Entry> out = new LinkedHashMap<>();
        String name = null;
        Map<String, String> codes = null;
        List<String> examples = null;
        for (String line : text.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            if (l.startsWith("[") && l.endsWith("]")) {
                name = l.substring(1, l.length() - 1);
                codes = new LinkedHashMap<>();
                examples = new ArrayList<>();
                out.put(name, new Entry(codes, examples));
                continue;
            }
            if (name == null) {
                throw new IllegalStateException("command-docs.txt: a line before the first [command]: " + l);
            }
            Matcher m = EXIT.matcher(l);
            if (m.matches()) {
                codes.put(m.group(1), m.group(2));
            } else {
                examples.add(l);
            }
        }
        return Collections.unmodifiableMap(out);
    }

    private static Map<String, String> ordered(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return Collections.unmodifiableMap(m);
    }
}

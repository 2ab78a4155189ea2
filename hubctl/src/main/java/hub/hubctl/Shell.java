package hub.hubctl;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jline.reader.Completer;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.Parser;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.jline.utils.InfoCmp;
import picocli.CommandLine;

/**
 * {@code hubctl shell}: hubctl's commands at a JLine prompt, with completion of commands, options
 * and live values (node names and ids, token and listener ids, from the hub and cached a few
 * seconds), history kept in {@code $XDG_STATE_HOME/hubctl/history}, and a prompt naming the hub.
 *
 * <p>Commands run on the thread that reads the prompt; Ctrl-C (the terminal's INT signal) interrupts
 * that thread, which stops a follow, a watch or an exec (whose remote task is then cancelled) and
 * comes back to the prompt. Ctrl-C at the prompt clears the line; Ctrl-D or {@code exit} leaves. An
 * error prints its one line and the shell goes on.
 */
final class Shell {
    private final Terminal terminal;
    private final Map<String, String> env;
    private final HubctlCommand.Session session;
    private final HubctlCommand root;
    private final HubctlCommand lookups;
    private final LiveValues.Cache cache;
    private final CommandLine cli;
    private final Parser parser = new DefaultParser();
    private final Completer completer;
    private final LineReader reader;

    Shell(Terminal terminal, Map<String, String> env, HubctlCommand.Session session) {
        this.terminal = terminal;
        this.env = env;
        this.session = session;
        this.root = new HubctlCommand(env);
        root.session = session;
        // the terminal is the shell's: exec sends no stdin from it (--stdin-file still works)
        HubctlCommand.Stdio sys = HubctlCommand.Stdio.system();
        root.stdio = new HubctlCommand.Stdio(null, sys.out(), sys.err(), true);
        // Completion resolves the hub from the shell's own settings, not the last command's flags.
        this.lookups = new HubctlCommand(env);
        lookups.session = session;
        this.cache = new LiveValues.Cache(() -> lookups, System::nanoTime);
        this.cli = HubctlMain.commandLine(root, LiveValues.factory(cache));
        cli.getCommandSpec().removeSubcommand("shell");
        PrintWriter w = terminal.writer();
        cli.setOut(w);
        cli.setErr(w);

        this.completer = new ShellCompleter(cli);
        Path history = historyFile(env);
        this.reader = LineReaderBuilder.builder()
                .appName("hubctl")
                .terminal(terminal)
                .completer(completer)
                .parser(parser)
                .variable(LineReader.HISTORY_FILE, history)
                .variable(LineReader.HISTORY_SIZE, 2000)
                .variable(LineReader.HISTORY_FILE_SIZE, 10_000)
                .option(LineReader.Option.HISTORY_IGNORE_DUPS, true)
                .option(LineReader.Option.HISTORY_IGNORE_SPACE, true)
                .build();
        // Loads the file now rather than at the first prompt (an unreadable file is skipped by JLine).
        reader.getHistory().attach(reader);
        root.prompter = Prompter.of(reader);
    }

    /** {@code $XDG_STATE_HOME/hubctl/history}, its directory made private if it is new. */
    static Path historyFile(Map<String, String> env) {
        Path dir = XdgDirs.state(env).resolve("hubctl");
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            }
        } catch (IOException e) {
            throw HubctlException.usage("cannot create " + dir + " for the shell's history: " + e.getMessage());
        }
        return dir.resolve("history");
    }

    LineReader reader() {
        return reader;
    }

    Completer completer() {
        return completer;
    }

    /** Reads and runs commands until Ctrl-D or {@code exit}; returns 0. */
    int run() {
        PrintWriter w = terminal.writer();
        w.println("Mesh Hub shell on " + describeHub() + ". Tab completes; 'help' lists commands; "
                + "Ctrl-C stops a running command; Ctrl-D or 'exit' leaves.");
        w.flush();
        try {
            while (true) {
                String line;
                try {
                    line = reader.readLine(prompt());
                } catch (UserInterruptException e) {
                    continue; // Ctrl-C at the prompt: a fresh line
                } catch (EndOfFileException e) {
                    return 0; // Ctrl-D
                }
                List<String> words = words(line);
                if (words.isEmpty()) {
                    continue;
                }
                if (words.size() == 1 && (words.get(0).equals("exit") || words.get(0).equals("quit"))) {
                    return 0;
                }
                if (words.size() == 1 && words.get(0).equals("clear")) {
                    terminal.puts(InfoCmp.Capability.clear_screen);
                    terminal.flush();
                    continue;
                }
                execute(words);
            }
        } finally {
            try {
                reader.getHistory().save();
            } catch (IOException e) {
                w.println("hubctl: could not save the shell's history: " + e.getMessage());
                w.flush();
            }
        }
    }

    /** Runs one command; Ctrl-C interrupts it. Returns its exit code. */
    int execute(List<String> words) {
        Thread runner = Thread.currentThread();
        Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, s -> {
            terminal.writer().println(); // the terminal echoed ^C; what the command says next starts below
            terminal.writer().flush();
            runner.interrupt();
        });
        try {
            return cli.execute(words.toArray(String[]::new));
        } catch (RuntimeException e) {
            // The handlers catch what commands throw; this is for a failure in the handlers themselves.
            terminal.writer().println("hubctl: " + e);
            return ExitCodes.HUB_ERROR;
        } finally {
            terminal.handle(Terminal.Signal.INT, previous);
            Thread.interrupted(); // a Ctrl-C that came as the command ended must not hit the next read
            terminal.writer().flush();
            cache.invalidate(); // the command may have changed what completion offers
        }
    }

    private List<String> words(String line) {
        if (line.isBlank()) {
            return List.of();
        }
        List<String> words = new ArrayList<>(parser.parse(line, line.length(), Parser.ParseContext.ACCEPT_LINE)
                .words());
        if (!words.isEmpty() && words.get(words.size() - 1).isEmpty() && Character.isWhitespace(
                line.charAt(line.length() - 1))) {
            words.remove(words.size() - 1);
        }
        return words;
    }

    /** {@code hubctl [context]> } or {@code hubctl [host:port]> }. */
    String prompt() {
        return "hubctl [" + describeHub() + "]> ";
    }

    private String describeHub() {
        try {
            HubctlCommand.Target t = lookups.target();
            if (t.context() != null) {
                return t.context();
            }
            return t.hub().getPort() == -1 ? t.hub().getHost() : t.hub().getHost() + ":" + t.hub().getPort();
        } catch (HubctlException e) {
            return "?";
        }
    }
}

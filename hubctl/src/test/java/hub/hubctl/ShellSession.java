package hub.hubctl;

import java.io.ByteArrayOutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.jline.reader.Candidate;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.DumbTerminal;

/** {@code hubctl shell} on a JLine dumb terminal over piped streams: what it printed, and the pipe to type into. */
final class ShellSession implements AutoCloseable {
    final PipedOutputStream keys = new PipedOutputStream();
    final ByteArrayOutputStream screen = new ByteArrayOutputStream();
    final Terminal terminal;
    final Shell shell;
    final AtomicInteger exit = new AtomicInteger(-1);
    Thread thread;

    ShellSession(Path home, HubctlCommand.Session settings) throws Exception {
        terminal = new DumbTerminal("test", Terminal.TYPE_DUMB, new PipedInputStream(keys, 1 << 16),
                screen, StandardCharsets.UTF_8);
        Map<String, String> env = Map.of("HOME", home.toString(), "XDG_STATE_HOME",
                home.resolve("state").toString(), "XDG_CONFIG_HOME", home.resolve("config").toString());
        shell = new Shell(terminal, env, settings);
    }

    ShellSession start() {
        thread = new Thread(() -> exit.set(shell.run()), "shell");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    void type(String s) throws Exception {
        keys.write(s.getBytes(StandardCharsets.UTF_8));
        keys.flush();
    }

    String screen() {
        synchronized (screen) {
            return screen.toString(StandardCharsets.UTF_8);
        }
    }

    /** What completion offers for {@code line} with the cursor at its end. */
    List<String> complete(String line) {
        LineReader reader = shell.reader();
        ParsedLine parsed = new DefaultParser().parse(line, line.length());
        List<Candidate> candidates = new ArrayList<>();
        shell.completer().complete(reader, parsed, candidates);
        // Options that take a value are offered as "--name=".
        return candidates.stream().map(c -> c.value().replaceAll("=$", "")).toList();
    }

    @Override
    public void close() throws Exception {
        keys.close();
        if (thread != null) {
            thread.join(5000);
        }
        terminal.close();
    }
}

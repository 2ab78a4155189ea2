package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import org.jline.terminal.Attributes;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * The client end of a terminal session ({@code hubctl ssh}, {@code hubctl sessions join}): the
 * local terminal in raw mode (no local echo, line editing or signals: Ctrl-C, Ctrl-Z and Ctrl-D go
 * to the remote side as bytes), the remote terminal's bytes written as they come, window size sent
 * at start and on every SIGWINCH, and ssh's escape: {@code ~.} at the start of a line disconnects,
 * {@code ~~} sends one {@code ~}, {@code ~?} lists them.
 *
 * <p>Without a terminal on stdin (a pipe), nothing is put in raw mode, the size is {@code $COLUMNS}
 * by {@code $LINES} (else 80x24), and stdin's bytes are sent as typed input; at its end one Ctrl-D
 * is sent.
 */
final class TerminalClient {
    /** A session's end: the remote exit code, or 255 with the reason. */
    record End(int exitCode, String message) {
    }

    private final HubClient client;
    private final ObjectMapper mapper;
    private final HubctlCommand.Stdio stdio;
    private final PrintWriter err;
    private final Map<String, String> env;
    private final CompletableFuture<End> ended = new CompletableFuture<>();
    private volatile WebSocket ws;
    private volatile String sessionId;

    TerminalClient(HubClient client, ObjectMapper mapper, HubctlCommand.Stdio stdio, PrintWriter err,
            Map<String, String> env) {
        this.client = client;
        this.mapper = mapper;
        this.stdio = stdio;
        this.err = err;
        this.env = env;
    }

    /**
     * Runs a session on {@code path}: opens it with {@code start} (its fields; null to join one), sends
     * input when {@code sendInput}, until it ends.
     *
     * @param escape the escape character, or 0 for none ({@code -e none})
     */
    End run(String path, Map<String, Object> start, boolean sendInput, char escape) throws InterruptedException {
        Terminal terminal = null;
        Attributes saved = null;
        try {
            if (stdio.inIsTerminal() && stdio.in() != null) {
                terminal = TerminalBuilder.builder().name("hubctl").system(true).nativeSignals(true).build();
                saved = rawMode(terminal);
            }
            final Terminal t = terminal;
            OutputStream out = terminal != null ? terminal.output() : stdio.out();
            ws = HubSocket.connect(client, path, new Listener(out));
            if (start != null) {
                int[] size = size(t);
                Map<String, Object> s = new java.util.LinkedHashMap<>(start);
                s.put("type", "start");
                s.put("columns", size[0]);
                s.put("rows", size[1]);
                send(s);
            }
            if (t != null && start != null) {
                t.handle(Terminal.Signal.WINCH, sig -> {
                    int[] size = size(t);
                    send(Map.of("type", "resize", "columns", size[0], "rows", size[1]));
                });
            }
            InputStream in = terminal != null ? terminal.input() : stdio.in();
            if (in != null) {
                boolean onTerminal = t != null;
                Thread reader = new Thread(() -> pump(in, sendInput, escape, onTerminal), "hubctl-terminal-in");
                reader.setDaemon(true);
                reader.start();
            }
            try {
                return ended.get();
            } catch (ExecutionException e) {
                return new End(ExitCodes.EXEC_HUB_ERROR, String.valueOf(e.getCause()));
            }
        } catch (IOException e) {
            throw HubctlException.hub("cannot use the terminal: " + e.getMessage());
        } finally {
            if (ws != null) {
                ws.abort();
            }
            if (terminal != null) {
                if (saved != null) {
                    terminal.setAttributes(saved);
                }
                try {
                    terminal.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
        }
    }

    /** Raw mode as ssh sets it: no echo, no line editing, no signals, no output processing. */
    private static Attributes rawMode(Terminal t) {
        Attributes saved = t.enterRawMode();
        Attributes raw = t.getAttributes();
        raw.setLocalFlag(Attributes.LocalFlag.ISIG, false);
        raw.setLocalFlag(Attributes.LocalFlag.IEXTEN, false);
        raw.setOutputFlag(Attributes.OutputFlag.OPOST, false);
        raw.setInputFlag(Attributes.InputFlag.IXON, false);
        raw.setInputFlag(Attributes.InputFlag.ICRNL, false);
        t.setAttributes(raw);
        return saved;
    }

    private int[] size(Terminal t) {
        if (t != null) {
            Size s = t.getSize();
            if (s.getColumns() > 0 && s.getRows() > 0) {
                return new int[] {Math.min(s.getColumns(), 1000), Math.min(s.getRows(), 1000)};
            }
        }
        return new int[] {envSize("COLUMNS", 80), envSize("LINES", 24)};
    }

    private int envSize(String name, int dflt) {
        try {
            int v = Integer.parseInt(env.getOrDefault(name, ""));
            return v >= 1 && v <= 1000 ? v : dflt;
        } catch (NumberFormatException e) {
            return dflt;
        }
    }

    private void send(Map<String, ?> control) {
        try {
            ws.sendText(mapper.writeValueAsString(control), true).join();
        } catch (RuntimeException | com.fasterxml.jackson.core.JsonProcessingException e) {
            ended.complete(new End(ExitCodes.EXEC_HUB_ERROR, "connection to the hub lost: " + e.getMessage()));
        }
    }

    /** Reads the local keyboard (or stdin) and sends it, watching for the escape. */
    private void pump(InputStream in, boolean sendInput, char escape, boolean terminal) {
        byte[] buf = new byte[16 * 1024];
        byte[] outBuf = new byte[2 * buf.length];
        boolean lineStart = true;
        boolean escaped = false;
        try {
            int n;
            while (!ended.isDone() && (n = in.read(buf)) >= 0) {
                int k = 0;
                for (int i = 0; i < n; i++) {
                    byte b = buf[i];
                    if (escaped) {
                        escaped = false;
                        if (b == '.') {
                            err.print("\r\nhubctl: disconnected (~.)\r\n");
                            err.flush();
                            ended.complete(new End(ExitCodes.EXEC_HUB_ERROR, null));
                            return;
                        } else if (b == '?') {
                            err.print("\r\nSupported escapes:\r\n ~.  disconnect\r\n ~~  send one ~\r\n ~?  this list\r\n");
                            err.flush();
                            continue;
                        } else if (b != escape) {
                            outBuf[k++] = (byte) escape;
                        }
                        outBuf[k++] = b;
                        lineStart = false;
                        continue;
                    }
                    if (escape != 0 && lineStart && b == escape) {
                        escaped = true;
                        continue;
                    }
                    outBuf[k++] = b;
                    lineStart = b == '\r' || b == '\n';
                }
                if (k > 0 && sendInput) {
                    ws.sendBinary(ByteBuffer.wrap(outBuf, 0, k), true).join();
                }
            }
            if (!terminal && sendInput && !ended.isDone()) {
                ws.sendBinary(ByteBuffer.wrap(new byte[] {4}), true).join(); // stdin ended: Ctrl-D
            }
        } catch (IOException | RuntimeException e) {
            if (!ended.isDone()) {
                ended.complete(new End(ExitCodes.EXEC_HUB_ERROR, "connection to the hub lost: " + e.getMessage()));
            }
        }
    }

    /** The id of the session, once the hub said it started. */
    String sessionId() {
        return sessionId;
    }

    private final class Listener implements WebSocket.Listener {
        private final OutputStream out;
        private final StringBuilder text = new StringBuilder();

        Listener(OutputStream out) {
            this.out = out;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
            try {
                byte[] b = new byte[data.remaining()];
                data.get(b);
                out.write(b);
                if (last) {
                    out.flush();
                }
            } catch (IOException e) {
                ended.complete(new End(ExitCodes.EXEC_HUB_ERROR, "cannot write output: " + e.getMessage()));
            }
            w.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                String frame = text.toString();
                text.setLength(0);
                try {
                    control(mapper.readTree(frame));
                } catch (IOException e) {
                    ended.complete(new End(ExitCodes.EXEC_HUB_ERROR, "the hub sent something that is not JSON"));
                }
            }
            w.request(1);
            return null;
        }

        private void control(JsonNode m) throws IOException {
            switch (m.path("type").asText()) {
                case "started", "joined" -> sessionId = m.path("session").asText();
                case "notice" -> {
                    out.flush();
                    err.print("\r\nhubctl: " + m.path("message").asText() + "\r\n");
                    err.flush();
                }
                case "exit" -> {
                    out.flush();
                    String state = m.path("state").asText();
                    if (state.equals("exited") && m.has("exitCode")) {
                        ended.complete(new End(m.path("exitCode").asInt(), null));
                    } else {
                        String why = m.path("error").asText(state);
                        ended.complete(new End(ExitCodes.EXEC_HUB_ERROR, "session ended (" + state + "): " + why));
                    }
                }
                case "error" -> ended.complete(new End(ExitCodes.EXEC_HUB_ERROR, m.path("detail").asText()
                        + " (" + m.path("status").asInt() + " " + m.path("title").asText() + ")"));
                default -> {
                    // newer frame types: ignored
                }
            }
        }

        @Override
        public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
            ended.complete(new End(ExitCodes.EXEC_HUB_ERROR, "connection to the hub closed (" + code
                    + (reason == null || reason.isEmpty() ? "" : ": " + reason) + ")"));
            return null;
        }

        @Override
        public void onError(WebSocket w, Throwable error) {
            ended.complete(new End(ExitCodes.EXEC_HUB_ERROR, "connection to the hub lost: " + error.getMessage()));
        }
    }
}

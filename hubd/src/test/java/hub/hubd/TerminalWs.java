package hub.hubd;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * A terminal session client for tests, written to the README's contract (not hubctl's code): JSON
 * control frames one way and the other, the terminal's bytes as binary frames.
 */
final class TerminalWs implements AutoCloseable {
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final List<JsonNode> controls = new ArrayList<>();
    final CompletableFuture<String> closed = new CompletableFuture<>();
    private final WebSocket ws;
    private final StringBuilder partial = new StringBuilder();

    private TerminalWs(TestHub hub, String path, String token) {
        this((hub.daemon.tls() == null ? "ws" : "wss") + "://127.0.0.1:" + hub.daemon.httpPort() + path,
                hub.daemon.tls() == null ? null : TestTls.https(hub.daemon), token);
    }

    /** A session client on {@code url} (wss://…/api/v1/nodes/N/terminal or …/sessions/ID/join). */
    TerminalWs(String url, javax.net.ssl.SSLContext ssl, String token) {
        String path = url;
        try {
            HttpClient.Builder hb = HttpClient.newBuilder();
            if (ssl != null) {
                hb.sslContext(ssl);
            }
            ws = hb.build().newWebSocketBuilder().header("Authorization", "Bearer " + token)
                    .buildAsync(URI.create(url), new WebSocket.Listener() {
                        @Override
                        public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
                            byte[] b = new byte[data.remaining()];
                            data.get(b);
                            synchronized (output) {
                                output.writeBytes(b);
                            }
                            w.request(1);
                            return null;
                        }

                        @Override
                        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                            partial.append(data);
                            if (last) {
                                try {
                                    JsonNode j = TestHub.JSON.readTree(partial.toString());
                                    synchronized (controls) {
                                        controls.add(j);
                                    }
                                } catch (IOException e) {
                                    closed.complete("not JSON: " + partial);
                                }
                                partial.setLength(0);
                            }
                            w.request(1);
                            return null;
                        }

                        @Override
                        public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
                            closed.complete(code + " " + reason);
                            return null;
                        }

                        @Override
                        public void onError(WebSocket w, Throwable error) {
                            closed.complete("error " + error);
                        }
                    }).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("cannot open " + path + ": " + e, e);
        }
    }

    /** Opens a session on {@code node} with a start frame ({@code start}'s JSON fields, without type). */
    static TerminalWs open(TestHub hub, String node, String token, String startFields) {
        TerminalWs t = connect(hub, node, token);
        t.text("{\"type\":\"start\"" + (startFields.isEmpty() ? "" : "," + startFields) + "}");
        return t;
    }

    /** Upgrades {@code /api/v1/nodes/NODE/terminal} and sends nothing yet. */
    static TerminalWs connect(TestHub hub, String node, String token) {
        return new TerminalWs(hub, "/api/v1/nodes/" + node + "/terminal", token);
    }

    /** Joins a live session. */
    static TerminalWs join(TestHub hub, String id, String token, boolean rw) {
        return new TerminalWs(hub, "/api/v1/sessions/" + id + "/join" + (rw ? "?rw=true" : ""), token);
    }

    void text(String frame) {
        ws.sendText(frame, true).join();
    }

    void type(String keys) {
        ws.sendBinary(ByteBuffer.wrap(keys.getBytes(StandardCharsets.UTF_8)), true).join();
    }

    void resize(int columns, int rows) {
        text("{\"type\":\"resize\",\"columns\":" + columns + ",\"rows\":" + rows + "}");
    }

    String output() {
        synchronized (output) {
            return output.toString(StandardCharsets.UTF_8);
        }
    }

    /** Waits until the output contains {@code text}. */
    void awaitOutput(String text) {
        try {
            Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> output().contains(text));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("no '" + text + "' in the output: [" + output() + "]; controls " + controls()
                    + "; closed " + closed.getNow("no"), e);
        }
    }

    List<JsonNode> controls() {
        synchronized (controls) {
            return new ArrayList<>(controls);
        }
    }

    /** The first control frame of {@code type}, waiting for it. */
    JsonNode awaitControl(String type) {
        return Awaitility.await().atMost(Duration.ofSeconds(20)).until(
                () -> controls().stream().filter(c -> c.path("type").asText().equals(type)).findFirst().orElse(null),
                c -> c != null);
    }

    /** The session's id from its started frame. */
    String id() {
        return awaitControl("started").path("session").asText();
    }

    @Override
    public void close() {
        ws.abort();
    }
}

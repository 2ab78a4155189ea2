package hub.hubd;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket client for tests (the JDK's): collects the JSON objects of each frame (one per line)
 * and the close code and reason. {@code reading=false} makes it stop reading, like a stalled client.
 */
final class WsClient implements AutoCloseable {
    private final List<JsonNode> received = new ArrayList<>();
    final CompletableFuture<String> closed = new CompletableFuture<>(); // "code reason"
    final WebSocket ws;
    private final StringBuilder partial = new StringBuilder();
    private volatile boolean reading;

    private WsClient(String url, String token, boolean reading) {
        this.reading = reading;
        try {
            this.ws = HttpClient.newHttpClient().newWebSocketBuilder()
                    .header("Authorization", "Bearer " + token)
                    .buildAsync(URI.create(url), new WebSocket.Listener() {
                        @Override
                        public void onOpen(WebSocket w) {
                            if (WsClient.this.reading) {
                                w.request(1);
                            }
                        }

                        @Override
                        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                            partial.append(data);
                            if (last) {
                                for (String line : partial.toString().split("\n")) {
                                    if (!line.isEmpty()) {
                                        try {
                                            JsonNode j = TestHub.JSON.readTree(line);
                                            synchronized (received) {
                                                received.add(j);
                                            }
                                        } catch (IOException e) {
                                            throw new AssertionError("not JSON: " + line, e);
                                        }
                                    }
                                }
                                partial.setLength(0);
                            }
                            if (WsClient.this.reading) {
                                w.request(1);
                            }
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
            throw new AssertionError("cannot open " + url + ": " + e, e);
        }
    }

    static WsClient open(TestHub hub, String path, String token) {
        return new WsClient("ws://127.0.0.1:" + hub.daemon.httpPort() + path, token, true);
    }

    /** Opens a client that reads nothing until {@link #resume()}. */
    static WsClient stalled(TestHub hub, String path, String token) {
        return new WsClient("ws://127.0.0.1:" + hub.daemon.httpPort() + path, token, false);
    }

    /** The HTTP status with which the hub refuses to upgrade {@code path} (fails if it accepts). */
    static int refusal(TestHub hub, String path, String token) {
        try {
            new WsClient("ws://127.0.0.1:" + hub.daemon.httpPort() + path, token, true).close();
        } catch (AssertionError e) {
            Throwable c = e.getCause() == null ? null : e.getCause().getCause();
            if (c instanceof java.net.http.WebSocketHandshakeException h) {
                return h.getResponse().statusCode();
            }
            throw e;
        }
        throw new AssertionError("the hub accepted " + path);
    }

    void resume() {
        reading = true;
        ws.request(1);
    }

    /** What was received so far. */
    List<JsonNode> all() {
        synchronized (received) {
            return new ArrayList<>(received);
        }
    }

    /** How many objects were received so far. */
    int count() {
        synchronized (received) {
            return received.size();
        }
    }

    /** The sequence of the last event received, or -1. */
    long lastSeq() {
        synchronized (received) {
            for (int i = received.size() - 1; i >= 0; i--) {
                if (received.get(i).has("seq")) {
                    return received.get(i).get("seq").asLong();
                }
            }
            return -1;
        }
    }

    /** The received objects of a type. */
    List<JsonNode> ofType(String type) {
        return all().stream().filter(j -> type.equals(j.path("type").asText())).toList();
    }

    @Override
    public void close() {
        ws.abort();
    }
}

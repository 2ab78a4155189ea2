package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * One of the hub's WebSocket streams (events, history follow): each frame holds JSON objects, one
 * per line, handed to a consumer in order. {@link #ended()} completes with how it ended. A refused
 * upgrade becomes a {@link HubctlException} carrying the hub's problem detail, like HTTP calls.
 */
final class HubSocket implements AutoCloseable {
    /** How the stream ended: a close code and reason from the hub, or a broken connection ({@code code} 1006). */
    record End(int code, String reason) {
        /** Whether following again (from where it was) makes sense. */
        boolean resumable() {
            return code != 4002 && code != 4003 && code != 1008;
        }
    }

    private final WebSocket ws;
    private final CompletableFuture<End> ended = new CompletableFuture<>();

    private HubSocket(WebSocket ws) {
        this.ws = ws;
    }

    CompletableFuture<End> ended() {
        return ended;
    }

    /**
     * Opens {@code path} (with its query) on the hub.
     *
     * @throws HubctlException transient when the hub cannot be reached, otherwise the hub's refusal
     */
    static HubSocket open(HubClient client, String path, ObjectMapper mapper, Consumer<JsonNode> onObject) {
        CompletableFuture<End> ended = new CompletableFuture<>();
        StringBuilder partial = new StringBuilder();
        WebSocket.Listener listener = new WebSocket.Listener() {
            @Override
            public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    String frame = partial.toString();
                    partial.setLength(0);
                    for (String line : frame.split("\n")) {
                        if (!line.isEmpty()) {
                            try {
                                onObject.accept(mapper.readTree(line));
                            } catch (IOException e) {
                                ended.complete(new End(1007, "the hub sent something that is not JSON"));
                                w.abort();
                                return null;
                            } catch (RuntimeException e) {
                                ended.completeExceptionally(e);
                                w.abort();
                                return null;
                            }
                        }
                    }
                }
                w.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
                ended.complete(new End(code, reason));
                return null;
            }

            @Override
            public void onError(WebSocket w, Throwable error) {
                ended.complete(new End(1006, "connection lost: " + error.getMessage()));
            }
        };
        WebSocket ws = connect(client, path, listener);
        HubSocket s = new HubSocket(ws);
        ended.whenComplete((end, err) -> {
            if (err != null) {
                s.ended.completeExceptionally(err);
            } else {
                s.ended.complete(end);
            }
        });
        return s;
    }

    /**
     * Opens the WebSocket {@code path} (with its query) on the hub with the client's token and trust.
     *
     * @throws HubctlException transient when the hub cannot be reached, otherwise the hub's refusal
     */
    static WebSocket connect(HubClient client, String path, WebSocket.Listener listener) {
        URI http = client.base().resolve(path);
        URI uri = URI.create((http.getScheme().equals("https") ? "wss" : "ws") + http.toString()
                .substring(http.getScheme().length()));
        HttpClient.Builder hb = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (client.tls() != null) {
            hb.sslContext(client.tls());
        }
        WebSocket.Builder b = hb.build().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
        if (client.token() != null && !client.token().isBlank()) {
            b.header("Authorization", "Bearer " + client.token().strip());
        }
        try {
            return b.buildAsync(uri, listener).get(15, TimeUnit.SECONDS);
        } catch (ExecutionException | CompletionException e) {
            throw refusal(client, e.getCause() == null ? e : e.getCause());
        } catch (TimeoutException e) {
            throw HubctlException.unreachable("the hub at " + client.base() + " did not answer in time");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw HubctlException.interrupted();
        }
    }

    private static HubctlException refusal(HubClient client, Throwable cause) {
        if (cause instanceof WebSocketHandshakeException h) {
            var r = h.getResponse();
            Object body = r.body();
            return client.error(r.statusCode(), body == null ? "" : body.toString());
        }
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException) {
                return HubClient.tlsFailure(client.base(), t);
            }
        }
        if (cause instanceof ConnectException || cause.getCause() instanceof ConnectException) {
            return HubctlException.unreachable("cannot reach the hub at " + client.base() + " (connection refused); "
                    + "is hubd running? (--hub or HUB_URL)");
        }
        return HubctlException.unreachable("cannot reach the hub at " + client.base() + ": " + cause);
    }

    /** Waits until the stream ends. */
    End await() throws InterruptedException {
        try {
            return ended.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof HubctlException he) {
                throw he;
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw HubctlException.hub(String.valueOf(c));
        }
    }

    @Override
    public void close() {
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
        ws.abort();
    }
}

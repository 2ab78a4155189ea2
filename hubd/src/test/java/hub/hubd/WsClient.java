package hub.hubd;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket client for tests: collects the JSON objects of each frame (one per line) and the close
 * code and reason. {@link #open} uses the JDK's client; {@link #stalled} is a plain socket that does
 * not read at all until {@link #resume()} (then parses the frames itself), so the hub sees a peer
 * that truly stopped reading, and nothing between the hub and the test can buffer or lose frames.
 */
final class WsClient implements AutoCloseable {
    private final List<JsonNode> received = new ArrayList<>();
    final CompletableFuture<String> closed = new CompletableFuture<>(); // "code reason"
    final WebSocket ws;
    private final Socket raw;
    private final StringBuilder partial = new StringBuilder();

    /** A stalled client on a socket that has done the upgrade. */
    private WsClient(Socket raw) {
        this.ws = null;
        this.raw = raw;
    }

    private WsClient(TestHub hub, String url, String token) {
        this.raw = null;
        try {
            HttpClient.Builder hb = HttpClient.newBuilder();
            if (hub.daemon.tls() != null) {
                hb.sslContext(TestTls.https(hub.daemon));
            }
            this.ws = hb.build().newWebSocketBuilder()
                    .header("Authorization", "Bearer " + token)
                    .buildAsync(URI.create(url), new WebSocket.Listener() {
                        @Override
                        public void onOpen(WebSocket w) {
                            w.request(1);
                        }

                        @Override
                        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                            partial.append(data);
                            if (last) {
                                lines(partial.toString());
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
            throw new AssertionError("cannot open " + url + ": " + e, e);
        }
    }

    static WsClient open(TestHub hub, String path, String token) {
        return new WsClient(hub, wsUrl(hub) + path, token);
    }

    private static String wsUrl(TestHub hub) {
        return (hub.daemon.tls() == null ? "ws" : "wss") + "://127.0.0.1:" + hub.daemon.httpPort();
    }

    /**
     * A raw socket to the hub's API port, TLS when the hub has it; {@code receiveBuffer} bytes of
     * kernel receive buffer when positive.
     */
    static Socket socket(TestHub hub, int receiveBuffer) throws IOException {
        Socket s = new Socket();
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer);
        }
        s.connect(new InetSocketAddress("127.0.0.1", hub.daemon.httpPort()), 5000);
        if (hub.daemon.tls() == null) {
            return s;
        }
        javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) TestTls.https(hub.daemon).getSocketFactory()
                .createSocket(s, "127.0.0.1", hub.daemon.httpPort(), true);
        tls.startHandshake();
        return tls;
    }

    /** Opens a client that reads nothing until {@link #resume()}: a socket with a small receive buffer. */
    static WsClient stalled(TestHub hub, String path, String token) {
        try {
            Socket s = socket(hub, 4096);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " + token + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int b = in.read(); // byte by byte: nothing after the head is consumed
                if (b < 0) {
                    throw new AssertionError("closed during the handshake: " + head);
                }
                head.append((char) b);
            }
            if (!head.toString().startsWith("HTTP/1.1 101")) {
                throw new AssertionError("not upgraded: " + head);
            }
            return new WsClient(s);
        } catch (IOException e) {
            throw new AssertionError("cannot open " + path + ": " + e, e);
        }
    }

    /** Reads the stalled socket's frames until the close frame or the end of the stream. */
    private void readRaw() {
        try {
            DataInputStream in = new DataInputStream(raw.getInputStream());
            ByteArrayOutputStream message = new ByteArrayOutputStream();
            while (true) {
                int b0 = in.readUnsignedByte();
                int b1 = in.readUnsignedByte();
                long len = b1 & 0x7F;
                if (len == 126) {
                    len = in.readUnsignedShort();
                } else if (len == 127) {
                    len = in.readLong();
                }
                byte[] mask = null;
                if ((b1 & 0x80) != 0) {
                    mask = in.readNBytes(4);
                }
                byte[] payload = in.readNBytes((int) len);
                if (mask != null) {
                    for (int i = 0; i < payload.length; i++) {
                        payload[i] ^= mask[i % 4];
                    }
                }
                int opcode = b0 & 0x0F;
                if (opcode == 0x8) {
                    int code = payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : 1005;
                    String reason = payload.length > 2
                            ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
                    closed.complete(code + " " + reason);
                    return;
                }
                if (opcode == 0x1 || opcode == 0x0) {
                    message.write(payload);
                    if ((b0 & 0x80) != 0) {
                        lines(message.toString(StandardCharsets.UTF_8));
                        message.reset();
                    }
                }
                // pings (0x9) go unanswered: this client is only read for a few seconds
            }
        } catch (IOException e) {
            closed.complete("error " + e);
        }
    }

    private void lines(String text) {
        for (String line : text.split("\n")) {
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
    }

    /** The HTTP status with which the hub refuses to upgrade {@code path} (fails if it accepts). */
    static int refusal(TestHub hub, String path, String token) {
        try {
            new WsClient(hub, wsUrl(hub) + path, token).close();
        } catch (AssertionError e) {
            Throwable c = e.getCause() == null ? null : e.getCause().getCause();
            if (c instanceof java.net.http.WebSocketHandshakeException h) {
                return h.getResponse().statusCode();
            }
            throw e;
        }
        throw new AssertionError("the hub accepted " + path);
    }

    /** A stalled client starts reading. */
    void resume() {
        Thread reader = new Thread(this::readRaw, "ws-stalled-reader");
        reader.setDaemon(true);
        reader.start();
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
        if (raw != null) {
            try {
                raw.close();
            } catch (IOException e) {
                // closing anyway
            }
        } else {
            ws.abort();
        }
    }
}

package hub.bench;

import java.io.FileInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Arrays;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Keystroke-to-echo latency of a terminal session ({@code hubctl ssh}), as a person feels it: one
 * byte typed into {@code /api/v1/nodes/NODE/terminal}, timed until the terminal's echo of that
 * byte comes back (the node's pty echoes it; {@code cat} keeps the terminal in its normal mode),
 * COUNT times, one at a time, GAP_MS apart. Prints p50, p90, p99 and max.
 *
 * <pre>java -cp bench/target/benchmarks.jar hub.bench.KeystrokeDriver NODE [COUNT] [GAP_MS]</pre>
 * Environment: HUB_URL, HUB_TOKEN, HUB_CA (the hub's CA file, for https).
 */
public final class KeystrokeDriver {
    private KeystrokeDriver() {
    }

    public static void main(String[] args) throws Exception {
        String node = args[0];
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        long gap = args.length > 2 ? Long.parseLong(args[2]) : 5;
        String url = System.getenv("HUB_URL");
        HttpClient.Builder hb = HttpClient.newBuilder();
        String ca = System.getenv("HUB_CA");
        if (url.startsWith("https") && ca != null && !ca.isEmpty()) {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            try (FileInputStream in = new FileInputStream(ca)) {
                ks.setCertificateEntry("hub", CertificateFactory.getInstance("X.509").generateCertificate(in));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            hb.sslContext(ctx);
        }
        LinkedBlockingQueue<Byte> echoed = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<String> controls = new LinkedBlockingQueue<>();
        String ws = url.replaceFirst("^http", "ws") + "/api/v1/nodes/" + node + "/terminal";
        WebSocket socket = hb.build().newWebSocketBuilder().header("Authorization", "Bearer " + System.getenv("HUB_TOKEN"))
                .buildAsync(URI.create(ws), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
                        while (data.hasRemaining()) {
                            echoed.add(data.get());
                        }
                        w.request(1);
                        return null;
                    }

                    @Override
                    public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                        controls.add(data.toString());
                        w.request(1);
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
        socket.sendText("{\"type\":\"start\",\"command\":\"exec cat\"}", true).join();
        String started = controls.poll(30, TimeUnit.SECONDS);
        if (started == null || !started.contains("started")) {
            throw new IllegalStateException("session did not start: " + started);
        }
        // Warm up: the first keystrokes pay for the JIT on both sides.
        long[] nanos = new long[count];
        int warm = Math.min(200, count);
        for (int i = -warm; i < count; i++) {
            byte key = (byte) ('a' + Math.floorMod(i, 26));
            long t0 = System.nanoTime();
            socket.sendBinary(ByteBuffer.wrap(new byte[] {key}), true).join();
            while (true) {
                Byte b = echoed.poll(10, TimeUnit.SECONDS);
                if (b == null) {
                    throw new IllegalStateException("no echo within 10 s");
                }
                if (b == key) {
                    break;
                }
            }
            if (i >= 0) {
                nanos[i] = System.nanoTime() - t0;
            }
            Thread.sleep(gap);
        }
        socket.sendBinary(ByteBuffer.wrap(new byte[] {3}), true).join(); // Ctrl-C ends cat
        Arrays.sort(nanos);
        System.out.printf("keystrokes %d (gap %d ms): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms%n", count, gap,
                nanos[count / 2] / 1e6, nanos[(int) (count * 0.9)] / 1e6, nanos[(int) (count * 0.99)] / 1e6,
                nanos[count - 1] / 1e6);
        socket.abort();
    }
}

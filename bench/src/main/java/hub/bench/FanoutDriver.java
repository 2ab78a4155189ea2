package hub.bench;

import hub.hubd.HubDaemon;
import hub.hubd.config.HubConfig;
import hub.hubd.events.Event;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Event fan-out over real WebSockets on loopback: a hubd (embedded, SQLite in a temp dir) publishes
 * synthetic events at RATE per second for SECONDS on its own bus; SUBSCRIBERS WebSocket clients
 * (lean ones, all on one selector thread, see {@link RawClients}) receive them. Delivery latency is measured per frame, from the publish
 * time of the frame's first (oldest) event to the frame's arrival, so it is the worst in the frame.
 * With STALLED=1 one more subscriber connects and never reads.
 *
 * <pre>java -cp bench/target/benchmarks.jar hub.bench.FanoutDriver SUBSCRIBERS RATE SECONDS [STALLED [HUB_CPUS]]</pre>
 *
 * With HUB_CPUS (a {@code taskset -c} list) the hub runs in a JVM of its own on those cores; run the
 * driver under {@code taskset} on the others, so the hub is measured alone:
 * {@code taskset -c 1 java -cp … FanoutDriver 1000 1000 10 0 0}; that JVM takes its options from
 * HUB_JAVA_OPTS (default {@code -Xmx2g}).
 *
 * Prints published and delivered events per second, latency p50/p99/max, the frames later than 50 ms
 * in each second of the run (where a tail comes from: a start, a periodic pause), and lagged closes.
 */
public final class FanoutDriver {
    private static final int MAX_MS = 60_000;
    static final int QUEUE = 16_384;
    private static final AtomicLongArray LATENCY_MS = new AtomicLongArray(MAX_MS + 1);
    private static final AtomicLong EVENTS = new AtomicLong();
    private static final AtomicLong FRAMES = new AtomicLong();
    static volatile long measureStartMillis;
    /** Per second of the run (the last one takes the rest): frames, and frames later than 50 ms. */
    private static final int SECONDS_KEPT = 64;
    private static final AtomicLongArray FRAMES_BY_SECOND = new AtomicLongArray(SECONDS_KEPT);
    private static final AtomicLongArray SLOW_BY_SECOND = new AtomicLongArray(SECONDS_KEPT);

    private FanoutDriver() {
    }

    public static void main(String[] args) throws Exception {
        int subscribers = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int rate = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        boolean stalled = args.length > 3 && args[3].equals("1");
        String hubCpus = args.length > 4 ? args[4] : null;
        HubSide hub = hubCpus == null ? new InProcess() : new Child(hubCpus);
        try {
            run(hub, subscribers, rate, seconds, stalled);
        } finally {
            hub.close();
        }
        System.exit(0);
    }

    /** The hub being measured: in this JVM, or in a child JVM of its own (pinned to its own cores). */
    interface HubSide extends AutoCloseable {
        int port();

        String token();

        long publish(int rate, int seconds) throws Exception;

        /** Listeners, lagged closes, frames built once, frames reused. */
        String[] stats() throws Exception;

        @Override
        void close() throws Exception;
    }

    /** A hub with the driver's bus settings, plain text (what this measures is the bus and its writers). */
    static HubDaemon startHub() throws java.io.IOException {
        Path data = Files.createTempDirectory("fanout");
        // A deeper queue than the default 1024: a cold JIT in the first second must not close everyone as
        // lagged before the measurement starts (real clients would resume; this driver does not).
        // Plain text: the driver's raw clients speak WebSocket on a bare selector, and what this
        // measures is the bus and its writers (TLS cost is measured by ingest-load and registry-load).
        return HubDaemon.start(HubConfig.defaults(data.resolve("data")).withEvents(
                new HubConfig.Events(10_000, Duration.ofMinutes(5), QUEUE, Duration.ofSeconds(15)))
                .withTls(HubConfig.Tls.insecurePlaintext()));
    }

    static final class InProcess implements HubSide {
        final HubDaemon hub;

        InProcess() throws java.io.IOException {
            hub = startHub();
        }

        @Override
        public int port() {
            return hub.httpPort();
        }

        @Override
        public String token() {
            return hub.adminToken();
        }

        @Override
        public long publish(int rate, int seconds) throws InterruptedException {
            return FanoutDriver.publish(hub, rate, seconds);
        }

        @Override
        public String[] stats() {
            long[] shared = hub.events().sharedFrames();
            return new String[] {Integer.toString(hub.events().listeners().size()),
                    metric(hub, "hub_event_lagged_closes_total"), Long.toString(shared[0]), Long.toString(shared[1])};
        }

        @Override
        public void close() {
            hub.close();
        }
    }

    /**
     * The hub in a child JVM under {@code taskset -c CPUS}, driven over its stdin and stdout
     * ({@link HubMain}); run the driver itself under {@code taskset} on the other cores.
     */
    static final class Child implements HubSide {
        final Process process;
        final java.io.BufferedReader out;
        final java.io.PrintWriter in;
        final int port;
        final String token;

        Child(String cpus) throws java.io.IOException {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> cmd = new ArrayList<>(List.of("taskset", "-c", cpus, java));
            String opts = System.getenv("HUB_JAVA_OPTS"); // the hub JVM's options, e.g. another GC
            cmd.addAll(List.of((opts == null || opts.isBlank() ? "-Xmx2g" : opts.strip()).split("\\s+")));
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), HubMain.class.getName()));
            process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            out = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
            in = new java.io.PrintWriter(new java.io.OutputStreamWriter(process.getOutputStream(),
                    StandardCharsets.UTF_8), true);
            String[] ready = answer("ready");
            port = Integer.parseInt(ready[1]);
            token = ready[2];
        }

        private String[] answer(String what) throws java.io.IOException {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith(what + " ")) {
                    return line.split(" ");
                }
            }
            throw new java.io.IOException("the hub process ended before answering " + what);
        }

        @Override
        public int port() {
            return port;
        }

        @Override
        public String token() {
            return token;
        }

        @Override
        public long publish(int rate, int seconds) throws java.io.IOException {
            in.println("publish " + rate + " " + seconds);
            return Long.parseLong(answer("published")[1]);
        }

        @Override
        public String[] stats() throws java.io.IOException {
            in.println("stats");
            String[] a = answer("stats");
            return java.util.Arrays.copyOfRange(a, 1, 5);
        }

        @Override
        public void close() throws InterruptedException {
            in.println("quit");
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    /** The hub side of a split run: commands on stdin, answers on stdout (logs go to stderr). */
    public static final class HubMain {
        private HubMain() {
        }

        public static void main(String[] args) throws Exception {
            java.io.PrintStream answers = new java.io.PrintStream(new java.io.FileOutputStream(
                    java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
            System.setOut(System.err); // the hub's own output never mixes with the answers
            HubDaemon hub = startHub();
            answers.println("ready " + hub.httpPort() + " " + hub.adminToken());
            var commands = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = commands.readLine()) != null && !line.equals("quit")) {
                String[] c = line.split(" ");
                if (c[0].equals("publish")) {
                    answers.println("published " + FanoutDriver.publish(hub, Integer.parseInt(c[1]),
                            Integer.parseInt(c[2])));
                } else if (c[0].equals("stats")) {
                    long[] shared = hub.events().sharedFrames();
                    answers.println("stats " + hub.events().listeners().size() + " "
                            + metric(hub, "hub_event_lagged_closes_total") + " " + shared[0] + " " + shared[1]);
                }
            }
            hub.close();
            System.exit(0);
        }
    }

    private static void run(HubSide hub, int subscribers, int rate, int seconds, boolean stalled) throws Exception {
        RawClients clients = new RawClients(hub.port(), "Bearer " + hub.token());
        for (int i = 0; i < subscribers; i++) {
            clients.connect(true);
        }
        if (stalled) {
            clients.connect(false); // handshakes, then never reads (and never answers pings)
        }
        Thread reader = new Thread(clients::run, "raw-ws-reader");
        reader.setDaemon(true);
        reader.start();
        System.out.printf("%d subscribers%s connected; publishing %d events/s for %d s (4 s warm-up first; queue %d)%s%n",
                subscribers, stalled ? " + 1 stalled" : "", rate, seconds, QUEUE,
                hub instanceof Child ? "; the hub in its own JVM" : "");
        hub.publish(Math.max(1, rate / 10), 2); // warm-up, gently
        hub.publish(rate, 2);
        Thread.sleep(500);
        measureStartMillis = System.currentTimeMillis();
        reset();
        long start = System.nanoTime();
        long published = hub.publish(rate, seconds);
        double pubSecs = (System.nanoTime() - start) / 1e9;
        Thread.sleep(2000); // let the last frames arrive
        double secs = (System.nanoTime() - start) / 1e9 - 2.0;
        System.out.printf("published %d events in %.1f s = %.0f/s; delivered %d events = %.0f/s in %d frames "
                + "(%.1f events per frame)%n", published, pubSecs, published / pubSecs, EVENTS.get(),
                EVENTS.get() / secs, FRAMES.get(), EVENTS.get() / (double) Math.max(1, FRAMES.get()));
        System.out.printf("expected deliveries %d (%.1f%% delivered); latency p50 %d ms, p99 %d ms, max %d ms%n",
                published * subscribers, 100.0 * EVENTS.get() / Math.max(1, published * subscribers),
                percentile(0.50), percentile(0.99), percentile(1.0));
        StringBuilder bySecond = new StringBuilder("frames over 50 ms / frames, by second of the run:");
        for (int i = 0; i < SECONDS_KEPT; i++) {
            if (FRAMES_BY_SECOND.get(i) > 0) {
                bySecond.append(' ').append(i).append(':').append(SLOW_BY_SECOND.get(i)).append('/')
                        .append(FRAMES_BY_SECOND.get(i));
            }
        }
        System.out.println(bySecond);
        String[] st = hub.stats();
        System.out.printf("listeners at the end %s; lagged closes %s; frames encoded once %s, reused %s%n",
                st[0], st[1], st[2], st[3]);
        clients.close();
    }

    /** Publishes at {@code rate} per second for {@code seconds}; returns how many. */
    private static long publish(HubDaemon hub, int rate, int seconds) throws InterruptedException {
        long total = (long) rate * seconds;
        long start = System.nanoTime();
        long perTick = Math.max(1, rate / 1000); // in 1 ms ticks
        long n = 0;
        while (n < total) {
            for (long i = 0; i < perTick && n < total; i++, n++) {
                hub.events().publish(new Event.TokenRevoked("t" + n, "admin"));
            }
            long due = start + n * 1_000_000_000L / rate;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
        }
        return n;
    }

    /**
     * Many WebSocket clients on one selector thread, reading frames without decoding text: counts
     * the events (lines) of each message and the latency of its first event. A lean client, so the
     * measurement is of the hub, not of the JDK's WebSocket client, on a machine both share.
     */
    static final class RawClients {
        private final int port;
        private final String auth;
        private final Selector selector;
        private final List<SocketChannel> all = new ArrayList<>();
        private volatile boolean running = true;

        RawClients(int port, String auth) throws java.io.IOException {
            this.port = port;
            this.auth = auth;
            this.selector = Selector.open();
        }

        void connect(boolean read) throws java.io.IOException {
            SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
            ch.write(ByteBuffer.wrap(("GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\nAuthorization: " + auth + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer one = ByteBuffer.allocate(1);
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                one.clear();
                if (ch.read(one) < 0) {
                    throw new java.io.IOException("closed during handshake: " + head);
                }
                head.append((char) one.get(0));
            }
            if (!head.toString().startsWith("HTTP/1.1 101")) {
                throw new java.io.IOException("not upgraded: " + head);
            }
            all.add(ch);
            if (read) {
                ch.configureBlocking(false);
                ch.register(selector, SelectionKey.OP_READ, new Conn(ch));
            }
        }

        void run() {
            ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
            while (running) {
                try {
                    selector.select(100);
                    for (SelectionKey k : selector.selectedKeys()) {
                        Conn c = (Conn) k.attachment();
                        buf.clear();
                        int n = c.ch.read(buf);
                        if (n < 0) {
                            k.cancel();
                            continue;
                        }
                        buf.flip();
                        c.consume(buf, System.currentTimeMillis());
                    }
                    selector.selectedKeys().clear();
                } catch (java.io.IOException e) {
                    // a client went away: the bench reports what was delivered
                } catch (java.nio.channels.ClosedSelectorException e) {
                    return; // the bench is over
                }
            }
        }

        void close() throws java.io.IOException {
            running = false;
            for (SocketChannel ch : all) {
                ch.close();
            }
            selector.close();
        }
    }

    /** One client's frame parser. */
    static final class Conn {
        final SocketChannel ch;
        private final byte[] header = new byte[10];
        private int headerLen;
        private int headerNeed = 2;
        private long payloadLeft;
        private int opcode;
        private boolean messageStart;
        private final byte[] start = new byte[160];
        private int startLen;

        Conn(SocketChannel ch) {
            this.ch = ch;
        }

        void consume(ByteBuffer b, long now) throws java.io.IOException {
            while (b.hasRemaining()) {
                if (payloadLeft == 0 && headerLen < headerNeed) {
                    header[headerLen++] = b.get();
                    if (headerLen == 2) {
                        int len = header[1] & 0x7f;
                        headerNeed = len == 126 ? 4 : len == 127 ? 10 : 2;
                    }
                    if (headerLen == headerNeed) {
                        startFrame();
                    }
                    continue;
                }
                int take = (int) Math.min(b.remaining(), payloadLeft);
                if (opcode == 1 || opcode == 0) {
                    int pos = b.position();
                    long events = 0;
                    for (int i = 0; i < take; i++) {
                        byte x = b.get(pos + i);
                        if (x == '\n') {
                            events++;
                        }
                        if (messageStart && startLen < start.length) {
                            start[startLen++] = x;
                            if (startLen == start.length) {
                                latency(now);
                            }
                        }
                    }
                    EVENTS.addAndGet(events);
                } else if (opcode == 9 && payloadLeft == take) { // a ping with a payload, all read
                    pong(); // the payload is not echoed: the hub counts any bytes as a sign of life
                }
                b.position(b.position() + take);
                payloadLeft -= take;
                if (payloadLeft == 0) {
                    if (messageStart && startLen < start.length) {
                        latency(now);
                    }
                    headerLen = 0;
                    headerNeed = 2;
                }
            }
        }

        /** An empty masked pong (a mask of 0 keeps the bytes). */
        private void pong() {
            try {
                ch.write(ByteBuffer.wrap(new byte[] {(byte) 0x8A, (byte) 0x80, 0, 0, 0, 0}));
            } catch (java.io.IOException e) {
                // the hub closed it: counted as not delivered
            }
        }

        private void startFrame() {
            int op = header[0] & 0x0f;
            int len = header[1] & 0x7f;
            long payload = len < 126 ? len : len == 126 ? ((header[2] & 0xff) << 8) | (header[3] & 0xff)
                    : ByteBuffer.wrap(header, 2, 8).getLong();
            opcode = op;
            messageStart = op == 1;
            startLen = 0;
            payloadLeft = payload;
            if (payload == 0) {
                headerLen = 0;
                headerNeed = 2;
                if (op == 9) {
                    pong(); // the hub's pings are empty: answered here, as they have no payload to wait for
                }
            }
            if (op == 1) {
                FRAMES.incrementAndGet();
            }
        }

        private void latency(long now) {
            messageStart = false;
            // Everything is counted during the warm-up too (reset when the measurement starts): a
            // branch first taken when it started deoptimized this one reading thread, which fell a
            // few hundred ms behind, and the hub's first second looked slow.
            String s = new String(start, 0, startLen, StandardCharsets.UTF_8);
            int at = s.indexOf("\"at\":\"");
            int end = at < 0 ? -1 : s.indexOf('"', at + 6);
            if (end > 0) {
                long ms = now - Instant.parse(s.substring(at + 6, end)).toEpochMilli();
                LATENCY_MS.incrementAndGet((int) Math.max(0, Math.min(MAX_MS, ms)));
                int second = (int) Math.min(SECONDS_KEPT - 1, Math.max(0, (now - measureStartMillis) / 1000));
                FRAMES_BY_SECOND.incrementAndGet(second);
                if (ms > 50) {
                    SLOW_BY_SECOND.incrementAndGet(second);
                }
            }
        }
    }

    private static void reset() {
        for (int i = 0; i <= MAX_MS; i++) {
            LATENCY_MS.set(i, 0);
        }
        for (int i = 0; i < SECONDS_KEPT; i++) {
            FRAMES_BY_SECOND.set(i, 0);
            SLOW_BY_SECOND.set(i, 0);
        }
        EVENTS.set(0);
        FRAMES.set(0);
    }

    private static long percentile(double p) {
        long total = 0;
        for (int i = 0; i <= MAX_MS; i++) {
            total += LATENCY_MS.get(i);
        }
        if (total == 0) {
            return -1;
        }
        long want = (long) Math.ceil(p * total);
        long seen = 0;
        for (int i = 0; i <= MAX_MS; i++) {
            seen += LATENCY_MS.get(i);
            if (seen >= want) {
                return i;
            }
        }
        return MAX_MS;
    }

    private static String metric(HubDaemon hub, String name) {
        try {
            HttpClient c = HttpClient.newHttpClient();
            String body = c.send(java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.httpPort()
                    + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            for (String line : body.split("\n")) {
                if (line.startsWith(name + " ")) {
                    return line.substring(name.length() + 1);
                }
            }
            return "?";
        } catch (Exception e) {
            return "? (" + e + ")";
        }
    }
}

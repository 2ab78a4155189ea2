package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import hub.agent.AgentConnection;
import hub.hubd.config.HubConfig;
import hub.hubd.events.Event;
import hub.hubd.events.EventBus;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The event bus through its WebSocket API on a real hub: order and sequences, resume and gaps,
 * lagged closes that resume exactly, stalled and vanished listeners, the listener table.
 * Synthetic events are published on the hub's own bus where a test needs many.
 */
class EventsTest {
    @TempDir
    Path dir;
    TestHub hub;
    final List<WsClient> clients = new ArrayList<>();

    TestHub hub(int ringSize, int queue, Duration ping) {
        hub = new TestHub(HubConfig.defaults(dir.resolve("data")).withHeartbeatInterval(Duration.ofMillis(200))
                .withEvents(new HubConfig.Events(ringSize, Duration.ofMinutes(5), queue, ping)));
        return hub;
    }

    WsClient open(String path) {
        WsClient c = WsClient.open(hub, path, hub.adminToken());
        clients.add(c);
        return c;
    }

    @AfterEach
    void stop() throws Exception {
        clients.forEach(WsClient::close);
        if (hub != null) {
            hub.close();
        }
    }

    EventBus bus() {
        return hub.daemon.events();
    }

    /** Publishes n small events; returns the sequence of the last. */
    long publish(int n) {
        for (int i = 0; i < n; i++) {
            bus().publish(new Event.TokenRevoked("t" + i, "admin"));
        }
        return bus().lastSeq();
    }

    int listeners() {
        return hub.get("/api/v1/listeners").get("items").size();
    }

    static List<Long> seqs(List<JsonNode> events) {
        return events.stream().filter(j -> j.has("seq")).map(j -> j.get("seq").asLong()).toList();
    }

    @Test
    void aBusyBusSendsFramesEncodedOnceToEveryAdminAndLosesNothing() {
        hub(10_000, 16_384, Duration.ofSeconds(15));
        List<WsClient> admins = List.of(open("/api/v1/events?types=token.revoked"),
                open("/api/v1/events?types=token.revoked"), open("/api/v1/events?types=token.revoked"));
        await().atMost(Duration.ofSeconds(5)).until(() -> listeners() == 3);
        long first = bus().lastSeq() + 1;
        long last = 0;
        for (int burst = 0; burst < 30; burst++) { // 6,000 events in 0.3 s: well past the linger threshold
            last = publish(200);
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        long end = last;
        for (WsClient c : admins) {
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                List<Long> got = seqs(c.all());
                return !got.isEmpty() && got.get(got.size() - 1) == end;
            });
            List<Long> got = seqs(c.all()).stream().filter(x -> x >= first).toList();
            assertThat(got).as("every event, once, in order").hasSize(6000).isSorted().doesNotHaveDuplicates();
        }
        long[] frames = bus().sharedFrames();
        assertThat(frames[1]).as("frames reused by other subscribers (built %d)", frames[0]).isPositive();
    }

    @Test
    void nodeAndTokenEventsArriveInOrderWithIncreasingSequences() {
        hub(10_000, 1024, Duration.ofSeconds(15));
        WsClient c = open("/api/v1/events");
        await().atMost(Duration.ofSeconds(5)).until(() -> listeners() == 1);

        String token = hub.joinToken(1, "15m", Map.of("role", "web"));
        AgentConnection a = hub.agent("ev-1", token);
        await().atMost(Duration.ofSeconds(10)).until(a::connected);
        a.close();

        await().atMost(Duration.ofSeconds(10)).until(() -> !c.ofType("node.offline").isEmpty());
        assertThat(c.ofType("token.created")).hasSize(1);
        assertThat(c.ofType("token.created").get(0).get("labels").get("role").asText()).isEqualTo("web");
        JsonNode online = c.ofType("node.online").get(0);
        assertThat(online.get("node").asText()).isEqualTo(a.nodeId());
        assertThat(online.get("name").asText()).isEqualTo("ev-1");
        assertThat(c.ofType("node.offline").get(0).get("reason").asText()).isEqualTo("stream closed");
        assertThat(c.ofType("node.heartbeat")).isEmpty(); // only when asked for
        List<Long> seqs = seqs(c.all());
        assertThat(seqs).isSorted().doesNotHaveDuplicates();

        JsonNode row = hub.get("/api/v1/listeners").get("items").get(0);
        assertThat(row.get("user").asText()).isEqualTo("admin");
        assertThat(row.get("kind").asText()).isEqualTo("events");
        assertThat(row.get("delivered").asLong()).isGreaterThanOrEqualTo(3);
        assertThat(row.get("lag").asLong()).isZero();
    }

    @Test
    void aLabelSelectorKeepsItsNodesEventsLiveReplayedAndRemovedAndNothingElse() {
        hub(10_000, 1024, Duration.ofSeconds(15));
        String enc = "label=" + java.net.URLEncoder.encode("role in (web,cache),env!=dev", StandardCharsets.UTF_8);
        WsClient web = open("/api/v1/events?" + enc);
        WsClient noEnv = open("/api/v1/events?label=!env");
        await().atMost(Duration.ofSeconds(5)).until(() -> listeners() == 2);
        assertThat(hub.get("/api/v1/listeners").get("items")).anySatisfy(r -> assertThat(r.get("filter").asText())
                .contains("label=role in (web,cache),env!=dev"));

        AgentConnection w = hub.agent("sel-web", hub.joinToken(1, "15m", Map.of("role", "web", "env", "prod")));
        AgentConnection dev = hub.agent("sel-dev", hub.joinToken(1, "15m", Map.of("role", "web", "env", "dev")));
        AgentConnection db = hub.agent("sel-db", hub.joinToken(1, "15m", Map.of("role", "db")));
        await().atMost(Duration.ofSeconds(10)).until(() -> w.connected() && dev.connected() && db.connected());
        w.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> "offline".equals(hub.node("sel-web").path("status")
                .asText()));
        assertThat(hub.call("DELETE", "/api/v1/nodes/sel-web", null, hub.adminToken()).status()).isEqualTo(204);

        await().atMost(Duration.ofSeconds(10)).until(() -> !web.ofType("node.removed").isEmpty());
        await().atMost(Duration.ofSeconds(10)).until(() -> !noEnv.ofType("node.online").isEmpty());
        assertThat(web.all()).filteredOn(e -> e.has("seq")).isNotEmpty()
                .allMatch(e -> e.get("node").asText().equals(w.nodeId()));
        assertThat(web.ofType("node.online")).hasSize(1);
        assertThat(web.ofType("node.offline")).hasSize(1);
        assertThat(web.ofType("token.created")).as("events about no node are not selected").isEmpty();
        assertThat(web.ofType("node.removed").get(0).get("labels").get("role").asText()).isEqualTo("web");
        assertThat(noEnv.all()).filteredOn(e -> e.has("seq")).allMatch(e -> e.get("node").asText().equals(db.nodeId()));

        WsClient replay = open("/api/v1/events?last=1000&" + enc);
        await().atMost(Duration.ofSeconds(5)).until(() -> !replay.ofType("sync").isEmpty());
        assertThat(replay.all()).filteredOn(e -> e.has("seq")).extracting(e -> e.get("type").asText())
                .containsExactly("node.online", "node.offline", "node.removed");
        dev.close();
        db.close();
    }

    @Test
    void heartbeatsOnlyWhenAskedForAndNeverKeptForReplay() {
        hub(10_000, 1024, Duration.ofSeconds(15));
        AgentConnection a = hub.agent("hb-1", hub.joinToken(1, "15m", Map.of()));
        await().atMost(Duration.ofSeconds(10)).until(a::connected);
        WsClient beats = open("/api/v1/events?types=node.heartbeat&node=hb-1");
        await().atMost(Duration.ofSeconds(10)).until(() -> beats.ofType("node.heartbeat").size() >= 3);
        assertThat(beats.ofType("node.heartbeat")).allMatch(e -> e.get("node").asText().equals(a.nodeId()));
        assertThat(beats.all()).filteredOn(e -> e.has("seq")).allMatch(e -> e.get("type").asText()
                .equals("node.heartbeat"));

        WsClient replay = open("/api/v1/events?last=1000&types=node.heartbeat,node.online");
        await().atMost(Duration.ofSeconds(5)).until(() -> !replay.ofType("sync").isEmpty());
        List<JsonNode> replayed = replay.all().subList(0, replay.all().indexOf(replay.ofType("sync").get(0)));
        assertThat(replayed).extracting(e -> e.get("type").asText()).containsOnly("node.online");
    }

    @Test
    void resumeAfterReplaysExactlyAndTooOldGetsTheGapFirst() {
        hub(5, 1024, Duration.ofSeconds(15));
        long last = publish(20);

        WsClient recent = open("/api/v1/events?after=" + (last - 3));
        await().atMost(Duration.ofSeconds(5)).until(() -> recent.count() == 4);
        assertThat(seqs(recent.all())).containsExactly(last - 2, last - 1, last);
        assertThat(recent.all().get(3).get("type").asText()).isEqualTo("sync"); // replay done, live from here
        assertThat(recent.all().get(3).get("lastSeq").asLong()).isEqualTo(last);

        WsClient latest = open("/api/v1/events?last=2");
        await().atMost(Duration.ofSeconds(5)).until(() -> latest.count() == 3);
        assertThat(seqs(latest.all())).containsExactly(last - 1, last);

        WsClient old = open("/api/v1/events?after=" + (last - 20));
        await().atMost(Duration.ofSeconds(5)).until(() -> old.count() == 7);
        JsonNode gap = old.all().get(0);
        assertThat(gap.get("type").asText()).isEqualTo("gap");
        assertThat(gap.get("from").asLong()).isEqualTo(last - 19);
        assertThat(gap.get("to").asLong()).isEqualTo(last - 5);
        assertThat(seqs(old.all())).containsExactly(last - 4, last - 3, last - 2, last - 1, last);
    }

    @Test
    void aResumeAcrossARestartIsToldExactlyWhatItMissed() throws Exception {
        hub(1000, 1024, Duration.ofSeconds(15));
        long last = publish(10);
        clients.forEach(WsClient::close);
        clients.clear();
        hub.close();

        hub(1000, 1024, Duration.ofSeconds(15)); // same data dir, after a clean stop
        assertThat(bus().lastSeq()).isGreaterThan(last);
        WsClient upToDate = open("/api/v1/events?after=" + last);
        await().atMost(Duration.ofSeconds(5)).until(() -> upToDate.count() == 1);
        assertThat(upToDate.all().get(0).get("type").asText()).as("it had everything: no gap").isEqualTo("sync");

        WsClient behind = open("/api/v1/events?after=" + (last - 4));
        await().atMost(Duration.ofSeconds(5)).until(() -> behind.count() == 2);
        JsonNode gap = behind.all().get(0);
        assertThat(gap.get("type").asText()).isEqualTo("gap");
        assertThat(gap.get("from").asLong()).isEqualTo(last - 3);
        assertThat(gap.get("to").asLong()).as("the previous run's own last event").isEqualTo(last);
        assertThat(gap.has("restart")).isFalse();

        // a run that did not stop cleanly (its record is gone): the gap says so, without a count
        long second = publish(3);
        clients.forEach(WsClient::close);
        clients.clear();
        hub.close();
        java.nio.file.Files.delete(dir.resolve("data").resolve("events.last-seq"));
        hub(1000, 1024, Duration.ofSeconds(15));
        WsClient afterCrash = open("/api/v1/events?after=" + second);
        await().atMost(Duration.ofSeconds(5)).until(() -> afterCrash.count() == 2);
        JsonNode unknown = afterCrash.all().get(0);
        assertThat(unknown.get("type").asText()).isEqualTo("gap");
        assertThat(unknown.get("restart").asBoolean()).isTrue();
        assertThat(unknown.get("from").asLong()).isEqualTo(second + 1);
    }

    @Test
    void badRequestsAreRefusedBeforeTheUpgradeWithProblemJson() throws Exception {
        hub(100, 16, Duration.ofSeconds(15));
        assertThat(upgradeAnswer("/api/v1/events", "hat_nope")).startsWith("HTTP/1.1 401");
        String badType = upgradeAnswer("/api/v1/events?types=node.exploded", hub.adminToken());
        assertThat(badType).startsWith("HTTP/1.1 400").containsIgnoringCase("content-type: application/problem+json")
                .contains("node.exploded").contains("errorId");
        assertThat(upgradeAnswer("/api/v1/events?node=nope", hub.adminToken())).startsWith("HTTP/1.1 404");
        assertThat(upgradeAnswer("/api/v1/events?after=soon", hub.adminToken())).startsWith("HTTP/1.1 400");
        assertThat(upgradeAnswer("/api/v1/events?label=team+in+(web", hub.adminToken())).startsWith("HTTP/1.1 400")
                .contains("selector");
        assertThat(upgradeAnswer("/api/v1/nodes/nope/history/follow", hub.adminToken())).startsWith("HTTP/1.1 404");
        TestHub.Answer plain = hub.call("GET", "/api/v1/events", null, hub.adminToken());
        assertThat(plain.status()).isEqualTo(400);
        assertThat(plain.json().get("detail").asText()).contains("WebSocket");
        assertThat(hub.call("DELETE", "/api/v1/listeners/nope", null, hub.adminToken()).status()).isEqualTo(404);
        assertThat(listeners()).isZero();
    }

    @Test
    void historyFollowTellsOfTrimmedLinesBeforeTheRestAndCanBeKilled() throws Exception {
        hub = new TestHub(HubConfig.defaults(dir.resolve("data"))
                .withHistory(HubConfig.HistoryStoreKind.SQLITE, null, 10, 1 << 20));
        AgentConnection a = hub.agent("trim-1", hub.joinToken(1, "15m", Map.of()));
        await().atMost(Duration.ofSeconds(10)).until(a::connected);
        TestHub.Answer t = hub.call("POST", "/api/v1/nodes/trim-1/tasks", "{\"command\": \"seq 1 30\"}",
                hub.adminToken());
        assertThat(t.status()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(10)).until(() -> hub.get("/api/v1/tasks/" + t.json().get("id").asText())
                .get("state").asText().equals("exited"));

        WsClient f = open("/api/v1/nodes/trim-1/history/follow?after=0");
        await().atMost(Duration.ofSeconds(10)).until(() -> f.ofType("line").size() == 10);
        JsonNode gap = f.all().get(0);
        assertThat(gap.get("type").asText()).isEqualTo("gap");
        assertThat(gap.get("from").asLong()).isEqualTo(1);
        assertThat(gap.get("to").asLong()).isEqualTo(20);
        assertThat(f.ofType("line")).extracting(l -> l.get("text").asText())
                .containsExactly("21", "22", "23", "24", "25", "26", "27", "28", "29", "30");

        JsonNode row = hub.get("/api/v1/listeners").get("items").get(0);
        assertThat(row.get("kind").asText()).isEqualTo("history");
        assertThat(hub.call("DELETE", "/api/v1/listeners/" + row.get("id").asText(), null, hub.adminToken())
                .status()).isEqualTo(204);
        assertThat(f.closed.get(5, TimeUnit.SECONDS)).startsWith("4002");
        await().atMost(Duration.ofSeconds(5)).until(() -> listeners() == 0);
    }

    /** The hub's whole answer to an upgrade request that it refuses. */
    private String upgradeAnswer(String path, String token) throws Exception {
        try (Socket s = WsClient.socket(hub, 0)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " + token + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] buf = new byte[8192];
            StringBuilder sb = new StringBuilder();
            try {
                int n;
                while ((n = s.getInputStream().read(buf)) > 0) {
                    sb.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                    if (sb.indexOf("\r\n\r\n") > 0 && sb.indexOf("}") > 0) {
                        break;
                    }
                }
            } catch (java.net.SocketTimeoutException e) {
                // answered what it had
            }
            return sb.toString();
        }
    }

    @Test
    void aLaggedListenerIsClosedWithItsResumePointAndResumingLosesAndDuplicatesNothing() throws Exception {
        hub(400_000, 64, Duration.ofSeconds(15));
        long first = bus().lastSeq();
        WsClient stalled = WsClient.stalled(hub, "/api/v1/events", hub.adminToken());
        clients.add(stalled);
        await().atMost(Duration.ofSeconds(5)).until(() -> listeners() == 1);

        long last = publish(200_000);
        await().atMost(Duration.ofSeconds(20)).until(() -> listeners() == 0);
        assertThat(metric("hub_event_lagged_closes_total")).isGreaterThanOrEqualTo(1);

        stalled.resume();
        String close = stalled.closed.get(20, TimeUnit.SECONDS);
        List<JsonNode> all = stalled.all();
        assertThat(all).isNotEmpty();
        assertThat(all.get(0).get("type").asText()).isEqualTo("sync");
        assertThat(all.get(0).get("lastSeq").asLong()).isEqualTo(first);
        List<Long> got = seqs(all);
        long resumeAt = got.isEmpty() ? first : got.get(got.size() - 1);
        assertThat(resumeAt).isLessThan(last);
        assertContiguous(got, first + 1, resumeAt);
        if (close.startsWith("4001")) { // the close frame got through: it names the same point
            assertThat(close).contains("after=" + resumeAt);
        }

        WsClient again = open("/api/v1/events?after=" + resumeAt);
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> again.lastSeq() == last);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("resumed at " + resumeAt + " (first " + first + ", last " + last + ", close '"
                    + close + "'), got " + again.count() + ", closed: " + again.closed.getNow("open"), e);
        }
        assertContiguous(seqs(again.all()), resumeAt + 1, last);
    }

    @Test
    void aStalledListenerDoesNotDelayAHealthyOne() throws Exception {
        hub(10_000, 1_000_000, Duration.ofSeconds(15));
        WsClient stalled = WsClient.stalled(hub, "/api/v1/events", hub.adminToken());
        clients.add(stalled);
        WsClient healthy = open("/api/v1/events");
        await().atMost(Duration.ofSeconds(5)).until(() -> listeners() == 2);
        long filled = publish(100_000); // fills the stalled one's socket buffers: its writes stop completing
        await().atMost(Duration.ofSeconds(20)).until(() -> healthy.lastSeq() == filled);
        int before = healthy.count();

        List<Long> latencies = new ArrayList<>();
        // 500 events at one per 2 ms: latency measured at a rate, not in one burst
        ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
        CountDownLatch paced = new CountDownLatch(500);
        try {
            pacer.scheduleAtFixedRate(() -> {
                if (paced.getCount() > 0) {
                    bus().publish(new Event.TokenRevoked("paced" + paced.getCount(), "admin"));
                    paced.countDown();
                }
            }, 0, 2, TimeUnit.MILLISECONDS);
            assertThat(paced.await(20, TimeUnit.SECONDS)).isTrue();
        } finally {
            pacer.shutdownNow();
        }
        long last = bus().lastSeq();
        await().atMost(Duration.ofSeconds(10)).until(() -> healthy.lastSeq() == last);
        long now = System.currentTimeMillis();
        List<JsonNode> all = healthy.all();
        for (JsonNode e : all.subList(before, all.size())) {
            latencies.add(now - java.time.Instant.parse(e.get("at").asText()).toEpochMilli());
        }
        JsonNode stalledRow = null;
        for (JsonNode row : hub.get("/api/v1/listeners").get("items")) {
            if (stalledRow == null || row.get("lag").asLong() > stalledRow.get("lag").asLong()) {
                stalledRow = row;
            }
        }
        assertThat(stalledRow.get("lag").asLong()).as("the stalled listener is still there, behind: " + stalledRow)
                .isGreaterThan(1000);
        // generous bound: the healthy listener got every paced event while the stalled one sat there
        assertThat(latencies).hasSize(500);
        assertThat(latencies.stream().mapToLong(Long::longValue).max().orElseThrow()).isLessThan(5_000);
    }

    @Test
    void abandonedAndSilentListenersAreRemovedAndTheCountReturnsToBaseline() throws Exception {
        // Pruning is the event bus's, whatever the transport: this hub is plain text, so that 1,500
        // connections cost 1,500 TCP handshakes, not TLS ones (about a minute more of the build).
        hub = new TestHub(HubConfig.defaults(dir.resolve("data")).withHeartbeatInterval(Duration.ofMillis(200))
                .withEvents(new HubConfig.Events(1000, Duration.ofMinutes(5), 64, Duration.ofMillis(300)))
                .withTls(HubConfig.Tls.insecurePlaintext()));
        int baseline = listeners();
        String upgrade = "GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " + hub.adminToken() + "\r\n\r\n";
        // 1. clients that drop the TCP connection without a close frame
        for (int i = 0; i < 1500; i++) {
            Socket s = handshake(upgrade);
            s.setSoLinger(true, 0); // reset, not even a FIN handshake
            s.close();
        }
        // 2. clients that stay connected but answer nothing (no pong): vanished hosts
        List<Socket> silent = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            silent.add(handshake(upgrade));
        }
        // 3. clients that stop reading
        for (int i = 0; i < 30; i++) {
            clients.add(WsClient.stalled(hub, "/api/v1/events", hub.adminToken()));
        }
        publish(1000);
        try {
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                    .until(() -> listeners() == baseline);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("left: " + hub.get("/api/v1/listeners"), e);
        }
        assertThat(metric("hub_event_listeners")).isEqualTo(baseline);
        // Upgrades are not requests left running: only the scrape itself is in flight.
        assertThat(metric("hub_http_requests_in_flight")).isEqualTo(1.0);
        for (Socket s : silent) {
            s.close();
        }
    }

    private Socket handshake(String upgrade) throws Exception {
        Socket s = WsClient.socket(hub, 0);
        OutputStream out = s.getOutputStream();
        out.write(upgrade.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new AssertionError("closed during handshake: " + head);
            }
            head.append((char) b);
        }
        assertThat(head.toString()).startsWith("HTTP/1.1 101");
        return s;
    }

    private static void assertContiguous(List<Long> seqs, long from, long to) {
        assertThat(seqs).hasSize((int) (to - from + 1));
        for (int i = 0; i < seqs.size(); i++) {
            if (seqs.get(i) != from + i) {
                throw new AssertionError("expected seq " + (from + i) + " at " + i + " but got " + seqs.get(i));
            }
        }
    }

    private double metric(String name) {
        TestHub.Answer a = hub.call("GET", "/metrics", null, null);
        for (String line : a.body().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1));
            }
        }
        throw new AssertionError("no metric " + name);
    }
}

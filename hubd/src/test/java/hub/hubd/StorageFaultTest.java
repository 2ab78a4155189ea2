package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import hub.hubd.config.HubConfig;
import hub.hubd.core.StoreFaults;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The hub's storage failing for real: a SQLite file that cannot grow (its page limit reached, as a
 * full disk does) and a Redis that stops answering (behind a {@link StallingProxy}). Clients get
 * 507/503 problem+json, reads keep working, and the log gets one line per stall, not one per request.
 */
class StorageFaultTest {
    final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

    @BeforeEach
    void capture() {
        StoreFaults.resetWindow();
        logs.start();
        root.addAppender(logs);
    }

    @AfterEach
    void release() {
        root.detachAppender(logs);
    }

    private List<ILoggingEvent> errors() {
        return logs.list.stream().filter(e -> e.getLevel() == Level.ERROR).toList();
    }

    @Test
    void aFullDatabaseIs507ProblemJsonReadsStillWorkAndTheLogSaysSoOnce(@TempDir Path data) throws Exception {
        Path db = data.resolve("hub.db");
        int pages;
        try (TestHub first = new TestHub(data, Duration.ofSeconds(5))) {
            first.joinToken(1, "1h", Map.of());
        } // a clean stop checkpoints the WAL into hub.db
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                ResultSet r = c.createStatement().executeQuery("PRAGMA page_count")) {
            r.next();
            pages = r.getInt(1);
        }
        // Room for a few more pages, then the file is "full": SQLite answers SQLITE_FULL, exactly as
        // it does when the disk has no space left.
        HubConfig full = HubConfig.defaults(data).withHeartbeatInterval(Duration.ofSeconds(5))
                .withListeners(0, 0, "jdbc:sqlite:" + db + "?max_page_count=" + (pages + 3));
        try (TestHub hub = new TestHub(full)) {
            TestHub.Answer refused = null;
            int created = 0;
            String padded = "{\"uses\":1,\"ttl\":\"1h\",\"labels\":{\"padding\":\"" + "x".repeat(120) + "\"}}";
            for (int i = 0; i < 5000 && refused == null; i++) {
                TestHub.Answer a = hub.call("POST", "/api/v1/join-tokens", padded, hub.adminToken());
                if (a.status() == 201) {
                    created++;
                } else {
                    refused = a;
                }
            }
            assertThat(refused).as("the database filled up").isNotNull();
            assertThat(created).as(refused.status() + " " + refused.body()).isPositive();
            assertThat(refused.status()).as(refused.body()).isEqualTo(507);
            assertThat(refused.contentType()).startsWith("application/problem+json");
            assertThat(refused.json().get("type").asText()).endsWith("/storage-full");
            assertThat(refused.json().get("detail").asText()).contains("storage is full").contains("reads still work");
            assertThat(refused.body()).doesNotContain("SQLITE").doesNotContain("Exception");

            for (int i = 0; i < 20; i++) {
                assertThat(hub.call("POST", "/api/v1/join-tokens", padded, hub.adminToken()).status())
                        .isEqualTo(507);
            }
            assertThat(hub.call("GET", "/api/v1/join-tokens", null, hub.adminToken()).status()).isEqualTo(200);
            assertThat(hub.get("/api/v1/join-tokens").get("items").size()).as("nothing half-written").isEqualTo(created + 1);
            assertThat(hub.call("GET", "/api/v1/nodes", null, hub.adminToken()).status()).isEqualTo(200);

            List<ILoggingEvent> fullLines = errors().stream()
                    .filter(e -> e.getFormattedMessage().contains("storage is full")).toList();
            assertThat(fullLines).as("one line for the stall, not one per request").hasSize(1);
            assertThat(fullLines.get(0).getFormattedMessage()).contains("free space").contains("SQLITE_FULL");
            assertThat(errors()).as("no other errors, no stack traces").hasSize(1);
            assertThat(fullLines.get(0).getThrowableProxy()).isNull();
        }
    }

    @Test
    void aRedisThatStopsAnsweringIs503AndTheHubRecoversWhenItIsBack(@TempDir Path data) throws Exception {
        try (StallingProxy proxy = new StallingProxy("127.0.0.1", redisPort());
                TestHub hub = new TestHub(HubConfig.defaults(data).withHeartbeatInterval(Duration.ofSeconds(5))
                        .withHistory(HubConfig.HistoryStoreKind.REDIS, "redis://127.0.0.1:" + proxy.port(),
                                1000, 1L << 20))) {
            hub.agent("r-1", hub.joinToken(1, "1h", Map.of()));
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> "online".equals(hub.node("r-1").path("status").asText()));
            assertThat(hub.call("GET", "/api/v1/nodes/r-1/history?tail=5", null, hub.adminToken()).status())
                    .isEqualTo(200);

            proxy.stall();
            long start = System.nanoTime();
            TestHub.Answer a = hub.call("GET", "/api/v1/nodes/r-1/history?tail=5", null, hub.adminToken());
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(a.status()).as(a.body()).isEqualTo(503);
            assertThat(a.contentType()).startsWith("application/problem+json");
            assertThat(a.json().get("type").asText()).endsWith("/storage-unavailable");
            assertThat(a.body()).doesNotContain("Redis").doesNotContain("Exception");
            assertThat(tookMs).as("a stalled Redis fails a request in seconds").isLessThan(15_000);
            assertThat(hub.call("GET", "/api/v1/nodes/r-1", null, hub.adminToken()).status())
                    .as("what does not need Redis still works").isEqualTo(200);

            proxy.resume();
            await().atMost(Duration.ofSeconds(15)).until(() ->
                    hub.call("GET", "/api/v1/nodes/r-1/history?tail=5", null, hub.adminToken()).status() == 200);
            assertThat(errors().stream().filter(e -> e.getFormattedMessage().contains("storage did not answer")))
                    .hasSize(1);
            assertThat(errors().stream().filter(e -> e.getThrowableProxy() != null)).isEmpty();
        }
    }

    static int redisPort() {
        String url = System.getenv().getOrDefault("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379");
        return java.net.URI.create(url).getPort();
    }
}

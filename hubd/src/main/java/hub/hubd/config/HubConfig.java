package hub.hubd.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything hubd is configured with, resolved (flag &gt; {@code HUB_*} environment &gt; config
 * file &gt; default) and validated. Immutable; the composition root hands parts of it to each
 * component.
 *
 * @param dataDir           SQLite database, the bootstrap admin token, agent artifacts
 * @param bind              address both listeners bind to
 * @param httpPort          HTTP API port (0 picks a free one)
 * @param grpcPort          agent gRPC port (0 picks a free one)
 * @param dbUrl             JDBC URL; {@code null} means the SQLite file {@code dataDir/hub.db}
 * @param logFormat         {@code text} or {@code json}
 * @param heartbeatInterval sent to agents; offline after 3 missed intervals
 * @param shutdownGrace     how long SIGTERM waits for streams and queues before forcing
 * @param historyStore      where terminal history lives
 * @param redisUrl          Redis for the redis history store ({@code redis://host:port})
 * @param historyMaxLines   per-node history cap in lines
 * @param historyMaxBytes   per-node history cap in bytes
 * @param events            event bus and WebSocket listener settings
 * @param agentArtifact     the agent tarball provisioning serves, or {@code null} for none
 */
public record HubConfig(
        Path dataDir,
        String bind,
        int httpPort,
        int grpcPort,
        String dbUrl,
        String logFormat,
        Duration heartbeatInterval,
        Duration shutdownGrace,
        HistoryStoreKind historyStore,
        String redisUrl,
        long historyMaxLines,
        long historyMaxBytes,
        Events events,
        Path agentArtifact) {

    /**
     * Event bus and WebSocket listeners.
     *
     * @param ringSize     events kept for {@code ?after=} resumes
     * @param ringAge      and for at most this long
     * @param queue        events a listener may have waiting before it is closed as lagged
     * @param pingInterval WebSocket ping interval; a listener that answers nothing (no pong, no
     *                     data) for a whole interval after a ping is closed as silent
     */
    public record Events(int ringSize, Duration ringAge, int queue, Duration pingInterval) {
        public Events {
            if (ringSize < 1 || queue < 1) {
                throw new IllegalArgumentException("events-ring-size and events-queue must be positive");
            }
            if (ringAge.toMillis() < 1000 || pingInterval.toMillis() < 100) {
                throw new IllegalArgumentException("events-ring-age must be at least 1s and ws-ping-interval 100ms");
            }
        }

        public static Events defaults() {
            return new Events(10_000, Duration.ofMinutes(5), 1024, Duration.ofSeconds(15));
        }
    }

    /** Which terminal-history backend to use. */
    public enum HistoryStoreKind { SQLITE, REDIS }

    public HubConfig {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(bind, "bind");
        Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
        requirePort("http-port", httpPort);
        requirePort("grpc-port", grpcPort);
        if (!logFormat.equals("text") && !logFormat.equals("json")) {
            throw new IllegalArgumentException("log-format must be text or json, not '" + logFormat + "'");
        }
        Objects.requireNonNull(historyStore, "historyStore");
        if (historyStore == HistoryStoreKind.REDIS && (redisUrl == null || redisUrl.isBlank())) {
            throw new IllegalArgumentException("history-store redis needs --redis-url");
        }
        if (historyMaxLines < 1 || historyMaxBytes < 1) {
            throw new IllegalArgumentException("history-max-lines and history-max-bytes must be positive");
        }
        Objects.requireNonNull(events, "events");
        if (heartbeatInterval.toMillis() < 50) {
            throw new IllegalArgumentException("heartbeat-interval must be at least 50ms");
        }
    }

    private static void requirePort(String name, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(name + " must be between 0 and 65535, not " + port);
        }
    }

    /** The JDBC URL to open: the configured one, or the embedded SQLite file in the data dir. */
    public String effectiveDbUrl() {
        return dbUrl != null && !dbUrl.isBlank()
                ? dbUrl
                : "jdbc:sqlite:" + dataDir.resolve("hub.db").toAbsolutePath();
    }

    /** A configuration for tests and embedding: a data dir, free ports on loopback, defaults. */
    public static HubConfig defaults(Path dataDir) {
        return new HubConfig(dataDir, "127.0.0.1", 0, 0, null, "text",
                Duration.ofSeconds(10), Duration.ofSeconds(10), HistoryStoreKind.SQLITE, null, 100_000,
                64L * 1024 * 1024, Events.defaults(), null);
    }

    /** This configuration with another heartbeat interval. */
    public HubConfig withHeartbeatInterval(Duration interval) {
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat, interval,
                shutdownGrace, historyStore, redisUrl, historyMaxLines, historyMaxBytes, events, agentArtifact);
    }

    /** This configuration with other ports and database (tests restart a hub on the same ports). */
    public HubConfig withListeners(int http, int grpc, String db) {
        return new HubConfig(dataDir, bind, http, grpc, db, logFormat, heartbeatInterval,
                shutdownGrace, historyStore, redisUrl, historyMaxLines, historyMaxBytes, events, agentArtifact);
    }

    /** This configuration with another history backend and caps. */
    public HubConfig withHistory(HistoryStoreKind kind, String redis, long maxLines, long maxBytes) {
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat, heartbeatInterval,
                shutdownGrace, kind, redis, maxLines, maxBytes, events, agentArtifact);
    }

    /** This configuration serving another agent artifact. */
    public HubConfig withAgentArtifact(Path artifact) {
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat, heartbeatInterval,
                shutdownGrace, historyStore, redisUrl, historyMaxLines, historyMaxBytes, events, artifact);
    }

    /** This configuration with other event settings. */
    public HubConfig withEvents(Events e) {
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat, heartbeatInterval,
                shutdownGrace, historyStore, redisUrl, historyMaxLines, historyMaxBytes, e, agentArtifact);
    }
}

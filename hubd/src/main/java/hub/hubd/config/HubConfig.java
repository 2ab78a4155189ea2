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
 */
public record HubConfig(
        Path dataDir,
        String bind,
        int httpPort,
        int grpcPort,
        String dbUrl,
        String logFormat,
        Duration heartbeatInterval,
        Duration shutdownGrace) {

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
                Duration.ofSeconds(10), Duration.ofSeconds(10));
    }

    /** This configuration with another heartbeat interval. */
    public HubConfig withHeartbeatInterval(Duration interval) {
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat, interval,
                shutdownGrace);
    }
}

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
 * @param advertise         host names and addresses agents and admins reach this hub by: the
 *                          serving certificate's names, and the first is what provisioning
 *                          scripts connect to
 * @param tls               TLS on both listeners, or plain text
 * @param auditRetention    how long audit entries are kept ({@link Duration#ZERO}: for ever)
 * @param nodeExpiry        offline nodes are removed after this long ({@link Duration#ZERO}: never)
 * @param taskOutput        how long and how much raw task output is kept for its readers
 * @param sessions          terminal sessions: idle timeout, bounds, recording
 * @param cluster           several hubs sharing PostgreSQL and Redis, or {@link Cluster#OFF}
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
        Path agentArtifact,
        java.util.List<String> advertise,
        Tls tls,
        Duration auditRetention,
        Duration nodeExpiry,
        TaskOutput taskOutput,
        Sessions sessions,
        Cluster cluster) {

    /**
     * Several hubs on one PostgreSQL and one Redis ({@code --cluster-name}); {@link #OFF} is the
     * embedded single hub.
     *
     * @param name        the cluster's name: every hub of it gives the same one, and it prefixes
     *                    the cluster's Redis keys ({@code hub:NAME:}), so clusters can share a Redis
     * @param redisConfig a Redisson YAML file (Sentinel, Cluster, TLS) instead of {@code --redis-url};
     *                    null: the URL
     */
    public record Cluster(String name, Path redisConfig) {
        /** One hub, no cluster. */
        public static final Cluster OFF = new Cluster(null, null);

        public Cluster {
            if (name != null && !name.matches("[a-z0-9][a-z0-9-]{0,62}")) {
                throw new IllegalArgumentException("cluster-name must be 1-63 of a-z, 0-9 and '-', "
                        + "starting with a letter or digit, not '" + name + "'");
            }
        }

        /** Whether this hub is one of several. */
        public boolean enabled() {
            return name != null;
        }

        /** The prefix of this cluster's Redis keys. */
        public String redisPrefix() {
            return enabled() ? "hub:" + name + ":" : "hub:";
        }
    }

    /**
     * Terminal sessions ({@code hubctl ssh}).
     *
     * @param idleTimeout       a session with no input and no output this long is ended
     *                          ({@code --session-idle-timeout})
     * @param maxPerNode        live sessions per node ({@code --session-max-per-node})
     * @param recordInput       whether typed input is recorded ({@code --record-input}; off: passwords)
     * @param maxRecordingBytes output recorded per session; past it the session goes on unrecorded
     *                          ({@code --session-max-recording-bytes})
     * @param retention         how long recordings are kept after their session ended
     *                          ({@code --session-retention})
     */
    public record Sessions(Duration idleTimeout, int maxPerNode, boolean recordInput, long maxRecordingBytes,
            Duration retention) {
        public Sessions {
            if (idleTimeout.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("session-idle-timeout must be at least 1s");
            }
            if (maxPerNode < 1) {
                throw new IllegalArgumentException("session-max-per-node must be at least 1");
            }
            if (maxRecordingBytes < 0) {
                throw new IllegalArgumentException("session-max-recording-bytes must not be negative");
            }
            if (retention.compareTo(Duration.ofMinutes(1)) < 0) {
                throw new IllegalArgumentException("session-retention must be at least 1m");
            }
        }

        public static Sessions defaults() {
            return new Sessions(Duration.ofMinutes(30), 10, false, 64L * 1024 * 1024, Duration.ofDays(30));
        }
    }

    /**
     * Raw task output (the exact bytes, for {@code hubctl exec}), kept until its reader has it.
     *
     * @param retention       kept at most this long after the task ended ({@code --task-output-retention})
     * @param maxBytesPerNode unread raw output one node may have on the hub; past it a task's further
     *                        chunks are kept in the history only, and its readers are told
     *                        ({@code --task-output-max-bytes})
     */
    public record TaskOutput(Duration retention, long maxBytesPerNode) {
        public TaskOutput {
            if (retention.compareTo(Duration.ofMinutes(1)) < 0) {
                throw new IllegalArgumentException("task-output-retention must be at least 1m");
            }
            if (maxBytesPerNode < 64 * 1024) {
                throw new IllegalArgumentException("task-output-max-bytes must be at least 65536");
            }
        }

        public static TaskOutput defaults() {
            return new TaskOutput(Duration.ofHours(1), 256L * 1024 * 1024);
        }
    }

    /**
     * TLS on both listeners (the default) or, only when asked, plain text.
     *
     * @param plaintext     {@code --insecure-plaintext}: no TLS at all (lab use; logged as a warning)
     * @param certFile      {@code --tls-cert}: the operator's serving chain, PEM; null to generate one
     * @param keyFile       {@code --tls-key}: its private key, PEM
     * @param clientCaFile  {@code --tls-client-ca}: CAs whose client certificates are accepted besides
     *                      the hub CA's, PEM; or null
     * @param nodeCertTtl   {@code --node-cert-ttl}: lifetime of node certificates (at least 1h)
     * @param checkInterval how often the certificate files are checked for changes
     */
    public record Tls(boolean plaintext, Path certFile, Path keyFile, Path clientCaFile, Duration nodeCertTtl,
            Duration checkInterval) {
        public Tls {
            if ((certFile == null) != (keyFile == null)) {
                throw new IllegalArgumentException("--tls-cert and --tls-key go together");
            }
            if (clientCaFile != null && plaintext) {
                throw new IllegalArgumentException("--tls-client-ca needs TLS; it cannot go with --insecure-plaintext");
            }
            if (certFile != null && plaintext) {
                throw new IllegalArgumentException("--tls-cert needs TLS; it cannot go with --insecure-plaintext");
            }
            Objects.requireNonNull(nodeCertTtl, "nodeCertTtl");
            if (nodeCertTtl.compareTo(Duration.ofHours(1)) < 0 || nodeCertTtl.compareTo(Duration.ofDays(366)) > 0) {
                throw new IllegalArgumentException("node-cert-ttl must be between 1h and 366d");
            }
            Objects.requireNonNull(checkInterval, "checkInterval");
        }

        /** TLS with a generated certificate and 30-day node certificates. */
        public static Tls defaults() {
            return new Tls(false, null, null, null, Duration.ofDays(30), Duration.ofSeconds(10));
        }

        /** No TLS. */
        public static Tls insecurePlaintext() {
            return new Tls(true, null, null, null, Duration.ofDays(30), Duration.ofSeconds(10));
        }
    }

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
        if (historyStore == HistoryStoreKind.REDIS && (redisUrl == null || redisUrl.isBlank())
                && (cluster == null || cluster.redisConfig() == null)) {
            throw new IllegalArgumentException("history-store redis needs --redis-url (or --redis-config)");
        }
        if (historyMaxLines < 1 || historyMaxBytes < 1) {
            throw new IllegalArgumentException("history-max-lines and history-max-bytes must be positive");
        }
        Objects.requireNonNull(events, "events");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(taskOutput, "taskOutput");
        Objects.requireNonNull(sessions, "sessions");
        advertise = java.util.List.copyOf(advertise);
        if (advertise.isEmpty()) {
            throw new IllegalArgumentException("advertise needs at least one host name or address");
        }
        for (String a : advertise) {
            if (!a.matches("[A-Za-z0-9]([A-Za-z0-9.-]{0,252})|[0-9A-Fa-f:.]{2,45}|\\[[0-9A-Fa-f:.]{2,45}]")) {
                throw new IllegalArgumentException("advertise: '" + a + "' is not a host name or IP address");
            }
        }
        Objects.requireNonNull(cluster, "cluster");
        if (cluster.enabled()) {
            if (dbUrl == null || !dbUrl.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("cluster-name needs --db-url jdbc:postgresql://… "
                        + "(every hub of a cluster shares one PostgreSQL)");
            }
            if ((redisUrl == null || redisUrl.isBlank()) && cluster.redisConfig() == null) {
                throw new IllegalArgumentException("cluster-name needs --redis-url or --redis-config "
                        + "(presence, routing and events go through Redis)");
            }
        } else if (cluster.redisConfig() != null) {
            throw new IllegalArgumentException("redis-config is for several hubs: give --cluster-name too");
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
                Duration.ofSeconds(10), Duration.ofSeconds(10), HistoryStoreKind.SQLITE, null, 100_000,
                64L * 1024 * 1024, Events.defaults(), null, java.util.List.of("127.0.0.1", "localhost", "::1"),
                Tls.defaults(), DEFAULT_AUDIT_RETENTION, Duration.ZERO, TaskOutput.defaults(), Sessions.defaults(), Cluster.OFF);
    }

    /** How long audit entries are kept unless {@code --audit-retention} says otherwise. */
    public static final Duration DEFAULT_AUDIT_RETENTION = Duration.ofDays(90);

    /** This configuration removing nodes offline for longer than {@code expiry} (ZERO: never). */
    public HubConfig withNodeExpiry(Duration expiry) {
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat, heartbeatInterval,
                shutdownGrace, historyStore, redisUrl, historyMaxLines, historyMaxBytes, events, agentArtifact,
                advertise, tls, auditRetention, expiry, taskOutput, sessions, cluster);
    }

    /** This configuration with other raw task output bounds. */
    public HubConfig withTaskOutput(TaskOutput t) {
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat, heartbeatInterval,
                shutdownGrace, historyStore, redisUrl, historyMaxLines, historyMaxBytes, events, agentArtifact,
                advertise, tls, auditRetention, nodeExpiry, t, sessions, cluster);
    }

    /** This configuration keeping audit entries for {@code retention}. */
    public HubConfig withAuditRetention(Duration retention) {
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat, heartbeatInterval,
                shutdownGrace, historyStore, redisUrl, historyMaxLines, historyMaxBytes, events, agentArtifact,
                advertise, tls, retention, nodeExpiry, taskOutput, sessions, cluster);
    }

    /** This configuration with another heartbeat interval. */
    public HubConfig withHeartbeatInterval(Duration interval) {
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat, interval,
                shutdownGrace, historyStore, redisUrl, historyMaxLines, historyMaxBytes, events, agentArtifact, advertise, tls, auditRetention, nodeExpiry, taskOutput, sessions, cluster);
    }

    /** This configuration with other ports and database (tests restart a hub on the same ports). */
    public HubConfig withListeners(int http, int grpc, String db) {
        return new HubConfig(dataDir, bind, http, grpc, db, logFormat, heartbeatInterval,
                shutdownGrace, historyStore, redisUrl, historyMaxLines, historyMaxBytes, events, agentArtifact, advertise, tls, auditRetention, nodeExpiry, taskOutput, sessions, cluster);
    }

    /** This configuration with another history backend and caps. */
    public HubConfig withHistory(HistoryStoreKind kind, String redis, long maxLines, long maxBytes) {
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat, heartbeatInterval,
                shutdownGrace, kind, redis, maxLines, maxBytes, events, agentArtifact, advertise, tls, auditRetention, nodeExpiry, taskOutput, sessions, cluster);
    }

    /** This configuration serving another agent artifact. */
    public HubConfig withAgentArtifact(Path artifact) {
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat, heartbeatInterval,
                shutdownGrace, historyStore, redisUrl, historyMaxLines, historyMaxBytes, events, artifact, advertise, tls, auditRetention, nodeExpiry, taskOutput, sessions, cluster);
    }

    /** This configuration with other event settings. */
    public HubConfig withEvents(Events e) {
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat, heartbeatInterval,
                shutdownGrace, historyStore, redisUrl, historyMaxLines, historyMaxBytes, e, agentArtifact, advertise, tls, auditRetention, nodeExpiry, taskOutput, sessions, cluster);
    }

    /** This configuration with other TLS settings. */
    public HubConfig withTls(Tls t) {
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat, heartbeatInterval,
                shutdownGrace, historyStore, redisUrl, historyMaxLines, historyMaxBytes, events, agentArtifact,
                advertise, t, auditRetention, nodeExpiry, taskOutput, sessions, cluster);
    }

    /** This configuration advertising other names. */
    public HubConfig withAdvertise(java.util.List<String> names) {
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat, heartbeatInterval,
                shutdownGrace, historyStore, redisUrl, historyMaxLines, historyMaxBytes, events, agentArtifact,
                names, tls, auditRetention, nodeExpiry, taskOutput, sessions, cluster);
    }

    /** This configuration with other terminal session settings. */
    public HubConfig withSessions(Sessions s) {
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat, heartbeatInterval,
                shutdownGrace, historyStore, redisUrl, historyMaxLines, historyMaxBytes, events, agentArtifact,
                advertise, tls, auditRetention, nodeExpiry, taskOutput, s, cluster);
    }

    /** This configuration as one hub of the cluster {@code c}. */
    public HubConfig withCluster(Cluster c, String redis) {
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat, heartbeatInterval,
                shutdownGrace, historyStore, redis, historyMaxLines, historyMaxBytes, events, agentArtifact,
                advertise, tls, auditRetention, nodeExpiry, taskOutput, sessions, c);
    }

    /** Whether the hub needs a Redis connection: the redis history store, or a cluster. */
    public boolean usesRedis() {
        return historyStore == HistoryStoreKind.REDIS || cluster.enabled();
    }

    /** Where the CA and the generated serving certificate live. */
    public Path tlsDir() {
        return dataDir.resolve("tls");
    }
}

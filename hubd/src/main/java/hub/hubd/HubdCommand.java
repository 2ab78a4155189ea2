package hub.hubd;

import hub.hubd.config.Durations;
import hub.hubd.config.HubConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * hubd's command line. Every option can also be set as a {@code HUB_*} environment variable or
 * in the config file (see {@link hub.hubd.config.HubdDefaults}); a flag wins.
 */
@Command(name = "hubd", mixinStandardHelpOptions = true, versionProvider = HubdCommand.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = {"The Mesh Hub daemon: agents connect over gRPC, people and tools over HTTPS (TLS on both by default).",
            "Runs in the foreground and logs to stdout; SIGTERM drains agents and stops cleanly.",
            "Every option may also be given as HUB_<OPTION> (e.g. HUB_HTTP_PORT) or in the config file."},
        subcommands = {CaCommand.class},
        footer = {"", "Durations are written 500ms, 10s, 15m, 24h, 30d.",
            "On first start it creates an admin API token in <data-dir>/admin.token (mode 0600), and a CA and",
            "serving certificate in <data-dir>/tls (keys 0600); 'hubd ca show' prints the CA and its pin."})
public final class HubdCommand implements Callable<HubConfig> {

    @Option(names = "--config", paramLabel = "FILE",
            description = "Config file, Java properties (key = value, keys as the long options without --). "
                    + "Env: HUB_CONFIG. Default: /etc/hubd/hubd.conf if it exists.")
    Path config;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "./hub-data",
            description = "SQLite database and the bootstrap admin token. Default: ${DEFAULT-VALUE}")
    Path dataDir;

    @Option(names = "--bind", paramLabel = "ADDR", defaultValue = "0.0.0.0",
            description = "Address both listeners bind to. Default: ${DEFAULT-VALUE}")
    String bind;

    @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "8080",
            description = "HTTP API port. Default: ${DEFAULT-VALUE}")
    int httpPort;

    @Option(names = "--grpc-port", paramLabel = "PORT", defaultValue = "9090",
            description = "Agent gRPC port. Default: ${DEFAULT-VALUE}")
    int grpcPort;

    @Option(names = "--db-url", paramLabel = "JDBC_URL",
            description = "Database; default a SQLite file in the data dir. jdbc:postgresql://… for several hubs.")
    String dbUrl;

    @Option(names = "--log-format", paramLabel = "text|json", defaultValue = "text",
            description = "Log line format on stdout. Default: ${DEFAULT-VALUE}")
    String logFormat;

    @Option(names = "--heartbeat-interval", paramLabel = "DURATION", defaultValue = "10s",
            description = "Sent to agents; a node is offline after 3 missed intervals. Default: ${DEFAULT-VALUE}")
    String heartbeatInterval;

    @Option(names = "--shutdown-grace", paramLabel = "DURATION", defaultValue = "10s",
            description = "On SIGTERM, how long to wait for agents to drain and writes to flush. "
                    + "Default: ${DEFAULT-VALUE}")
    String shutdownGrace;

    @Option(names = "--audit-retention", paramLabel = "DURATION", defaultValue = "90d",
            description = "How long audit entries are kept; 0 keeps them for ever. Default: ${DEFAULT-VALUE}")
    String auditRetention;

    @Option(names = "--task-output-retention", paramLabel = "DURATION", defaultValue = "1h",
            description = "How long after a task ended its raw output (the exact bytes 'hubctl exec' reads) "
                    + "is kept when no reader took it; the history keeps its text regardless. Default: "
                    + "${DEFAULT-VALUE}")
    String taskOutputRetention;

    @Option(names = "--task-output-max-bytes", paramLabel = "N", defaultValue = "268435456",
            description = "Raw task output of one node not yet read (or expired) that the hub keeps; past it "
                    + "a task's further output is kept as history text only and 'hubctl exec' fails with "
                    + "exit 255 saying so. Default: ${DEFAULT-VALUE}")
    long taskOutputMaxBytes;

    @Option(names = "--session-idle-timeout", paramLabel = "DURATION", defaultValue = "30m",
            description = "End a terminal session (hubctl ssh) with no input and no output for this long. "
                    + "Default: ${DEFAULT-VALUE}")
    String sessionIdleTimeout;

    @Option(names = "--session-max-per-node", paramLabel = "N", defaultValue = "10",
            description = "Terminal sessions one node may have open at once. Default: ${DEFAULT-VALUE}")
    int sessionMaxPerNode;

    @Option(names = "--record-input",
            description = "Record what is typed in terminal sessions too (off by default: it holds passwords "
                    + "typed at prompts); admins read it with the recording's input=true")
    boolean recordInput;

    @Option(names = "--session-max-recording-bytes", paramLabel = "N", defaultValue = "67108864",
            description = "Output recorded per terminal session; past it the session goes on, unrecorded "
                    + "(its text still reaches the node's history). Default: ${DEFAULT-VALUE}")
    long sessionMaxRecordingBytes;

    @Option(names = "--session-retention", paramLabel = "DURATION", defaultValue = "30d",
            description = "How long a terminal session's recording is kept after it ended. Default: "
                    + "${DEFAULT-VALUE}")
    String sessionRetention;

    @Option(names = "--history-store", paramLabel = "sqlite|redis", defaultValue = "sqlite",
            description = "Where terminal history lives: the database (sqlite, also with --db-url "
                    + "postgresql) or Redis (several hubs). Default: ${DEFAULT-VALUE}")
    String historyStore;

    @Option(names = "--redis-url", paramLabel = "URL",
            description = "Redis for --history-store redis and for a cluster, e.g. redis://127.0.0.1:6379 "
                    + "(rediss:// for TLS)")
    String redisUrl;

    @Option(names = "--redis-config", paramLabel = "FILE",
            description = "A Redisson YAML file (Sentinel, Redis Cluster, TLS, passwords) instead of --redis-url; "
                    + "with --cluster-name")
    java.nio.file.Path redisConfig;

    @Option(names = "--cluster-name", paramLabel = "NAME",
            description = "Run as one of several hubs sharing --db-url jdbc:postgresql://… and Redis; every hub "
                    + "of the cluster gives the same NAME (it prefixes the Redis keys). Default: one hub")
    String clusterName;

    @Option(names = "--history-max-lines", paramLabel = "N", defaultValue = "100000",
            description = "Per-node history cap in lines; the oldest are trimmed. Default: ${DEFAULT-VALUE}")
    long historyMaxLines;

    @Option(names = "--history-max-bytes", paramLabel = "N", defaultValue = "67108864",
            description = "Per-node history cap in bytes; the oldest lines are trimmed. Default: ${DEFAULT-VALUE}")
    long historyMaxBytes;

    @Option(names = "--events-ring-size", paramLabel = "N", defaultValue = "10000",
            description = "Events kept for listeners that resume with ?after=. Default: ${DEFAULT-VALUE}")
    int eventsRingSize;

    @Option(names = "--events-ring-age", paramLabel = "DURATION", defaultValue = "5m",
            description = "How long events are kept for resuming. Default: ${DEFAULT-VALUE}")
    String eventsRingAge;

    @Option(names = "--events-queue", paramLabel = "N", defaultValue = "1024",
            description = "Events a listener may have waiting before it is closed as lagged. Default: ${DEFAULT-VALUE}")
    int eventsQueue;

    @Option(names = "--ws-ping-interval", paramLabel = "DURATION", defaultValue = "15s",
            description = "WebSocket ping interval; a listener silent for a whole interval after a ping is "
                    + "closed. Default: ${DEFAULT-VALUE}")
    String wsPingInterval;

    @Option(names = "--advertise", paramLabel = "NAME[,NAME…]",
            description = "Host names and addresses agents and admins reach this hub by: the serving "
                    + "certificate names them, and provisioning scripts connect to the first. Default: this "
                    + "machine's host name and non-loopback addresses, localhost, 127.0.0.1, ::1")
    String advertise;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "Serve this certificate chain (PEM, leaf first) instead of one made from the hub CA; "
                    + "read again when the file changes. With --tls-key.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "The private key of --tls-cert (PEM).")
    Path tlsKey;

    @Option(names = "--tls-client-ca", paramLabel = "FILE",
            description = "Also accept agent client certificates from these CAs (PEM), besides the hub CA's.")
    Path tlsClientCa;

    @Option(names = "--node-cert-ttl", paramLabel = "DURATION", defaultValue = "30d",
            description = "Lifetime of the client certificates nodes get; agents renew at 2/3 of it. "
                    + "Default: ${DEFAULT-VALUE}")
    String nodeCertTtl;

    @Option(names = "--insecure-plaintext", defaultValue = "false",
            description = "No TLS on either listener: tokens, credentials and output cross the network in "
                    + "clear text. For labs only; logged as a warning and shown by 'hubctl status'.")
    boolean insecurePlaintext;

    @Option(names = "--agent-artifact", paramLabel = "FILE",
            description = "The agent tarball provisioning serves. Default: lib/hub-agent.tar.gz of this "
                    + "installation")
    java.nio.file.Path agentArtifact;

    /** Validates the options into a {@link HubConfig}. */
    @Override
    public HubConfig call() {
        HubConfig.HistoryStoreKind kind = switch (historyStore) {
            case "sqlite" -> HubConfig.HistoryStoreKind.SQLITE;
            case "redis" -> HubConfig.HistoryStoreKind.REDIS;
            default -> throw new IllegalArgumentException("history-store must be sqlite or redis, not '"
                    + historyStore + "'");
        };
        return new HubConfig(dataDir, bind, httpPort, grpcPort, dbUrl, logFormat,
                Durations.parse(heartbeatInterval), Durations.parse(shutdownGrace), kind, redisUrl,
                historyMaxLines, historyMaxBytes, new HubConfig.Events(eventsRingSize, Durations.parse(eventsRingAge),
                        eventsQueue, Durations.parse(wsPingInterval)), agentArtifact != null ? agentArtifact
                        : defaultAgentArtifact(), hub.hubd.config.Advertise.parse(advertise),
                new HubConfig.Tls(insecurePlaintext, tlsCert, tlsKey, tlsClientCa, Durations.parse(nodeCertTtl),
                        java.time.Duration.ofSeconds(10)), auditRetention(), nodeExpiry(),
                new HubConfig.TaskOutput(Durations.parse(taskOutputRetention), taskOutputMaxBytes),
                new HubConfig.Sessions(Durations.parse(sessionIdleTimeout), sessionMaxPerNode, recordInput,
                        sessionMaxRecordingBytes, Durations.parse(sessionRetention)),
                new HubConfig.Cluster(clusterName == null || clusterName.isBlank() ? null : clusterName,
                        redisConfig));
    }

    @Option(names = "--node-expiry", paramLabel = "DURATION", defaultValue = "0",
            description = "Remove nodes offline for longer than this (e.g. 14d, as GitHub does with runners); "
                    + "0 never does. Default: ${DEFAULT-VALUE}")
    String nodeExpiry;

    private java.time.Duration nodeExpiry() {
        if (nodeExpiry.equals("0")) {
            return java.time.Duration.ZERO;
        }
        java.time.Duration d = Durations.parse(nodeExpiry);
        if (d.compareTo(java.time.Duration.ofMinutes(1)) < 0) {
            throw new IllegalArgumentException("node-expiry must be 0 (never) or at least 1m, not '" + nodeExpiry + "'");
        }
        return d;
    }

    private java.time.Duration auditRetention() {
        if (auditRetention.equals("0")) {
            return java.time.Duration.ZERO;
        }
        java.time.Duration d = Durations.parse(auditRetention);
        if (d.compareTo(java.time.Duration.ofHours(1)) < 0) {
            throw new IllegalArgumentException("audit-retention must be 0 (for ever) or at least 1h, not '"
                    + auditRetention + "'");
        }
        return d;
    }

    /** {@code lib/hub-agent.tar.gz} of the installation the launcher names ({@code -Dhub.home}), if there. */
    static java.nio.file.Path defaultAgentArtifact() {
        String home = System.getProperty("hub.home");
        if (home == null) {
            return null;
        }
        java.nio.file.Path p = java.nio.file.Path.of(home, "lib", "hub-agent.tar.gz");
        return java.nio.file.Files.isRegularFile(p) ? p : null;
    }

    /** Prints hubd's version. */
    static final class Version implements picocli.CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"hubd " + HubDaemon.version()};
        }
    }
}

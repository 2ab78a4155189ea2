package hub.hubd.redis;

import hub.hubd.history.HistoryStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;

/** The hub's Redis connection (Redisson), and what is built on it. */
public final class RedisConnection implements AutoCloseable {
    /** How long one Redis command may take before it is retried once, then failed as a 503. */
    static final int RESPONSE_TIMEOUT_MS = 2000;

    private final RedissonClient client;
    private final String prefix;

    /**
     * Connects to {@code url} ({@code redis://host:port}).
     *
     * @throws org.redisson.client.RedisException when Redis cannot be reached
     */
    public RedisConnection(String url) {
        this(url, null, "hub:");
    }

    /**
     * Connects to {@code url}, or with the Redisson YAML file {@code configFile} (Sentinel, Redis
     * Cluster, TLS) when it is given, keeping every key under {@code prefix}.
     *
     * @throws org.redisson.client.RedisException when Redis cannot be reached
     * @throws UncheckedIOException               when the file cannot be read or parsed
     */
    public RedisConnection(String url, Path configFile, String prefix) {
        Config c;
        if (configFile != null) {
            try {
                c = Config.fromYAML(configFile.toFile());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read redis-config " + configFile + ": " + e.getMessage(), e);
            }
        } else {
            c = new Config();
            // A Redis that stops answering must fail a request in seconds (503, retried by the client),
            // not hold it for Redisson's default of four 3 s attempts.
            c.useSingleServer().setAddress(url).setConnectionMinimumIdleSize(2).setConnectionPoolSize(16)
                    .setTimeout(RESPONSE_TIMEOUT_MS).setRetryAttempts(1);
        }
        c.setCodec(StringCodec.INSTANCE);
        this.client = Redisson.create(c);
        this.prefix = prefix;
    }

    /** The history store in this Redis, under this connection's key prefix. */
    public HistoryStore historyStore(long maxLines, long maxBytes) {
        return new RedisHistoryStore(client, prefix, maxLines, maxBytes);
    }

    /** The client, for the cluster's presence, locks and bus. */
    public RedissonClient client() {
        return client;
    }

    /** What every key of this hub (or cluster) starts with. */
    public String prefix() {
        return prefix;
    }

    @Override
    public void close() {
        client.shutdown();
    }
}

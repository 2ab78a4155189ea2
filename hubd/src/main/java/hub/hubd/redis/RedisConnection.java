package hub.hubd.redis;

import hub.hubd.history.HistoryStore;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;

/** The hub's Redis connection (Redisson), and what is built on it. */
public final class RedisConnection implements AutoCloseable {
    /** How long one Redis command may take before it is retried once, then failed as a 503. */
    static final int RESPONSE_TIMEOUT_MS = 2000;

    private final RedissonClient client;

    /**
     * Connects to {@code url} ({@code redis://host:port}).
     *
     * @throws org.redisson.client.RedisException when Redis cannot be reached
     */
    public RedisConnection(String url) {
        Config c = new Config();
        c.setCodec(StringCodec.INSTANCE);
        // A Redis that stops answering must fail a request in seconds (503, retried by the client),
        // not hold it for Redisson's default of four 3 s attempts.
        c.useSingleServer().setAddress(url).setConnectionMinimumIdleSize(2).setConnectionPoolSize(16)
                .setTimeout(RESPONSE_TIMEOUT_MS).setRetryAttempts(1);
        this.client = Redisson.create(c);
    }

    /** The history store in this Redis, under the key prefix {@code hub:}. */
    public HistoryStore historyStore(long maxLines, long maxBytes) {
        return new RedisHistoryStore(client, "hub:", maxLines, maxBytes);
    }

    @Override
    public void close() {
        client.shutdown();
    }
}

package hub.hubd.redis;

import hub.hubd.history.HistoryStore;
import hub.hubd.history.HistoryStoreContract;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * The history store contract on the machine's Redis (127.0.0.1:6379, or HUB_TEST_REDIS_URL), under a
 * key prefix of its own. A missing Redis fails the run when CI=true or HUB_TEST_SERVICES=required,
 * and is skipped otherwise.
 */
class RedisHistoryStoreTest extends HistoryStoreContract {
    static final String URL = System.getenv().getOrDefault("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379");
    final String prefix = "hubtest-" + Long.toHexString(System.nanoTime()) + ":";
    RedissonClient redis;

    static boolean required() {
        return "true".equals(System.getenv("CI")) || "required".equals(System.getenv("HUB_TEST_SERVICES"));
    }

    private static RedissonClient connect() {
        Config c = new Config();
        c.useSingleServer().setAddress(URL).setConnectionMinimumIdleSize(1).setConnectionPoolSize(2)
                .setRetryAttempts(1);
        return Redisson.create(c);
    }

    @BeforeEach
    void open() {
        try {
            redis = connect();
        } catch (RuntimeException e) {
            if (required()) {
                throw e;
            }
            Assumptions.abort("Redis not reachable and not required: " + e.getMessage());
        }
    }

    @AfterEach
    void close() {
        if (redis != null) {
            redis.getKeys().deleteByPattern(prefix + "*");
            redis.shutdown();
        }
    }

    @Override
    protected HistoryStore store(long maxLines, long maxBytes) {
        return new RedisHistoryStore(redis, prefix, maxLines, maxBytes);
    }

    @Override
    protected void reopen() {
        redis.shutdown();
        redis = connect();
    }
}

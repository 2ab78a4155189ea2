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

    /**
     * The contract on blocks written as a hub before line sizes wrote them (no field {@code o}): the
     * script's line-by-line trim, which histories already in Redis go through until trimmed away.
     */
    @org.junit.jupiter.api.Nested
    class BlocksWithoutLineSizes extends HistoryStoreContract {
        @Override
        protected HistoryStore store(long maxLines, long maxBytes) {
            return new RedisHistoryStore(redis, prefix, maxLines, maxBytes, false);
        }

        @Override
        protected void reopen() {
            RedisHistoryStoreTest.this.reopen();
        }
    }

    /**
     * Each block's line sizes sit in a stream of their own under the block's id, trimmed with the
     * blocks (the trim reads them, not the text), and go with the node.
     */
    @org.junit.jupiter.api.Test
    void lineSizesAreKeptBesideTheBlocksTrimmedWithThemAndDeletedWithTheNode() {
        HistoryStore s = store(250, 1 << 20);
        for (int seq = 1; seq <= 6; seq++) {
            int from = (seq - 1) * 100 + 1;
            s.appendBlocks("n1", "t1", seq, hub.hubd.history.HistoryBlocks.of(java.util.stream.IntStream
                    .range(from, from + 100).mapToObj(i -> new HistoryStore.NewLine("t1", "stdout", "l" + i, 1L))
                    .toList()), null, null);
        }
        var lines = redis.getStream(prefix + "hist:{n1}:lines", org.redisson.client.codec.StringCodec.INSTANCE);
        var sizes = redis.getStream(prefix + "hist:{n1}:sizes", org.redisson.client.codec.StringCodec.INSTANCE);
        // 250 lines kept: lines 351-600, in the blocks from 301 on (the one at 301 cut at 351)
        org.assertj.core.api.Assertions.assertThat(lines.size()).isEqualTo(3);
        org.assertj.core.api.Assertions.assertThat(sizes.size()).isEqualTo(3);
        org.assertj.core.api.Assertions.assertThat(sizes.range(1, org.redisson.api.stream.StreamMessageId.MIN,
                org.redisson.api.stream.StreamMessageId.MAX).keySet().iterator().next().getId0()).isEqualTo(301);
        org.assertj.core.api.Assertions.assertThat(s.tail("n1", 1000).lines().get(0).text()).isEqualTo("l351");
        s.delete("n1");
        org.assertj.core.api.Assertions.assertThat(redis.getKeys().getKeysByPattern(prefix + "hist:{n1}:*"))
                .isEmpty();
    }

    /** Old blocks and new ones in one history: trimmed across both exactly as either alone. */
    @org.junit.jupiter.api.Test
    void trimsAcrossBlocksWithAndWithoutLineSizes() {
        HistoryStore old = new RedisHistoryStore(redis, prefix, 130, 1 << 20, false);
        HistoryStore current = store(130, 1 << 20);
        java.util.function.IntFunction<java.util.List<HistoryStore.NewBlock>> block = n -> hub.hubd.history.HistoryBlocks.of(
                java.util.stream.IntStream.range(n, n + 100).mapToObj(i -> new HistoryStore.NewLine("t1", "stdout",
                        "lïne " + i, 1L)).toList());
        old.appendBlocks("n1", "t1", 1, block.apply(1), null, null);
        current.appendBlocks("n1", "t1", 2, block.apply(101), null, null); // cuts the old block at 71
        old.appendBlocks("n1", "t1", 3, block.apply(201), null, null); // cuts the new block at 171
        var kept = current.after("n1", 0, 1000);
        org.assertj.core.api.Assertions.assertThat(kept.gap()).isEqualTo(new hub.hubd.history.HistoryPage.Gap(1, 170));
        org.assertj.core.api.Assertions.assertThat(kept.lines()).hasSize(130);
        org.assertj.core.api.Assertions.assertThat(kept.lines().get(0).text()).isEqualTo("lïne 171");
        current.appendBlocks("n1", "t1", 4, block.apply(301), null, null);
        org.assertj.core.api.Assertions.assertThat(current.tail("n1", 1000).lines().get(0).text())
                .isEqualTo("lïne 271");
    }
}

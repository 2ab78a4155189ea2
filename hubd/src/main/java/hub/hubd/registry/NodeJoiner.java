package hub.hubd.registry;

import hub.hubd.auth.JoinTokens;
import hub.hubd.core.HubException;
import hub.hubd.core.Ids;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * First joins, which must touch the database (a join token's use is taken in the same transaction
 * that stores the node, so an acknowledged join is never lost). They run on a small bounded pool,
 * never on a gRPC thread. When the pool's queue is full, a join fails at once with UNAVAILABLE
 * and the agent retries with backoff; reconnects and heartbeats never come here.
 */
public final class NodeJoiner implements AutoCloseable {
    /** Prefix of node credentials. */
    public static final String CREDENTIAL_PREFIX = "hnc_";
    static final int THREADS = 2;
    static final int QUEUE = 4096;

    private final NodeRepository repo;
    private final NodeRegistry registry;
    private final Clock clock;
    private final ThreadPoolExecutor pool;

    public NodeJoiner(NodeRepository repo, NodeRegistry registry, Clock clock, MeterRegistry metrics) {
        this.repo = repo;
        this.registry = registry;
        this.clock = clock;
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(THREADS, THREADS, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(QUEUE), r -> {
                    Thread t = new Thread(r, "join-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
        Gauge.builder("hub_join_queue_depth", pool, p -> p.getQueue().size())
                .description("First joins waiting for the database").register(metrics);
    }

    /**
     * Joins a new node with a join token, asynchronously.
     *
     * @return a future completed with the Welcome, or failed with a {@link HubException}
     *         (UNAUTHENTICATED for a bad token, UNAVAILABLE when the queue is full) or a
     *         {@link hub.hubd.core.StoreException}
     */
    public CompletableFuture<Welcome> join(String joinToken, AgentHello hello, NodeSession session) {
        if (joinToken == null || !joinToken.startsWith(JoinTokens.PREFIX)) {
            return CompletableFuture.failedFuture(
                    HubException.unauthenticated("invalid join token"));
        }
        try {
            return CompletableFuture.supplyAsync(() -> joinNow(joinToken, hello, session), pool);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(
                    HubException.unavailable("hub is busy registering nodes; retry later"));
        }
    }

    private Welcome joinNow(String joinToken, AgentHello hello, NodeSession session) {
        String credential = Ids.newSecret(CREDENTIAL_PREFIX);
        NodeRecord rec = repo.insertJoined(Ids.hash(joinToken), Ids.newId(), Ids.hash(credential),
                hello, clock.millis());
        return registry.attachJoined(rec, credential, session);
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}

package hub.hubd.registry;

import hub.hubd.auth.JoinTokens;
import hub.hubd.core.HubException;
import hub.hubd.core.Ids;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First joins, which must touch the database: a join token's use is taken in the same transaction
 * that stores the node, so an acknowledged join is never lost. One thread takes joins from a
 * bounded queue and commits them in groups (up to {@link #BATCH} per transaction, each in its own
 * savepoint so a bad token fails only its own join); a fleet coming up at once costs one commit
 * per group, not one per node, and never a gRPC thread.
 *
 * <p>When the queue is full a join fails at once with UNAVAILABLE and the agent retries with
 * backoff. Reconnects and heartbeats never come here.
 */
public final class NodeJoiner implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeJoiner.class);
    /** Prefix of node credentials. */
    public static final String CREDENTIAL_PREFIX = "hnc_";
    static final int QUEUE = 4096;
    static final int BATCH = 256;

    /** One join waiting for the database. */
    private record Pending(NodeRepository.JoinRequest request, String credential, NodeSession session,
            CompletableFuture<Welcome> result) {
    }

    private final NodeRepository repo;
    private final NodeRegistry registry;
    private final boolean credentials;
    private final Clock clock;
    private final BlockingQueue<Pending> queue = new ArrayBlockingQueue<>(QUEUE);
    private final Thread thread;
    private final Counter joined;
    private final Counter refusedBusy;
    private volatile boolean running = true;

    /**
     * @param credentials whether joined nodes get a bearer credential (a hub without TLS); with TLS
     *                    they get a certificate instead, which the caller signs once the join is
     *                    stored (off this thread: see {@code AgentStream})
     */
    public NodeJoiner(NodeRepository repo, NodeRegistry registry, boolean credentials, Clock clock,
            MeterRegistry metrics) {
        this.repo = repo;
        this.registry = registry;
        this.credentials = credentials;
        this.clock = clock;
        Gauge.builder("hub_join_queue_depth", queue, BlockingQueue::size)
                .description("First joins waiting for the database").register(metrics);
        this.joined = Counter.builder("hub_joins").description("Nodes that joined").register(metrics);
        this.refusedBusy = Counter.builder("hub_joins_refused_busy")
                .description("Joins refused because the join queue was full (agents retry)").register(metrics);
        this.thread = new Thread(this::run, "joiner");
        this.thread.setDaemon(true);
    }

    /** Starts the joiner thread. */
    public void start() {
        thread.start();
    }

    /**
     * Joins a new node with a join token, asynchronously.
     *
     * @return a future completed (on the joiner thread) with the Welcome, or failed with a
     *         {@link HubException} (UNAUTHENTICATED for a bad token, INVALID for bad labels,
     *         UNAVAILABLE when the queue is full) or a {@link hub.hubd.core.StoreException}
     */
    public CompletableFuture<Welcome> join(String joinToken, AgentHello hello, NodeSession session) {
        if (joinToken == null || !joinToken.startsWith(JoinTokens.PREFIX)) {
            return CompletableFuture.failedFuture(HubException.unauthenticated("invalid join token"));
        }
        String credential = credentials ? Ids.newSecret(CREDENTIAL_PREFIX) : null;
        String nodeId = Ids.newId();
        // Names are unique: a taken one gets a suffix of the new id (the database checks again, for
        // joins in the same batch and nodes the registry has not seen yet).
        String name = NodeNames.unique(hello.displayName(), nodeId, n -> registry.nameTaken(n, null));
        AgentHello named = name.equals(hello.displayName()) ? hello : hello.withName(name);
        Pending p = new Pending(new NodeRepository.JoinRequest(Ids.hash(joinToken), nodeId,
                credential == null ? null : Ids.hash(credential), named), credential, session,
                new CompletableFuture<>());
        if (!running || !queue.offer(p)) {
            refusedBusy.increment();
            return CompletableFuture.failedFuture(
                    HubException.unavailable("hub is busy registering nodes; retry later"));
        }
        return p.result();
    }

    private void run() {
        List<Pending> batch = new ArrayList<>(BATCH);
        while (running) {
            try {
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, BATCH - 1);
                commit(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } finally {
                batch.clear();
            }
        }
        Pending p;
        while ((p = queue.poll()) != null) {
            p.result().completeExceptionally(HubException.unavailable("hub is shutting down"));
        }
    }

    /** Told of each node that joined, with the address it joined from (the audit log). */
    public interface JoinListener {
        void joined(NodeRecord node, String remoteAddress);
    }

    private volatile JoinListener onJoined = (n, a) -> { };

    /** Where to report joins; called on the joiner thread, so it must not block. */
    public void onJoined(JoinListener listener) {
        this.onJoined = listener;
    }

    private void commit(List<Pending> batch) {
        List<NodeRepository.JoinResult> results;
        try {
            results = repo.insertJoined(batch.stream().map(Pending::request).toList(), clock.millis());
        } catch (RuntimeException e) {
            log.warn("storing {} joins failed; the agents will retry: {}", batch.size(), e.toString());
            batch.forEach(p -> p.result().completeExceptionally(e));
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            Pending p = batch.get(i);
            NodeRepository.JoinResult r = results.get(i);
            if (r.record() != null) {
                p.result().complete(registry.attachJoined(r.record(), p.credential(), p.session()));
                joined.increment();
                onJoined.joined(r.record(), p.session().remoteAddress());
            } else {
                p.result().completeExceptionally(r.error());
            }
        }
    }

    @Override
    public void close() {
        running = false;
        hub.hubd.core.Threads.stop(thread, java.time.Duration.ofSeconds(5));
    }
}

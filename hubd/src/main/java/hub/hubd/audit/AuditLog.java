package hub.hubd.audit;

import hub.hubd.core.LogText;
import hub.hubd.core.StoreException;
import hub.hubd.core.StoreFaults;
import hub.hubd.core.Threads;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit log: each entry is inserted into the append-only {@code audit} table and written as a
 * log line on the {@code hub.audit} logger (with {@code --log-format json}, one JSON object with the
 * entry's fields as key/value pairs). Entries older than the retention are deleted hourly.
 * Recording never throws: a store that fails is logged (one line per stall) and counted in
 * {@code hub_audit_write_failures_total}; the log line is written either way.
 */
public final class AuditLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("hub.audit");
    private static final Logger ops = LoggerFactory.getLogger(AuditLog.class);
    /** Detail longer than this is cut (a command can be long; the task keeps all of it). */
    static final int MAX_DETAIL = 4096;

    private final AuditRepository repo;
    private final Clock clock;
    private final Duration retention;
    private final AtomicLong seq;
    private final Counter recorded;
    private final Counter failures;
    private final ScheduledExecutorService sweeper;

    /**
     * @param retention how long entries are kept; {@link Duration#ZERO} keeps them for ever
     */
    public AuditLog(AuditRepository repo, Clock clock, Duration retention, MeterRegistry metrics) {
        this.repo = repo;
        this.clock = clock;
        this.retention = retention;
        this.seq = new AtomicLong(Math.max(repo.lastSeq(), 0));
        this.recorded = Counter.builder("hub_audit_entries_total").register(metrics);
        this.failures = Counter.builder("hub_audit_write_failures_total").register(metrics);
        this.sweeper = Executors.newSingleThreadScheduledExecutor(Threads.daemons("audit-retention", true));
        if (!retention.isZero()) {
            sweeper.scheduleWithFixedDelay(() -> exclusive.run("audit-retention", this::sweep), 1, 60,
                    TimeUnit.MINUTES);
        }
    }

    /** Who did it: a user (by id, with its name then and the token used), or null fields for none. */
    public record Actor(String userId, String userName, String tokenId, String remoteAddr) {
        public static final Actor HUB = new Actor(null, "hub", null, null);
    }

    /** Records an entry (returns it as stored, or as it would have been when the store failed). */
    public AuditEntry record(Actor who, String action, String target, String nodeId, String detail, int status) {
        String d = detail == null || detail.length() <= MAX_DETAIL ? detail : detail.substring(0, MAX_DETAIL) + "…";
        AuditEntry e;
        synchronized (this) { // seq order is insert order
            var shared = nextSeq;
            long n;
            try {
                n = shared == null ? seq.incrementAndGet() : shared.applyAsLong(seq.get());
            } catch (RuntimeException ex) { // the cluster's counter is unreachable: past every seq seen here
                n = seq.get() + 1_000_000L + (clock.millis() % 1_000_000L);
                ops.warn("audit: the cluster's sequence is unreachable ({}); using {}", ex.getMessage(), n);
            }
            seq.accumulateAndGet(n, Math::max);
            e = new AuditEntry(n, clock.instant(), who.userId(), who.userName(), who.tokenId(),
                    who.remoteAddr(), action, target, nodeId, d, status, AuditEntry.resultOf(status));
            try {
                repo.append(e);
                recorded.increment();
            } catch (StoreException ex) {
                failures.increment();
                StoreFaults.report(ops, "writing audit entry " + e.seq(), ex, null);
            } catch (RuntimeException ex) {
                failures.increment();
                ops.error("writing audit entry {} failed", e.seq(), ex);
            }
        }
        log.atInfo()
                .addKeyValue("seq", e.seq())
                .addKeyValue("action", e.action())
                .addKeyValue("user", e.userName())
                .addKeyValue("userId", e.userId())
                .addKeyValue("from", e.remoteAddr())
                .addKeyValue("target", e.target())
                .addKeyValue("node", e.nodeId())
                .addKeyValue("status", e.status())
                .addKeyValue("result", e.result())
                .log("audit {} {} by {} from {}{}{} -> {} {}{}", e.seq(), e.action(), LogText.safe(e.userName()),
                        e.remoteAddr(), e.target() == null ? "" : " on " + LogText.safe(e.target()),
                        e.nodeId() == null ? "" : " (node " + e.nodeId() + ")", e.status(), e.result(),
                        d == null ? "" : ": " + LogText.safe(d));
        return e;
    }

    /** Entries recorded off the caller's thread, at most this many waiting (a join storm). */
    static final int MAX_QUEUED = 10_000;
    private final java.util.concurrent.ThreadPoolExecutor later = new java.util.concurrent.ThreadPoolExecutor(1, 1,
            0, TimeUnit.MILLISECONDS, new java.util.concurrent.LinkedBlockingQueue<>(MAX_QUEUED),
            Threads.daemons("audit-writer", false));
    private final hub.hubd.core.WarnLimiter dropWarnings = new hub.hubd.core.WarnLimiter(Duration.ofMinutes(1),
            System::nanoTime);

    /**
     * Records an entry on the audit writer's thread, for callers that must not wait on the database
     * (the joiner). Past {@value #MAX_QUEUED} waiting the entry is dropped, counted in
     * {@code hub_audit_write_failures_total} and logged once a minute.
     */
    public void recordLater(Actor who, String action, String target, String nodeId, String detail, int status) {
        try {
            later.execute(() -> record(who, action, target, nodeId, detail, status));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            failures.increment();
            long held = dropWarnings.allow("dropped");
            if (held >= 0) {
                ops.error("audit writer is {} entries behind; dropped {} {}{}", MAX_QUEUED, action, target,
                        held > 0 ? " (and " + held + " more in the last minute)" : "");
            }
        }
    }

    /** Entries matching {@code q}, oldest first. */
    public List<AuditEntry> find(AuditRepository.Query q) {
        return repo.find(q);
    }

    /** Where sequences come from: this hub's counter, or (a cluster) one all hubs share. */
    private volatile java.util.function.LongUnaryOperator nextSeq;

    /**
     * Takes sequences from {@code next} (given the highest stored at start) instead of this hub's
     * counter: hubs of a cluster write one audit table.
     */
    public void sequences(java.util.function.LongUnaryOperator next) {
        this.nextSeq = next;
    }

    private volatile hub.hubd.core.Exclusive exclusive = hub.hubd.core.Exclusive.LOCAL;

    /** Keeps the hourly sweep to one hub of a cluster at a time. */
    public void exclusive(hub.hubd.core.Exclusive e) {
        this.exclusive = e;
    }

    /** Deletes entries older than the retention; run hourly, and by tests. */
    public int sweep() {
        if (retention.isZero()) {
            return 0;
        }
        try {
            int n = repo.deleteBefore(clock.millis() - retention.toMillis());
            if (n > 0) {
                ops.info("deleted {} audit entries older than {}", n, retention);
            }
            return n;
        } catch (StoreException e) {
            StoreFaults.report(ops, "the audit retention sweep", e, null);
            return 0;
        }
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        later.shutdown();
        try {
            later.awaitTermination(5, TimeUnit.SECONDS); // what is queued is written before the pool closes
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

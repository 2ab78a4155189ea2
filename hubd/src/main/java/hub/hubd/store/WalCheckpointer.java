package hub.hubd.store;

import hub.hubd.core.Threads;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies SQLite's write-ahead log into the database file on a thread of its own. Left to SQLite,
 * the writer whose commit takes the log past 1,000 pages does it, inside its commit: that writer
 * is nearly always an ingest lane, which then stops taking output while it copies megabytes. Here
 * every connection has automatic checkpoints off, and this thread runs a passive checkpoint every
 * {@link #EVERY} (it never waits for the writer, and the writer never waits for it). When the log
 * runs more than {@link #MAX_BEHIND_PAGES} pages ahead of the file (a writer that never pauses),
 * one checkpoint takes the write lock and restarts the log, so it stays bounded.
 */
final class WalCheckpointer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WalCheckpointer.class);
    static final Duration EVERY = Duration.ofMillis(100);
    /** 64 MiB of 4 KiB pages. */
    static final int MAX_BEHIND_PAGES = 16_384;
    /** What each connection runs first: no checkpoints inside commits. */
    static final String CONNECTION_INIT = "PRAGMA wal_autocheckpoint=0";

    private final DataSource ds;
    private final Lock writeLock;
    private final ScheduledExecutorService thread =
            Executors.newSingleThreadScheduledExecutor(Threads.daemons("sqlite-checkpoint", false));

    WalCheckpointer(DataSource ds, Lock writeLock) {
        this.ds = ds;
        this.writeLock = writeLock;
        thread.scheduleWithFixedDelay(this::passive, EVERY.toMillis(), EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A passive checkpoint; a restarting one under the write lock when the log ran too far ahead. */
    private void passive() {
        try {
            int[] r = checkpoint("PASSIVE");
            if (r[1] - r[2] > MAX_BEHIND_PAGES) {
                writeLock.lock();
                try {
                    checkpoint("RESTART");
                } finally {
                    writeLock.unlock();
                }
            }
        } catch (SQLException | RuntimeException e) {
            log.warn("SQLite checkpoint failed (the log grows until the next one works): {}", e.toString());
        }
    }

    /** {@code PRAGMA wal_checkpoint(MODE)}: busy, pages in the log, pages copied. */
    private int[] checkpoint(String mode) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(" + mode + ")")) {
            return rs.next() ? new int[] {rs.getInt(1), rs.getInt(2), rs.getInt(3)} : new int[] {0, 0, 0};
        }
    }

    /** Stops the thread and copies the whole log into the file (a clean stop leaves a short log). */
    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
            writeLock.lock();
            try {
                checkpoint("TRUNCATE");
            } finally {
                writeLock.unlock();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (SQLException | RuntimeException e) {
            log.warn("SQLite checkpoint at stop failed (the next start replays the log): {}", e.toString());
        }
    }
}

package hub.hubd.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.util.List;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection pool and schema. SQLite (the embedded default) runs in WAL mode so readers never
 * wait for the writer, with a busy timeout so a writer waits for a lock instead of failing at
 * once; PostgreSQL is for several hubs. Migrations come from {@code db/migration/common} plus the
 * vendor's folder.
 */
public final class Database implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Database.class);
    /** How long an SQLite writer waits for another's lock before failing with SQLITE_BUSY. */
    static final int SQLITE_BUSY_TIMEOUT_MS = 5000;

    private final HikariDataSource dataSource;
    private final Vendor vendor;
    private final java.util.concurrent.locks.Lock writeLock;

    /** Which database is behind the URL. */
    public enum Vendor { SQLITE, POSTGRESQL }

    private Database(HikariDataSource ds, Vendor vendor) {
        this.dataSource = ds;
        this.vendor = vendor;
        // SQLite allows one writer: queue writers here, in order, instead of in its busy handler,
        // which sleeps in steps of up to 100 ms. PostgreSQL takes concurrent writers as they come.
        this.writeLock = vendor == Vendor.SQLITE ? new java.util.concurrent.locks.ReentrantLock(true)
                : NO_LOCK;
    }

    private static final java.util.concurrent.locks.Lock NO_LOCK = new NoLock();

    /** A lock that never blocks, for databases with concurrent writers. */
    private static final class NoLock implements java.util.concurrent.locks.Lock {
        @Override
        public void lock() {
        }

        @Override
        public void lockInterruptibly() {
        }

        @Override
        public boolean tryLock() {
            return true;
        }

        @Override
        public boolean tryLock(long time, java.util.concurrent.TimeUnit unit) {
            return true;
        }

        @Override
        public void unlock() {
        }

        @Override
        public java.util.concurrent.locks.Condition newCondition() {
            throw new UnsupportedOperationException("NoLock has no conditions");
        }
    }

    /** Opens the pool for {@code jdbcUrl} and migrates the schema to the latest version. */
    public static Database open(String jdbcUrl) {
        Vendor vendor = vendorOf(jdbcUrl);
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("hub-db");
        if (vendor == Vendor.SQLITE) {
            setPageSizeIfNew(jdbcUrl);
            String sep = jdbcUrl.contains("?") ? "&" : "?";
            hc.setJdbcUrl(jdbcUrl + sep + "journal_mode=WAL&synchronous=NORMAL&foreign_keys=true"
                    + "&busy_timeout=" + SQLITE_BUSY_TIMEOUT_MS);
            hc.setMaximumPoolSize(4);
        } else {
            hc.setJdbcUrl(jdbcUrl);
            hc.setMaximumPoolSize(8);
        }
        hc.setConnectionTimeout(30_000);
        HikariDataSource ds = new HikariDataSource(hc);
        try {
            migrate(ds, vendor);
        } catch (RuntimeException e) {
            ds.close();
            throw e;
        }
        return new Database(ds, vendor);
    }

    /**
     * SQLite's page size for a new database file. History blocks are tens of KB each: with 4 KiB
     * pages each one is a chain of about ten overflow pages, written, logged, checkpointed and, when
     * trimmed, walked to be freed page by page. The size is fixed once the file has its first page
     * and cannot change in WAL mode, so it is set here, before the pool turns WAL on; an existing
     * database keeps its own.
     */
    static final int SQLITE_PAGE_SIZE = 16384;

    private static void setPageSizeIfNew(String jdbcUrl) {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(jdbcUrl);
                java.sql.Statement st = c.createStatement()) {
            long pages;
            try (java.sql.ResultSet rs = st.executeQuery("PRAGMA page_count")) {
                pages = rs.next() ? rs.getLong(1) : -1;
            }
            if (pages == 0) {
                st.execute("PRAGMA page_size = " + SQLITE_PAGE_SIZE);
                st.execute("PRAGMA journal_mode = WAL"); // writes the first page, with that size
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("cannot open the SQLite database: " + e.getMessage(), e);
        }
    }

    private static void migrate(DataSource ds, Vendor vendor) {
        String vendorDir = vendor == Vendor.SQLITE ? "sqlite" : "postgresql";
        Flyway flyway = Flyway.configure()
                .dataSource(ds)
                .locations(List.of("classpath:db/migration/common", "classpath:db/migration/" + vendorDir)
                        .toArray(String[]::new))
                .load();
        var result = flyway.migrate();
        // targetSchemaVersion is null when nothing was applied: ask for the current one.
        var current = flyway.info().current();
        log.info("database schema at version {} ({} migrations applied now)",
                current == null ? "none" : current.getVersion(), result.migrationsExecuted);
    }

    static Vendor vendorOf(String jdbcUrl) {
        if (jdbcUrl.startsWith("jdbc:sqlite:")) {
            return Vendor.SQLITE;
        }
        if (jdbcUrl.startsWith("jdbc:postgresql:")) {
            return Vendor.POSTGRESQL;
        }
        throw new IllegalArgumentException("db-url must be jdbc:sqlite:… or jdbc:postgresql:…, not "
                + jdbcUrl.replaceAll("//[^@/]*@", "//***@"));
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public Vendor vendor() {
        return vendor;
    }

    /** A helper for statements over this pool. */
    public Jdbc jdbc() {
        return new Jdbc(dataSource, writeLock);
    }

    @Override
    public void close() {
        dataSource.close();
    }
}

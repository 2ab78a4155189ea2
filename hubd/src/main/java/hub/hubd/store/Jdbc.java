package hub.hubd.store;

import hub.hubd.core.StoreException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** Small JDBC helpers: every {@link SQLException} becomes a {@link StoreException}. */
public final class Jdbc {
    private final DataSource ds;
    private final java.util.concurrent.locks.Lock writeLock;

    /**
     * @param writeLock taken around every write; SQLite has one writer at a time, and waiting on
     *                  a Java lock is far cheaper than SQLite's sleeping busy handler
     */
    Jdbc(DataSource ds, java.util.concurrent.locks.Lock writeLock) {
        this.ds = ds;
        this.writeLock = writeLock;
    }

    /** Maps the current row. */
    @FunctionalInterface
    public interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    /** Work inside a transaction. */
    @FunctionalInterface
    public interface TxWork<T> {
        T run(Connection c) throws SQLException;
    }

    /**
     * Runs {@code work} in a transaction: committed if it returns, rolled back if it throws. Only
     * for writes: it holds the write lock throughout.
     */
    public <T> T inTransaction(TxWork<T> work) {
        writeLock.lock();
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                // SQLite may have rolled back already (SQLITE_FULL does): a failing rollback must
                // not replace the cause, which is what the caller and the log need to see.
                try {
                    c.rollback();
                } catch (SQLException r) {
                    e.addSuppressed(r);
                }
                throw e;
            } finally {
                try {
                    c.setAutoCommit(true);
                } catch (SQLException ignored) {
                    // the connection is broken; the pool notices and replaces it
                }
            }
        } catch (SQLException e) {
            throw new StoreException("database error: " + e.getMessage(), e);
        } finally {
            writeLock.unlock();
        }
    }

    /** Rows of a query. */
    public <T> List<T> query(String sql, RowMapper<T> mapper, Object... params) {
        return inConnection(c -> query(c, sql, mapper, params));
    }

    /** The first row of a query, if any. */
    public <T> Optional<T> queryOne(String sql, RowMapper<T> mapper, Object... params) {
        List<T> rows = query(sql, mapper, params);
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
    }

    /** Runs an insert, update or delete; returns the rows changed. */
    public int update(String sql, Object... params) {
        writeLock.lock();
        try {
            return inConnection(c -> update(c, sql, params));
        } finally {
            writeLock.unlock();
        }
    }

    static <T> List<T> query(Connection c, String sql, RowMapper<T> mapper, Object... params)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            return rows(ps, mapper, params);
        }
    }

    /** Binds, runs and maps every row. */
    private static <T> List<T> rows(PreparedStatement ps, RowMapper<T> mapper, Object... params) throws SQLException {
        bind(ps, params);
        try (ResultSet rs = ps.executeQuery()) {
            List<T> out = new ArrayList<>();
            while (rs.next()) {
                out.add(mapper.map(rs));
            }
            return out;
        }
    }

    static int update(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, params);
            return ps.executeUpdate();
        }
    }

    static void bind(PreparedStatement ps, Object... params) throws SQLException {
        for (int i = 0; i < params.length; i++) {
            ps.setObject(i + 1, params[i]);
        }
    }

    /**
     * Runs reads on one connection (and, for SQLite in WAL mode, one consistent snapshot when
     * wrapped in a read transaction); takes no write lock.
     */
    public <T> T inConnectionRead(TxWork<T> work) {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                return work.run(c);
            } finally {
                c.rollback();
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("database error: " + e.getMessage(), e);
        }
    }

    private <T> T inConnection(TxWork<T> work) {
        try (Connection c = ds.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new StoreException("database error: " + e.getMessage(), e);
        }
    }

    /**
     * Prepared statements reused within one unit of work on one connection (sqlite-jdbc prepares
     * every statement anew otherwise, which costs as much as running a small one). Close it before
     * the connection goes back to the pool.
     */
    static final class Statements implements AutoCloseable {
        private final Connection c;
        private final java.util.Map<String, PreparedStatement> prepared = new java.util.HashMap<>();

        Statements(Connection c) {
            this.c = c;
        }

        PreparedStatement get(String sql) throws SQLException {
            PreparedStatement ps = prepared.get(sql);
            if (ps == null) {
                ps = c.prepareStatement(sql);
                prepared.put(sql, ps);
            }
            return ps;
        }

        <T> List<T> query(String sql, RowMapper<T> mapper, Object... params) throws SQLException {
            return rows(get(sql), mapper, params);
        }

        int update(String sql, Object... params) throws SQLException {
            PreparedStatement ps = get(sql);
            bind(ps, params);
            return ps.executeUpdate();
        }

        @Override
        public void close() throws SQLException {
            SQLException first = null;
            for (PreparedStatement ps : prepared.values()) {
                try {
                    ps.close();
                } catch (SQLException e) {
                    if (first == null) {
                        first = e;
                    }
                }
            }
            prepared.clear();
            if (first != null) {
                throw first;
            }
        }
    }

    /** A nullable BIGINT column as epoch millis. */
    static java.time.Instant instant(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : java.time.Instant.ofEpochMilli(v);
    }

    /** An instant as a nullable BIGINT parameter. */
    static Long millis(java.time.Instant i) {
        return i == null ? null : i.toEpochMilli();
    }
}

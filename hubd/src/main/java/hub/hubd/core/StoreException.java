package hub.hubd.core;

import java.sql.SQLException;

/**
 * The database failed (unreachable, locked past its timeout, full, a broken statement). Unchecked so
 * that repository interfaces stay free of JDBC types; edges answer it by its {@link Kind}: 507 for
 * a full disk, 503 otherwise (gRPC: RESOURCE_EXHAUSTED, UNAVAILABLE).
 */
public final class StoreException extends RuntimeException {
    /** What went wrong, as far as a client or an operator needs to know. */
    public enum Kind {
        /** The disk (or the database's size limit) is full: nothing was written. */
        FULL,
        /** The store did not answer in time, or could not be reached. */
        UNAVAILABLE
    }

    private final Kind kind;

    public StoreException(String message, Throwable cause) {
        this(message, cause, kindOf(cause));
    }

    private StoreException(String message, Throwable cause, Kind kind) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /**
     * SQLite's SQLITE_FULL (result code 13, also what a failed write of a full file system gives)
     * and PostgreSQL's disk_full (SQLSTATE 53100) are {@link Kind#FULL}, wherever in the cause chain.
     */
    static Kind kindOf(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SQLException e) {
                String m = e.getMessage() == null ? "" : e.getMessage();
                if (m.contains("SQLITE_FULL") || "53100".equals(e.getSQLState())) {
                    return Kind.FULL;
                }
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return Kind.UNAVAILABLE;
    }
}

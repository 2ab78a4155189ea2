package hub.hubd.core;

/**
 * The database failed (unreachable, locked past its timeout, a broken statement). Unchecked so
 * that repository interfaces stay free of JDBC types; edges answer it as a 5xx/UNAVAILABLE.
 */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}

package hub.hubctl;

/** A failure hubctl reports as one line on stderr, exiting with {@link #exitCode()}. */
public final class HubctlException extends RuntimeException {
    private final int exitCode;
    private final boolean transient_;
    /** The hub's HTTP status, or 0 when the hub gave none. */
    private final int status;

    public HubctlException(String message, int exitCode) {
        this(message, exitCode, false, 0);
    }

    private HubctlException(String message, int exitCode, boolean transient_, int status) {
        super(message);
        this.exitCode = exitCode;
        this.transient_ = transient_;
        this.status = status;
    }

    /** This error, with the HTTP status the hub answered. */
    HubctlException withStatus(int httpStatus) {
        return new HubctlException(getMessage(), exitCode, transient_, httpStatus);
    }

    /** The hub's HTTP status, or 0 when it gave none (unreachable, usage). */
    int status() {
        return status;
    }

    /** The hub could not be reached, or answered 5xx: retrying later may work (follow modes do). */
    public static HubctlException unreachable(String message) {
        return new HubctlException(message, ExitCodes.HUB_ERROR, true, 0);
    }

    /** Whether retrying later may succeed. */
    public boolean isTransient() {
        return transient_;
    }

    /** An error from the hub (or reaching it): exit 1. */
    public static HubctlException hub(String message) {
        return new HubctlException(message, ExitCodes.HUB_ERROR);
    }

    /** The user stopped the command (Ctrl-C): exit 130, nothing printed. */
    public static HubctlException interrupted() {
        return new HubctlException("interrupted", ExitCodes.INTERRUPTED);
    }

    /** A usage error found after parsing: exit 2. */
    public static HubctlException usage(String message) {
        return new HubctlException(message, ExitCodes.USAGE);
    }

    public int exitCode() {
        return exitCode;
    }
}

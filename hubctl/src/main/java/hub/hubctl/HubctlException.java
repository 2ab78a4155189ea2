package hub.hubctl;

/** A failure hubctl reports as one line on stderr, exiting with {@link #exitCode()}. */
public final class HubctlException extends RuntimeException {
    private final int exitCode;

    public HubctlException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    /** An error from the hub (or reaching it): exit 1. */
    public static HubctlException hub(String message) {
        return new HubctlException(message, ExitCodes.HUB_ERROR);
    }

    /** A usage error found after parsing: exit 2. */
    public static HubctlException usage(String message) {
        return new HubctlException(message, ExitCodes.USAGE);
    }

    public int exitCode() {
        return exitCode;
    }
}

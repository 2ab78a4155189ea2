package hub.hubctl;

/** hubctl's documented exit codes. */
public final class ExitCodes {
    /** Success. */
    public static final int OK = 0;
    /** The hub answered with an error, or could not be reached. */
    public static final int HUB_ERROR = 1;
    /** Bad command line. */
    public static final int USAGE = 2;
    /** Stopped by Ctrl-C (SIGINT), as shells report it. */
    public static final int INTERRUPTED = 130;

    private ExitCodes() {
    }
}

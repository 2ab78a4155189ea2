package hub.hubctl;

/** hubctl's documented exit codes. */
public final class ExitCodes {
    /** Success. */
    public static final int OK = 0;
    /** The hub answered with an error, or could not be reached. */
    public static final int HUB_ERROR = 1;
    /** Bad command line. */
    public static final int USAGE = 2;
    /**
     * exec only: the hub (or reaching it) failed, or the task could not run at all, so there is no
     * remote exit code. 255, as ssh uses, so it never collides with one.
     */
    public static final int EXEC_HUB_ERROR = 255;
    /** Stopped by Ctrl-C (SIGINT), as shells report it. */
    public static final int INTERRUPTED = 130;

    private ExitCodes() {
    }
}

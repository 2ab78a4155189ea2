package hub.hubd.core;

/**
 * Runs the hub's periodic jobs that must not run on two hubs of a cluster at once (node expiry,
 * retention sweeps, the sweep of lost hubs). One hub: every job runs.
 */
@FunctionalInterface
public interface Exclusive {
    /** Runs {@code work} unless another hub is running {@code job} now; whether it ran here. */
    boolean run(String job, Runnable work);

    /** A single hub: every job runs here. */
    Exclusive LOCAL = (job, work) -> {
        work.run();
        return true;
    };
}

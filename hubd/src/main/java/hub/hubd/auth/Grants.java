package hub.hubd.auth;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every user's grants, in memory: read on each authenticated request and each event of a user with
 * grants, so never from the database there. Loaded at start; {@link Users} changes the database
 * first, then this.
 */
public final class Grants {
    private final Map<String, List<Grant>> byUser = new ConcurrentHashMap<>();

    /** A book holding {@code all}. */
    public static Grants of(List<Grant> all) {
        Grants g = new Grants();
        for (Grant x : all) {
            g.put(x);
        }
        return g;
    }

    /** The user's grants (an immutable snapshot). */
    public List<Grant> of(String userId) {
        return byUser.getOrDefault(userId, List.of());
    }

    /** Makes the book hold exactly {@code all}: a hub of a cluster following the shared database. */
    public void replaceAll(List<Grant> all) {
        Grants fresh = of(all);
        byUser.keySet().retainAll(fresh.byUser.keySet());
        byUser.putAll(fresh.byUser);
    }

    void put(Grant g) {
        byUser.compute(g.userId(), (k, old) -> {
            List<Grant> next = new ArrayList<>(old == null ? List.of() : old);
            next.removeIf(x -> x.id().equals(g.id()));
            next.add(g);
            return List.copyOf(next);
        });
    }

    void remove(String userId, String grantId) {
        byUser.computeIfPresent(userId, (k, old) -> {
            List<Grant> next = new ArrayList<>(old);
            next.removeIf(x -> x.id().equals(grantId));
            return next.isEmpty() ? null : List.copyOf(next);
        });
    }

    void forget(String userId) {
        byUser.remove(userId);
    }
}

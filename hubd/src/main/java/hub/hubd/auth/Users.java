package hub.hubd.auth;

import hub.hubd.core.HubException;
import hub.hubd.core.Ids;
import hub.hubd.core.Selector;
import hub.hubd.core.StoreException;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Users and their API tokens: admins create users (each gets one API token, shown once), list
 * them, rotate a user's token (every old one is revoked) and remove users. Whatever a revoked token
 * or a removed user still has open (event streams, follows) is ended at once through
 * {@link Revocations}.
 */
public final class Users {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

    /** Told when credentials stop being valid or access changes, to end or update what depends on them. */
    public interface Revocations {
        void tokensRevoked(List<String> tokenIds, String reason);

        /** The user (by id) was removed: end everything it has open. */
        void userRemoved(String userId, String reason);

        /** The nodes now belong to the user {@code ownerId}. */
        default void nodesReassigned(List<String> nodeIds, String ownerId) {
        }

        /** The user's grants changed: its open streams must be reopened to see the new set. */
        default void grantsChanged(String userId, String reason) {
        }
    }

    /** A user just created or whose token was just replaced, with the token (never shown again). */
    public record WithToken(UserRepository.User user, String token) {
    }

    private final UserRepository repo;
    private final Clock clock;
    private final Revocations revocations;
    private final Grants grants;
    /** User names by id, for display; {@link #GONE} marks an id whose user no longer exists. */
    private final Map<String, String> names = new ConcurrentHashMap<>();
    private static final String GONE = "";

    public Users(UserRepository repo, Clock clock, Revocations revocations) {
        this(repo, clock, revocations, new Grants());
    }

    public Users(UserRepository repo, Clock clock, Revocations revocations, Grants grants) {
        this.repo = repo;
        this.clock = clock;
        this.revocations = revocations;
        this.grants = grants;
    }

    /**
     * The name of the user with id {@code userId}, for display: the id itself when the user is gone
     * (what a node owned by a user removed before ownership was by id shows). Cached: one query per
     * user id ever, not per node listed.
     */
    public String nameOf(String userId) {
        if (userId == null) {
            return null;
        }
        String n = names.get(userId);
        if (n == null) {
            n = repo.findById(userId).map(UserRepository.User::name).orElse(GONE);
            names.put(userId, n);
        }
        return n.equals(GONE) ? userId : n;
    }

    /** The user named {@code name}'s id, for a request that names a user (assign, reassign). */
    public String idOf(Principal by, String name) {
        return get(by, name).id();
    }

    /**
     * @throws HubException INVALID (name, role), CONFLICT (exists), FORBIDDEN (not an admin)
     */
    public WithToken create(Principal by, String name, String role) {
        by.require(Role.ADMIN);
        if (name == null || !NAME.matcher(name).matches()) {
            throw HubException.invalid("user name must be 1-63 of a-z 0-9 . _ - starting with a letter or digit");
        }
        Role r = Role.parse(role == null ? "" : role);
        if (repo.findByName(name).isPresent()) {
            throw HubException.conflict("user " + name + " exists");
        }
        String token = Ids.newSecret(ApiTokens.PREFIX);
        try {
            repo.createUserWithToken(Ids.newId(), name, r, Ids.newId(), Ids.hash(token), clock.millis());
        } catch (StoreException e) {
            if (repo.findByName(name).isPresent()) {
                throw HubException.conflict("user " + name + " exists"); // created meanwhile
            }
            throw e;
        }
        UserRepository.User created = get(by, name);
        names.put(created.id(), created.name());
        return new WithToken(created, token);
    }

    public List<UserRepository.User> list(Principal by) {
        by.require(Role.ADMIN);
        return repo.list();
    }

    public UserRepository.User get(Principal by, String name) {
        by.require(Role.ADMIN);
        return repo.findByName(name).orElseThrow(() -> HubException.notFound("no user " + name));
    }

    /** Revokes every API token of the user and issues a new one; ends what the old ones opened. */
    public WithToken rotateToken(Principal by, String name) {
        UserRepository.User u = get(by, name);
        String token = Ids.newSecret(ApiTokens.PREFIX);
        List<String> revoked = repo.replaceTokens(u.id(), Ids.newId(), Ids.hash(token), clock.millis());
        revocations.tokensRevoked(revoked, "API token of " + name + " revoked by " + by.user());
        return new WithToken(get(by, name), token);
    }

    /**
     * Removes a user, its API tokens and grants, and revokes its join tokens; ends its streams. The
     * nodes it owns go to {@code reassignTo}, which is required when it owns any.
     *
     * @throws HubException CONFLICT when removing oneself, or when it owns nodes and no
     *         {@code reassignTo} is given (nothing changes); NOT_FOUND for an unknown user
     */
    public UserRepository.Removal remove(Principal by, String name, String reassignTo) {
        UserRepository.User u = get(by, name);
        if (u.id().equals(by.userId())) {
            throw HubException.conflict("you cannot remove yourself; another admin can");
        }
        String to = null;
        if (reassignTo != null && !reassignTo.isBlank()) {
            UserRepository.User target = get(by, reassignTo);
            if (target.id().equals(u.id())) {
                throw HubException.invalid("cannot reassign a user's nodes to the user being removed");
            }
            if (target.role() == Role.VIEWER) {
                throw HubException.invalid("nodes go to an operator or admin; " + reassignTo + " is a viewer");
            }
            to = target.id();
        }
        UserRepository.Removal r = repo.delete(u.id(), to);
        names.put(u.id(), GONE);
        grants.forget(u.id());
        String reason = "user " + name + " removed by " + by.user();
        revocations.tokensRevoked(r.revokedTokens(), reason);
        revocations.userRemoved(u.id(), reason);
        if (!r.reassignedNodes().isEmpty()) {
            revocations.nodesReassigned(r.reassignedNodes(), to);
        }
        return r;
    }

    /** The user's grants. */
    public List<Grant> grants(Principal by, String name) {
        return grants.of(get(by, name).id());
    }

    /**
     * Grants {@code role} (viewer or operator) on nodes matching {@code selector}; a grant for the same
     * selector gets the new role. Ends the user's streams so they reopen with it.
     */
    public Grant grant(Principal by, String name, String selector, String role) {
        UserRepository.User u = get(by, name);
        Role r = Role.parse(role == null ? "" : role);
        if (r == Role.ADMIN) {
            throw HubException.invalid("a grant is viewer or operator: admins see every node already");
        }
        Selector sel = Selector.parse(selector);
        Grant stored = repo.putGrant(new Grant(Ids.newId(), u.id(), sel, r, clock.instant()));
        grants.put(stored);
        revocations.grantsChanged(u.id(), "grants of " + name + " changed by " + by.user() + "; reconnect");
        return stored;
    }

    /**
     * Revokes the user's grant for {@code selector} (as given to {@link #grant}).
     *
     * @throws HubException NOT_FOUND when it has none for that selector
     */
    public Grant revoke(Principal by, String name, String selector) {
        UserRepository.User u = get(by, name);
        Selector sel = Selector.parse(selector);
        Grant g = grants.of(u.id()).stream().filter(x -> x.selector().equals(sel)).findFirst()
                .orElseThrow(() -> HubException.notFound("user " + name + " has no grant for '" + sel + "'"));
        repo.deleteGrant(u.id(), g.id());
        grants.remove(u.id(), g.id());
        revocations.grantsChanged(u.id(), "grants of " + name + " changed by " + by.user() + "; reconnect");
        return g;
    }
}

package hub.hubd.auth;

import hub.hubd.core.HubException;
import hub.hubd.core.Ids;
import hub.hubd.core.StoreException;
import java.time.Clock;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Users and their API tokens: admins create users (each gets one API token, shown once), list
 * them, rotate a user's token (every old one is revoked) and remove users. Whatever a revoked token
 * or a removed user still has open (event streams, follows) is ended at once through
 * {@link Revocations}.
 */
public final class Users {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

    /** Told when credentials stop being valid, to end what they opened. */
    public interface Revocations {
        void tokensRevoked(List<String> tokenIds, String reason);

        void userRemoved(String user, String reason);
    }

    /** A user just created or whose token was just replaced, with the token (never shown again). */
    public record WithToken(UserRepository.User user, String token) {
    }

    private final UserRepository repo;
    private final Clock clock;
    private final Revocations revocations;

    public Users(UserRepository repo, Clock clock, Revocations revocations) {
        this.repo = repo;
        this.clock = clock;
        this.revocations = revocations;
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
        return new WithToken(get(by, name), token);
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
     * Removes a user and its tokens; ends its streams. Nodes it owns stay (admins see them).
     *
     * @throws HubException CONFLICT when removing oneself
     */
    public void remove(Principal by, String name) {
        UserRepository.User u = get(by, name);
        if (u.name().equals(by.user())) {
            throw HubException.conflict("you cannot remove yourself; another admin can");
        }
        List<String> revoked = repo.delete(u.id());
        revocations.tokensRevoked(revoked, "user " + name + " removed by " + by.user());
        revocations.userRemoved(name, "user " + name + " removed by " + by.user());
    }
}

package hub.hubd.auth;

import hub.hubd.core.HubException;
import hub.hubd.core.Ids;
import hub.hubd.core.Labels;
import hub.hubd.events.Event;
import hub.hubd.events.EventPublisher;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Creates, lists and revokes join tokens. A token is {@code hjt_} + 256 random bits, shown once
 * at creation and stored only as its SHA-256. Consuming a token happens atomically with the node
 * insert, in {@code registry.NodeRepository#insertJoined}.
 */
public final class JoinTokens {
    /** Prefix of every join token. */
    public static final String PREFIX = "hjt_";
    /** TTL when none is given. */
    public static final Duration DEFAULT_TTL = Duration.ofMinutes(15);
    /** Longest TTL accepted. */
    public static final Duration MAX_TTL = Duration.ofDays(365);
    /** Most uses accepted for one token (load tests join many simulated nodes with one). */
    public static final int MAX_USES = 1_000_000;

    private final JoinTokenRepository repo;
    private final Clock clock;
    private final EventPublisher events;

    public JoinTokens(JoinTokenRepository repo, Clock clock, EventPublisher events) {
        this.repo = repo;
        this.clock = clock;
        this.events = events;
    }

    /** A freshly created token with its secret, which is never available again. */
    public record Created(JoinToken token, String secret) {
    }

    /**
     * Creates a token owned by {@code by}.
     *
     * @throws HubException INVALID for a TTL, use count or label out of range; FORBIDDEN for viewers
     */
    public Created create(Principal by, Duration ttl, int uses, Map<String, String> labels) {
        by.require(Role.OPERATOR);
        Duration t = ttl == null ? DEFAULT_TTL : ttl;
        if (t.isNegative() || t.isZero() || t.compareTo(MAX_TTL) > 0) {
            throw HubException.invalid("ttl must be more than 0 and at most 365d");
        }
        if (uses < 1 || uses > MAX_USES) {
            throw HubException.invalid("uses must be between 1 and " + MAX_USES);
        }
        Instant now = clock.instant();
        String secret = Ids.newSecret(PREFIX);
        JoinToken token = new JoinToken(Ids.newId(), by.userId(), Labels.validated(labels), uses,
                now.plus(t), now, null);
        repo.insert(token, Ids.hash(secret));
        events.publish(new Event.TokenCreated(token.id(), token.owner(), uses, token.labels()));
        return new Created(token, secret);
    }

    /** Tokens {@code by} may see: all for admins, their own for others. */
    public List<JoinToken> list(Principal by) {
        return repo.list(by.seesAllNodes() ? null : by.userId());
    }

    /**
     * Revokes a token; revoking it again is fine.
     *
     * @throws HubException NOT_FOUND when there is no such token visible to {@code by}
     */
    public JoinToken revoke(Principal by, String id) {
        by.require(Role.OPERATOR);
        JoinToken t = repo.find(id)
                .filter(x -> by.maySee(x.owner()))
                .orElseThrow(() -> HubException.notFound("no join token " + id));
        if (t.revokedAt() == null) {
            repo.revoke(id, clock.millis());
            events.publish(new Event.TokenRevoked(id, t.owner()));
        }
        return repo.find(id).orElseThrow(() -> HubException.notFound("no join token " + id));
    }

    /**
     * The token for a secret if a node could join with it now (for provisioning links; nothing is
     * consumed).
     *
     * @throws HubException UNAUTHENTICATED, saying whether it is unknown, revoked, expired or used up
     */
    public JoinToken usable(String secret) {
        if (secret == null || !secret.startsWith(PREFIX)) {
            throw HubException.unauthenticated("a join token (hjt_…) is needed");
        }
        JoinToken t = repo.findByHash(Ids.hash(secret))
                .orElseThrow(() -> HubException.unauthenticated("unknown join token"));
        if (t.revokedAt() != null) {
            throw HubException.unauthenticated("this join token was revoked");
        }
        if (!t.expiresAt().isAfter(clock.instant())) {
            throw HubException.unauthenticated("this join token has expired");
        }
        if (t.usesLeft() < 1) {
            throw HubException.unauthenticated("this join token is used up");
        }
        return t;
    }

    /** The current time, for callers that need the state of a token. */
    public Instant now() {
        return clock.instant();
    }
}

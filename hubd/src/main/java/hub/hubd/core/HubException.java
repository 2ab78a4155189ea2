package hub.hubd.core;

/**
 * A failure the core reports to whoever called it: the kind says what went wrong in terms every
 * edge can map once (HTTP status, gRPC {@code Status}), the message is fit for the user.
 */
public final class HubException extends RuntimeException {

    /** What went wrong, independent of the protocol that reports it. */
    public enum Kind {
        /** The input is malformed or out of range. */
        INVALID,
        /** No credential, or one that is unknown, expired or revoked. */
        UNAUTHENTICATED,
        /** The caller is known but may not do this. */
        FORBIDDEN,
        /** The thing named does not exist (or the caller may not see it). */
        NOT_FOUND,
        /** The request contradicts the current state, e.g. an ambiguous node name. */
        CONFLICT,
        /** The hub cannot take this now (a full queue); retrying later may work. */
        UNAVAILABLE
    }

    private final Kind kind;

    public HubException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public HubException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static HubException invalid(String message) {
        return new HubException(Kind.INVALID, message);
    }

    public static HubException notFound(String message) {
        return new HubException(Kind.NOT_FOUND, message);
    }

    public static HubException forbidden(String message) {
        return new HubException(Kind.FORBIDDEN, message);
    }

    public static HubException unauthenticated(String message) {
        return new HubException(Kind.UNAUTHENTICATED, message);
    }

    public static HubException conflict(String message) {
        return new HubException(Kind.CONFLICT, message);
    }

    public static HubException unavailable(String message) {
        return new HubException(Kind.UNAVAILABLE, message);
    }
}

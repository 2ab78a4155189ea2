package hub.hubd.files;

import hub.proto.agent.v1.FileError;

/**
 * A file transfer that failed on the node, or between it and the hub: its problem type (the slug
 * after {@code https://meshhub.dev/problems/}), the HTTP status the API answers with, and a
 * message that names the node and the path.
 */
public final class FileFailure extends RuntimeException {
    private final String slug;
    private final int status;

    public FileFailure(String slug, int status, String message) {
        super(message);
        this.slug = slug;
        this.status = status;
    }

    public String slug() {
        return slug;
    }

    public int status() {
        return status;
    }

    /** What the node reported, as the API says it. */
    static FileFailure of(FileError error, String message) {
        return switch (error) {
            case FILE_ERROR_NOT_FOUND -> new FileFailure("file-not-found", 404, message);
            case FILE_ERROR_PERMISSION_DENIED -> new FileFailure("file-permission-denied", 403, message);
            case FILE_ERROR_NO_SPACE -> new FileFailure("no-space", 507, message);
            case FILE_ERROR_IS_A_DIRECTORY -> new FileFailure("is-a-directory", 409, message);
            case FILE_ERROR_NOT_A_DIRECTORY -> new FileFailure("not-a-directory", 409, message);
            case FILE_ERROR_HASH_MISMATCH -> new FileFailure("hash-mismatch", 422, message);
            case FILE_ERROR_REFUSED -> new FileFailure("refused-by-node", 403, message);
            case FILE_ERROR_INVALID -> new FileFailure("invalid", 400, message);
            case FILE_ERROR_CHANGED -> new FileFailure("file-changed", 409, message);
            case FILE_ERROR_BUSY -> new FileFailure("file-busy", 409, message);
            default -> new FileFailure("node-io-error", 502, message);
        };
    }

    /** The node went away or stopped answering: retrying (and resuming) may work. */
    static FileFailure lost(String message) {
        return new FileFailure("node-unavailable", 503, message);
    }

    static FileFailure timeout(String message) {
        return new FileFailure("node-timeout", 504, message);
    }
}

package hub.hubd.audit;

import java.time.Instant;

/**
 * One row of the audit log.
 *
 * @param seq        increasing, hub-assigned
 * @param userId     the caller's user id, or null (an unauthenticated caller, the hub itself)
 * @param userName   the caller's name then (names can be reused; {@code userId} cannot)
 * @param tokenId    the API token used
 * @param remoteAddr where the request came from
 * @param action     what was done, e.g. {@code task.create}, {@code grant.add}, {@code auth.failed}
 * @param target     what it was done to, as the request named it (a node, token id, user name)
 * @param nodeId     the node concerned, by id, when there is one
 * @param detail     e.g. the command of a task, a grant's selector and role
 * @param status     the HTTP status answered
 * @param result     {@code ok}, {@code denied} (401/403), {@code refused} (other 4xx) or {@code failed} (5xx)
 */
@com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
public record AuditEntry(long seq, Instant at, String userId, String userName, String tokenId, String remoteAddr,
        String action, String target, String nodeId, String detail, int status, String result) {

    /** The result word for an HTTP status. */
    public static String resultOf(int status) {
        if (status < 400) {
            return "ok";
        }
        if (status == 401 || status == 403) {
            return "denied";
        }
        return status < 500 ? "refused" : "failed";
    }
}

package hub.hubd.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * An RFC 9457 problem, the body of every error answer ({@code application/problem+json}).
 *
 * @param type    URI naming the kind of problem
 * @param title   short summary of the kind
 * @param status  HTTP status
 * @param detail  what went wrong this time, for a person
 * @param errorId id of this occurrence; the hub's log line for it carries the same id
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail, String errorId) {
    /** Content type of problem answers. */
    public static final String CONTENT_TYPE = "application/problem+json";
}

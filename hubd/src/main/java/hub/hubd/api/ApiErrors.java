package hub.hubd.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.core.HubException;
import hub.hubd.core.Ids;
import hub.hubd.core.LogText;
import hub.hubd.core.StoreException;
import hub.hubd.core.StoreFaults;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The one place where failures become HTTP answers: a problem+json body with an error id, and
 * one log line with the same id (with the stack trace for 5xx). No stack trace reaches a client.
 */
final class ApiErrors {
    private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);
    private static final String TYPE_BASE = "https://meshhub.dev/problems/";

    private final ObjectMapper mapper;

    ApiErrors(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /** A refusal as a problem (without an error id: for one item of an answer that is otherwise fine). */
    static Problem problem(HubException e) {
        return problem(slug(e.kind()), status(e.kind()), e.getMessage(), null);
    }

    private static String slug(HubException.Kind kind) {
        return kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /** The HTTP status of a kind of refusal. */
    static int status(HubException.Kind kind) {
        return switch (kind) {
            case INVALID -> 400;
            case UNAUTHENTICATED -> 401;
            case FORBIDDEN -> 403;
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case UNAVAILABLE -> 503;
        };
    }

    void handle(Exception e, Context ctx) {
        String errorId = Ids.newId();
        MDC.put("errorId", errorId);
        try {
            Problem p;
            if (ctx.res().isCommitted()) {
                // Part of a body is out (a file read cut short): no answer can follow it; the
                // response ends short of its length and the connection is closed.
                log.info("{} {} failed after its answer began: {} (error id {})", ctx.method(), ctx.path(),
                        e.getMessage(), errorId);
                return;
            }
            if (e instanceof hub.hubd.files.FileFailure ff) {
                p = problem(ff.slug(), ff.status(), ff.getMessage(), errorId);
                log.info("{} {} -> {}: {} (error id {})", ctx.method(), ctx.path(), ff.status(),
                        LogText.safe(ff.getMessage()), errorId);
            } else if (e instanceof HubException he) {
                int status = status(he.kind());
                p = problem(slug(he.kind()), status, he.getMessage(), errorId);
                log.info("{} {} -> {}: {} (error id {})", ctx.method(), ctx.path(), status,
                        he.getMessage(), errorId);
                if (status == 401) {
                    ctx.header("WWW-Authenticate", "Bearer");
                }
            } else if (e instanceof HttpResponseException hre) {
                int status = hre.getStatus();
                String allowed = status == 405 ? hre.getDetails().get("availableMethods") : null;
                if (allowed != null) {
                    ctx.header("Allow", allowed.replace(" ", ""));
                }
                String detail = status == 404 ? "no such route: " + ctx.method() + " " + ctx.path()
                        : status == 405 ? "method " + ctx.method() + " not allowed on " + ctx.path()
                                + (allowed == null ? "" : " (allowed: " + allowed + ")")
                        : hre.getMessage();
                p = problem(status == 404 ? "not-found" : "http-" + status, status, detail, errorId);
                log.info("{} {} -> {}: {} (error id {})", ctx.method(), ctx.path(), status, detail, errorId);
            } else if (e instanceof StoreException se) {
                p = se.kind() == StoreException.Kind.FULL
                        ? problem("storage-full", 507, "the hub's storage is full: nothing was written; "
                                + "reads still work (error id " + errorId + ")", errorId)
                        : problem("storage-unavailable", 503, "the hub's storage did not answer in time; "
                                + "retry later", errorId);
                StoreFaults.report(log, ctx.method() + " " + LogText.safe(ctx.path()), se, errorId);
            } else {
                p = problem("internal", 500, "internal error; see the hub's log for error id " + errorId,
                        errorId);
                log.error("{} {} failed (error id {})", ctx.method(), ctx.path(), errorId, e);
            }
            write(ctx, p);
        } finally {
            MDC.remove("errorId");
        }
    }

    void write(Context ctx, Problem p) {
        try {
            String body = mapper.writeValueAsString(p);
            ctx.status(p.status()).contentType(Problem.CONTENT_TYPE);
            if ("websocket".equalsIgnoreCase(ctx.header("Upgrade"))) {
                // A refused WebSocket upgrade: Javalin does not send a result, so write the body itself.
                byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                ctx.res().setContentLength(bytes.length);
                ctx.res().getOutputStream().write(bytes);
                ctx.res().flushBuffer();
            } else {
                ctx.result(body);
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            ctx.status(500).contentType(Problem.CONTENT_TYPE).result("{\"status\":500}");
        } catch (java.io.IOException e) {
            log.debug("client went away before its error answer: {}", e.getMessage());
        }
    }

    static Problem problem(String slug, int status, String detail, String errorId) {
        return new Problem(TYPE_BASE + slug, title(status), status, detail, errorId);
    }

    private static String title(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 409 -> "Conflict";
            case 413 -> "Payload Too Large";
            case 414 -> "URI Too Long";
            case 411 -> "Length Required";
            case 415 -> "Unsupported Media Type";
            case 422 -> "Unprocessable Content";
            case 502 -> "Bad Gateway";
            case 504 -> "Gateway Timeout";
            case 431 -> "Request Header Fields Too Large";
            case 507 -> "Insufficient Storage";
            case 503 -> "Service Unavailable";
            default -> status >= 500 ? "Internal Server Error" : "Error";
        };
    }
}

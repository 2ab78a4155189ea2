package hub.hubd.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.core.Ids;
import hub.hubd.core.LogText;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Jetty's own error answers as problem+json: requests its parser refuses before any route sees them
 * (a URI too long: 414, headers too large: 431, {@code %00}, bad UTF-8, ambiguous {@code ..;}
 * segments, no Host: 400) and anything else Jetty answers itself. Never an HTML page, never a cause
 * or a stack. The detail is Jetty's reason phrase (fixed text, not the client's bytes).
 */
final class ProblemErrorHandler extends ErrorHandler {
    private static final Logger log = LoggerFactory.getLogger(ProblemErrorHandler.class);

    private final ObjectMapper mapper;

    ProblemErrorHandler(ObjectMapper mapper) {
        this.mapper = mapper;
        setShowStacks(false);
        setShowCauses(false);
    }

    /**
     * Every method gets the body: Jetty writes one only for GET, POST and HEAD by default, so a PUT
     * or OPTIONS it refused (bad UTF-8, a bad Expect) got an empty answer with no type.
     */
    @Override
    public boolean errorPageForMethod(String method) {
        return true;
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
            Callback callback) {
        String errorId = Ids.newId();
        byte[] body = body(code, message, errorId);
        MDC.put("errorId", errorId);
        try {
            if ("BAD".equals(request.getMethod())) { // Jetty's stand-in for a request line it could not parse
                log.info("bad HTTP request -> {}: {} (error id {})", code, detail(code, message), errorId);
            } else {
                log.info("{} {} -> {}: {} (refused by the HTTP parser; error id {})",
                        LogText.safe(request.getMethod()), LogText.safe(request.getHttpURI().getPath()), code,
                        detail(code, message), errorId);
            }
        } finally {
            MDC.remove("errorId");
        }
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, Problem.CONTENT_TYPE);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    /** Requests refused before Jetty made a request of them (the request line or headers are bad). */
    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        String errorId = Ids.newId();
        MDC.put("errorId", errorId);
        try {
            log.info("bad HTTP request -> {}: {} (error id {})", status, detail(status, reason), errorId);
        } finally {
            MDC.remove("errorId");
        }
        fields.put(HttpHeader.CONTENT_TYPE, Problem.CONTENT_TYPE);
        return ByteBuffer.wrap(body(status, reason, errorId));
    }

    private byte[] body(int status, String message, String errorId) {
        Problem p = ApiErrors.problem(slug(status), status, detail(status, message), errorId);
        try {
            return mapper.writeValueAsBytes(p);
        } catch (JsonProcessingException e) {
            return ("{\"status\":" + status + ",\"errorId\":\"" + errorId + "\"}").getBytes(StandardCharsets.UTF_8);
        }
    }

    private static String slug(int status) {
        return switch (status) {
            case 400 -> "bad-request";
            case 404 -> "not-found";
            case 414 -> "uri-too-long";
            case 431 -> "headers-too-large";
            default -> "http-" + status;
        };
    }

    /** Jetty's reason, which is its own fixed text; a fallback by status when it has none. */
    private static String detail(int status, String message) {
        if (message != null && !message.isBlank() && message.length() <= 200) {
            return LogText.safe(message);
        }
        return switch (status) {
            case 400 -> "the request is not valid HTTP";
            case 414 -> "the request URI is too long";
            case 431 -> "the request headers are too large";
            default -> "HTTP " + status;
        };
    }
}

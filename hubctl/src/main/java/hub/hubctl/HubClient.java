package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A thin client of the hub's HTTP API. Every non-2xx answer becomes a {@link HubctlException}
 * carrying the problem's detail and error id; transport failures say which hub was unreachable.
 */
public final class HubClient {
    private final HttpClient http;
    private final URI base;
    private final String token;
    private final ObjectMapper mapper;
    private final Duration timeout;

    public HubClient(URI base, String token, ObjectMapper mapper) {
        this(base, token, mapper, Duration.ofSeconds(5), Duration.ofSeconds(30));
    }

    private HubClient(URI base, String token, ObjectMapper mapper, Duration connect, Duration timeout) {
        this.base = base;
        this.token = token;
        this.mapper = mapper;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(connect).build();
    }

    /** The same client with short timeouts, for lookups made while the user types (completion). */
    HubClient quick() {
        return new HubClient(base, token, mapper, Duration.ofMillis(800), Duration.ofMillis(1500));
    }

    public URI base() {
        return base;
    }

    /** The API token, or null. */
    String token() {
        return token;
    }

    /** The exception for an error answer: transient for 5xx. */
    HubctlException error(int status, String body) {
        String message = describeError(status, body);
        return status >= 500 ? HubctlException.unreachable(message) : HubctlException.hub(message);
    }

    /** {@code GET path}, the answer as JSON. */
    public JsonNode get(String path) {
        return send(request(path).GET());
    }

    /** {@code POST path} with a JSON body. */
    public JsonNode post(String path, Object body) {
        try {
            return send(request(path).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(mapper.writeValueAsString(body))));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw HubctlException.usage("cannot encode request: " + e.getOriginalMessage());
        }
    }

    /** {@code DELETE path}; the answer as JSON, or null when it has no body. */
    public JsonNode delete(String path) {
        return send(request(path).DELETE());
    }

    /** Encodes one path segment or query value. */
    public static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path))
                .timeout(timeout)
                .header("Accept", "application/json");
        if (token != null && !token.isBlank()) {
            b.header("Authorization", "Bearer " + token.strip());
        }
        return b;
    }

    private JsonNode send(HttpRequest.Builder b) {
        HttpRequest req = b.build();
        HttpResponse<String> resp;
        try {
            resp = http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw HubctlException.unreachable("cannot reach the hub at " + base + " (connection refused); "
                    + "is hubd running? (--hub or HUB_URL)");
        } catch (HttpTimeoutException e) {
            throw HubctlException.unreachable("the hub at " + base + " did not answer in time");
        } catch (IOException e) {
            throw HubctlException.unreachable("cannot reach the hub at " + base + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw HubctlException.interrupted();
        }
        String body = resp.body();
        if (resp.statusCode() / 100 == 2) {
            return body == null || body.isBlank() ? null : parse(body);
        }
        throw error(resp.statusCode(), body);
    }

    private String describeError(int status, String body) {
        String detail = null;
        String errorId = null;
        try {
            JsonNode p = mapper.readTree(body);
            detail = p.path("detail").asText(null);
            errorId = p.path("errorId").asText(null);
        } catch (IOException | RuntimeException e) {
            // not a problem document: fall back to the status line below
        }
        StringBuilder sb = new StringBuilder();
        sb.append(detail != null ? detail : "the hub answered HTTP " + status);
        if (status == 401 && (token == null || token.isBlank())) {
            sb.append(" (give --token, set HUB_TOKEN, or run 'hubctl login')");
        }
        if (errorId != null) {
            sb.append(" (error id ").append(errorId).append(')');
        }
        return sb.toString();
    }

    private JsonNode parse(String body) {
        try {
            return mapper.readTree(body);
        } catch (IOException e) {
            throw HubctlException.hub("the hub answered something that is not JSON");
        }
    }
}

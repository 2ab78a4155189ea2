package hub.hubd.cluster;

import hub.hubd.core.HubException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * Hub-to-hub calls of a cluster, over the hubs' own HTTPS API: TLS verified against the
 * cluster's shared CA (every hub's serving certificate is signed by it), and the cluster's relay
 * secret in {@link #RELAY_HEADER} on every request, so a hub accepts only other hubs on its
 * {@code /internal/} routes and in forwarded requests.
 */
public final class RelayClient {
    /** Carries the cluster's relay secret: the request comes from a hub of the cluster. */
    public static final String RELAY_HEADER = "X-Hub-Relay";
    /** On a forwarded request: the address of the client the forwarding hub serves (for the audit log). */
    public static final String CLIENT_HEADER = "X-Hub-Relay-Client";
    /** How long a hub-to-hub call may take before it fails as unavailable. */
    static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final HttpClient http;
    private final String secret;

    /** @param ca the cluster's CA; null for a plain-text cluster (a lab) */
    public RelayClient(X509Certificate ca, String secret) {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(TIMEOUT).version(HttpClient.Version.HTTP_1_1);
        if (ca != null) {
            SSLContext ssl = hub.tls.HubTrust.context(hub.tls.HubTrust.anchoredTo(List.of(ca)), null);
            b.sslContext(ssl);
        }
        this.http = b.build();
        this.secret = secret;
    }

    /** The client forwarded requests go through (streams both ways). */
    public HttpClient http() {
        return http;
    }

    /** The cluster's relay secret. */
    public String secret() {
        return secret;
    }

    /**
     * POSTs {@code json} to {@code path} of the hub at {@code apiUrl}.
     *
     * @return the status and body
     * @throws HubException UNAVAILABLE when the hub cannot be reached in time
     */
    public HttpResponse<String> post(String apiUrl, String path, String json) {
        HttpRequest req = HttpRequest.newBuilder(URI.create(apiUrl + path)).timeout(TIMEOUT)
                .header(RELAY_HEADER, secret).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build();
        try {
            return http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw HubException.unavailable("the hub at " + apiUrl + " holding the node cannot be reached: "
                    + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw HubException.unavailable("interrupted calling the hub at " + apiUrl);
        }
    }

    /**
     * POSTs {@code json} to {@code path} of another hub, for an answer of 2xx; what that hub refused
     * is thrown as it refused it (its problem's detail and kind).
     *
     * @throws HubException the other hub's refusal, or UNAVAILABLE when it cannot be reached
     */
    public void call(String apiUrl, String path, String json) {
        HttpResponse<String> r = post(apiUrl, path, json);
        int status = r.statusCode();
        if (status / 100 == 2) {
            return;
        }
        String detail;
        try {
            detail = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("detail").asText("");
        } catch (IOException e) {
            detail = "";
        }
        if (detail.isEmpty()) {
            detail = "the hub at " + apiUrl + " answered " + status;
        }
        throw switch (status) {
            case 400 -> HubException.invalid(detail);
            case 401, 403 -> HubException.forbidden(detail);
            case 404 -> HubException.notFound(detail);
            case 409 -> HubException.conflict(detail);
            default -> HubException.unavailable(detail);
        };
    }
}

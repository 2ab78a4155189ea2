package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import java.nio.charset.StandardCharsets;

/**
 * A thin client of the hub's HTTP API. Every non-2xx answer becomes a {@link HubctlException}
 * carrying the problem's detail and error id; transport failures say which hub was unreachable.
 *
 * <p>It uses {@link HttpURLConnection}, not {@code java.net.http.HttpClient}: a CLI pays for its
 * client's start-up on every run, and on this JDK HttpClient's first request costs about 600 ms
 * against 30 ms (docs/BENCHMARKS.md, hubctl start-up). Follow modes use HttpClient's WebSocket, and
 * {@code provision} its plain requests (it needs response headers).
 */
public final class HubClient {
    private final URI base;
    private final String token;
    private final ObjectMapper mapper;
    private final int connectTimeoutMs;
    private final int timeoutMs;
    private final SSLContext tls;

    /**
     * @param tls how an {@code https} hub is verified; null for the JDK's default (system trust store)
     */
    public HubClient(URI base, String token, ObjectMapper mapper, SSLContext tls) {
        this(base, token, mapper, 5_000, 30_000, tls);
    }

    private HubClient(URI base, String token, ObjectMapper mapper, int connectTimeoutMs, int timeoutMs,
            SSLContext tls) {
        this.base = base;
        this.token = token;
        this.mapper = mapper;
        this.connectTimeoutMs = connectTimeoutMs;
        this.timeoutMs = timeoutMs;
        this.tls = tls;
    }

    /** The same client with short timeouts, for lookups made while the user types (completion). */
    HubClient quick() {
        return new HubClient(base, token, mapper, 800, 1500, tls);
    }

    /** How the hub is verified: the context for {@code https}, or null for the JDK's default. */
    SSLContext tls() {
        return tls;
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
        return (status >= 500 ? HubctlException.unreachable(message) : HubctlException.hub(message)).withStatus(status);
    }

    /** {@code GET path}, the answer as JSON. */
    public JsonNode get(String path) {
        return send("GET", path, null);
    }

    /** {@code POST path} with a JSON body. */
    public JsonNode post(String path, Object body) {
        try {
            return send("POST", path, mapper.writeValueAsBytes(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw HubctlException.usage("cannot encode request: " + e.getOriginalMessage());
        }
    }

    /**
     * {@code POST path} with bytes as the body (application/octet-stream).
     *
     * @return true when the hub took them; false for a 409 (the hub will not take more: e.g. a
     *         task's stdin is closed)
     */
    boolean postBytes(String path, byte[] body) {
        try {
            exchange("POST", base.resolve(path), body, "application/json", null, token, "application/octet-stream");
            return true;
        } catch (HubctlException e) {
            if (e.status() == 409) {
                return false;
            }
            throw e;
        }
    }

    /** {@code DELETE path}; the answer as JSON, or null when it has no body. */
    public JsonNode delete(String path) {
        return send("DELETE", path, null);
    }

    /** Encodes one path segment or query value. */
    public static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /**
     * A text answer, the value of the one header asked for (null when absent), and the certificate
     * the hub presented (null over plain HTTP).
     */
    record Text(String body, String header, java.security.cert.X509Certificate[] serverChain) {
        /** The leaf the hub presented, or null over plain HTTP. */
        java.security.cert.X509Certificate serverCertificate() {
            return serverChain == null || serverChain.length == 0 ? null : serverChain[0];
        }
    }

    /**
     * {@code GET path} for a text answer (a script), with the value of {@code header}; sent with
     * {@code bearer} as the token instead of the client's own.
     */
    Text getText(String path, String header, String bearer) {
        Answer a = exchange("GET", base.resolve(path), null, "text/plain, */*", header, bearer);
        return new Text(new String(a.body(), StandardCharsets.UTF_8), a.header(), a.serverChain());
    }

    private JsonNode send(String method, String path, byte[] body) {
        byte[] answer = exchange(method, base.resolve(path), body, "application/json", null, token).body();
        return answer.length == 0 ? null : parse(answer);
    }

    private record Answer(byte[] body, String header, java.security.cert.X509Certificate[] serverChain) {
    }

    private Answer exchange(String method, URI uri, byte[] body, String accept, String header, String bearer) {
        return exchange(method, uri, body, accept, header, bearer, "application/json");
    }

    private Answer exchange(String method, URI uri, byte[] body, String accept, String header, String bearer,
            String contentType) {
        if (Thread.currentThread().isInterrupted()) {
            throw HubctlException.interrupted();
        }
        HttpURLConnection c = null;
        try {
            c = (HttpURLConnection) uri.toURL().openConnection();
            if (tls != null && c instanceof HttpsURLConnection https) {
                https.setSSLSocketFactory(tls.getSocketFactory());
            }
            c.setRequestMethod(method);
            c.setConnectTimeout(connectTimeoutMs);
            c.setReadTimeout(timeoutMs);
            c.setUseCaches(false);
            c.setRequestProperty("Accept", accept);
            if (bearer != null && !bearer.isBlank()) {
                c.setRequestProperty("Authorization", "Bearer " + bearer.strip());
            }
            if (body != null) {
                c.setDoOutput(true);
                c.setRequestProperty("Content-Type", contentType);
                c.setFixedLengthStreamingMode(body.length);
                try (OutputStream out = c.getOutputStream()) {
                    out.write(body);
                }
            }
            int status = c.getResponseCode();
            if (status / 100 == 2) {
                // The chain is asked for while the connection is ours: once the body is read, it goes
                // back to the keep-alive cache.
                java.security.cert.X509Certificate[] served = null;
                if (header != null && c instanceof HttpsURLConnection https) {
                    served = java.util.Arrays.stream(https.getServerCertificates())
                            .map(x -> (java.security.cert.X509Certificate) x)
                            .toArray(java.security.cert.X509Certificate[]::new);
                }
                try (InputStream in = c.getInputStream()) {
                    return new Answer(in.readAllBytes(), header == null ? null : c.getHeaderField(header), served);
                }
            }
            InputStream err = c.getErrorStream();
            String text = "";
            if (err != null) {
                try (err) {
                    text = new String(err.readAllBytes(), StandardCharsets.UTF_8);
                }
            }
            throw error(status, text);
        } catch (ConnectException e) {
            throw HubctlException.unreachable("cannot reach the hub at " + base + " (connection refused); "
                    + "is hubd running? (--hub or HUB_URL)");
        } catch (SocketTimeoutException e) {
            throw HubctlException.unreachable("the hub at " + base + " did not answer in time");
        } catch (javax.net.ssl.SSLException e) {
            throw tlsFailure(base, e);
        } catch (IOException e) {
            if (Thread.currentThread().isInterrupted()) {
                throw HubctlException.interrupted();
            }
            String m = String.valueOf(e.getMessage());
            if ("http".equals(base.getScheme())
                    && (m.contains("Invalid Http response") || m.contains("Unexpected end of file from server"))) {
                throw HubctlException.hub("the hub at " + base + " does not answer plain HTTP; it serves HTTPS: use "
                        + "https://" + base.getRawAuthority() + "/ (hubd listens with TLS unless --insecure-plaintext)");
            }
            throw HubctlException.unreachable("cannot reach the hub at " + base + ": " + e);
        } finally {
            if (c != null && Thread.currentThread().isInterrupted()) {
                c.disconnect();
            }
        }
    }

    /**
     * A TLS failure as the user needs to read it: what did not verify (the trust manager's own
     * message) and what to do; not transient, since retrying would fail the same way.
     */
    static HubctlException tlsFailure(URI hub, Throwable e) {
        String why = e.getMessage();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.security.cert.CertificateException) {
                why = t.getMessage(); // the outermost: the trust manager's own explanation
                break;
            }
        }
        if (why != null && (why.contains("PKIX path building failed") || why.contains("unable to find valid"))) {
            why = "its certificate is not signed by a CA hubctl trusts; review and trust the hub's CA with "
                    + "'hubctl login --hub " + hub + "', or give --ca-file (HUB_CA)";
        } else if (why != null && why.contains("Unsupported or unrecognized SSL message")) {
            why = "it does not speak TLS (a hub started with --insecure-plaintext is reached with http://)";
        }
        return HubctlException.hub("cannot talk to the hub at " + hub + " securely: " + why);
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

    private JsonNode parse(byte[] body) {
        try {
            return mapper.readTree(body);
        } catch (IOException e) {
            throw HubctlException.hub("the hub answered something that is not JSON");
        }
    }
}

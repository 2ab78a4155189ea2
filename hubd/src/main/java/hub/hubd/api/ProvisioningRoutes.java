package hub.hubd.api;

import hub.hubd.auth.JoinToken;
import hub.hubd.auth.JoinTokens;
import hub.hubd.core.HubException;
import hub.hubd.provisioning.AgentArtifact;
import hub.hubd.provisioning.ProvisioningScript;
import hub.hubd.tls.HubTls;
import hub.tls.Pem;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * {@code /api/v1/provisioning}: the installer script for a join token, which is its credential
 * (sent as {@code Authorization: Bearer hjt_…}, never in the URL, so no access log, proxy or
 * {@code ps} listing sees it), and the agent artifact it downloads (public: nothing secret in it).
 * A token that cannot join gets a 401 problem, never a script; a failure to make one is a 500
 * problem with an error id, logged once (by {@link ApiErrors}).
 *
 * <p>Every address in the script comes from {@code --advertise}, never from the request's
 * {@code Host} header, which the requester controls.
 */
final class ProvisioningRoutes {
    static final String PREFIX = "/api/v1/provisioning/";

    private final JoinTokens tokens;
    private final AgentArtifact artifact;
    private final HubTls tls;
    private final List<String> advertise;
    private final IntSupplier agentPort;
    /** A cluster's hubs' agent addresses, this hub's first; empty for one hub. */
    private volatile java.util.function.Supplier<List<String>> clusterAgents = List::of;
    private final IntSupplier httpPort;

    ProvisioningRoutes(JoinTokens tokens, AgentArtifact artifact, HubTls tls, List<String> advertise,
            IntSupplier agentPort, IntSupplier httpPort) {
        this.tokens = tokens;
        this.artifact = artifact;
        this.tls = tls;
        this.advertise = advertise;
        this.agentPort = agentPort;
        this.httpPort = httpPort;
    }

    /** In a cluster: scripts list every live hub, so agents fail over between them. */
    void clusterAgents(java.util.function.Supplier<List<String>> s) {
        this.clusterAgents = s;
    }

    /**
     * {@code GET …/script[?hub=HOST:PORT,…]} with the join token as bearer token: agents will
     * connect to {@code hub}, by default the first advertised name on the hub's agent port (in a
     * cluster: every live hub's agent address, this hub's first).
     */
    void script(Context ctx) {
        if (ctx.queryParam("token") != null) {
            throw HubException.invalid("join tokens are not accepted in URLs (logs and proxies keep them): send "
                    + "'Authorization: Bearer hjt_…'");
        }
        String secret = bearer(ctx);
        JoinToken t = tokens.usable(secret);
        String hub = ctx.queryParam("hub");
        String host = urlHost(advertise.get(0));
        List<String> cluster = hub != null && !hub.isBlank() ? List.of() : clusterAgents.get();
        List<String> addresses = hub != null && !hub.isBlank() ? Arrays.asList(hub.split(","))
                : !cluster.isEmpty() ? cluster : List.of(host + ":" + agentPort.getAsInt());
        URI agent = URI.create((tls == null ? "http" : "https") + "://" + host + ":" + httpPort.getAsInt()
                + PREFIX + "agent");
        String script = ProvisioningScript.render(new ProvisioningScript.Inputs(addresses, secret,
                t.labels(), agent, artifact.sha256(),
                tls == null ? null : tls.caPin(), tls == null ? null : Pem.certificate(tls.trustAnchor())));
        ctx.header("X-Checksum-Sha256", sha256(script.getBytes(StandardCharsets.UTF_8)));
        ctx.header("Cache-Control", "no-store");
        ctx.contentType("text/x-shellscript; charset=utf-8").result(script);
    }

    /** {@code GET …/agent}: the agent tarball, with its SHA-256 in {@code X-Checksum-Sha256}. */
    void agent(Context ctx) throws IOException {
        InputStream in = Files.newInputStream(artifact.file());
        ctx.header("X-Checksum-Sha256", artifact.sha256());
        ctx.header("Content-Disposition", "attachment; filename=hub-agent.tar.gz");
        ctx.contentType("application/gzip").result(in);
    }

    /** The join token of {@code Authorization: Bearer hjt_…}. */
    private static String bearer(Context ctx) {
        String h = ctx.header("Authorization");
        if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7) || h.substring(7).isBlank()) {
            throw HubException.unauthenticated("the script needs a join token: send 'Authorization: Bearer hjt_…'");
        }
        return h.substring(7).strip();
    }

    /** An advertised name as the host of a URL or address: IPv6 literals in brackets. */
    private static String urlHost(String name) {
        return name.contains(":") && !name.startsWith("[") ? "[" + name + "]" : name;
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

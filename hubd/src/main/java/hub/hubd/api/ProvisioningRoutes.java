package hub.hubd.api;

import hub.hubd.auth.JoinToken;
import hub.hubd.auth.JoinTokens;
import hub.hubd.core.HubException;
import hub.hubd.provisioning.AgentArtifact;
import hub.hubd.provisioning.ProvisioningScript;
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
 * {@code /api/v1/provisioning}: the installer script for a join token (the token is its
 * credential: no bearer token) and the agent artifact it downloads (public: nothing secret in it).
 * A token that cannot join gets a 401 problem, never a script; a failure to make one is a 500
 * problem with an error id, logged once (by {@link ApiErrors}).
 */
final class ProvisioningRoutes {
    static final String PREFIX = "/api/v1/provisioning/";

    private final JoinTokens tokens;
    private final AgentArtifact artifact;
    private final IntSupplier agentPort;

    ProvisioningRoutes(JoinTokens tokens, AgentArtifact artifact, IntSupplier agentPort) {
        this.tokens = tokens;
        this.artifact = artifact;
        this.agentPort = agentPort;
    }

    /**
     * {@code GET …/script?token=hjt_…[&hub=HOST:PORT,…]}: agents will connect to {@code hub}, by
     * default to this request's host on the hub's agent port.
     */
    void script(Context ctx) {
        JoinToken t = tokens.usable(ctx.queryParam("token"));
        String hub = ctx.queryParam("hub");
        List<String> addresses = hub != null && !hub.isBlank() ? Arrays.asList(hub.split(","))
                : List.of(hostOf(ctx) + ":" + agentPort.getAsInt());
        URI agent = URI.create(ctx.scheme() + "://" + ctx.host() + PREFIX + "agent");
        String script = ProvisioningScript.render(new ProvisioningScript.Inputs(addresses, ctx.queryParam("token"),
                t.labels(), agent, artifact.sha256()));
        ctx.header("X-Checksum-Sha256", sha256(script.getBytes(StandardCharsets.UTF_8)));
        ctx.contentType("text/x-shellscript; charset=utf-8").result(script);
    }

    /** {@code GET …/agent}: the agent tarball, with its SHA-256 in {@code X-Checksum-Sha256}. */
    void agent(Context ctx) throws IOException {
        InputStream in = Files.newInputStream(artifact.file());
        ctx.header("X-Checksum-Sha256", artifact.sha256());
        ctx.header("Content-Disposition", "attachment; filename=hub-agent.tar.gz");
        ctx.contentType("application/gzip").result(in);
    }

    /** The request's host without its port. */
    private static String hostOf(Context ctx) {
        String h = ctx.host();
        if (h == null || h.isBlank()) {
            throw HubException.invalid("no Host header; give ?hub=HOST:PORT");
        }
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end > 0 ? h.substring(0, end + 1) : h;
        }
        int colon = h.lastIndexOf(':');
        return colon > 0 ? h.substring(0, colon) : h;
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

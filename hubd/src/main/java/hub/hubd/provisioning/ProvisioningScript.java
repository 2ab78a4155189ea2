package hub.hubd.provisioning;

import hub.hubd.core.HubException;
import hub.hubd.core.Labels;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.regex.Pattern;

/**
 * The agent installer a join token's provisioning link serves: the POSIX {@code sh} template
 * {@code provisioning/install.sh} with the hub's values filled in. Every value is validated
 * against a strict pattern first (a bad one is an INVALID error, never a script) and then
 * single-quoted, so nothing placed in the script can run as shell code, whatever it contains.
 */
public final class ProvisioningScript {
    private static final String TEMPLATE = load("/provisioning/install.sh");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,252})|\\[[0-9A-Fa-f:.]{2,45}]");
    private static final Pattern TOKEN = Pattern.compile("hjt_[A-Za-z0-9_-]{16,128}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern PIN = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n");
    private static final Pattern URL_SAFE = Pattern.compile("[A-Za-z0-9._~:/?#\\[\\]@!&()*+,;=%-]+");

    private ProvisioningScript() {
    }

    /**
     * What goes into a script.
     *
     * @param hubAddresses the {@code HOST:PORT}s agents connect to (gRPC), in order of preference
     * @param joinToken    the join token's secret
     * @param labels       the token's labels (shown to the user; the hub applies them at join)
     * @param agentUrl     where the agent artifact is downloaded from (http or https)
     * @param agentSha256  the artifact's SHA-256, pinned in the script
     * @param caPin        the pin the agent verifies the hub with; null for a hub without TLS
     * @param caPem        the certificate with that pin (PEM), which the script's own downloads
     *                     verify the hub with; null for a hub without TLS
     */
    public record Inputs(List<String> hubAddresses, String joinToken, Map<String, String> labels, URI agentUrl,
            String agentSha256, String caPin, String caPem) {
    }

    /**
     * The script for {@code in}.
     *
     * @throws HubException INVALID when a value is not what it must be
     */
    public static String render(Inputs in) {
        if (in.hubAddresses() == null || in.hubAddresses().isEmpty()) {
            throw HubException.invalid("at least one hub address (HOST:PORT) is needed");
        }
        StringJoiner addresses = new StringJoiner(",");
        for (String a : in.hubAddresses()) {
            addresses.add(address(a));
        }
        if (in.joinToken() == null || !TOKEN.matcher(in.joinToken()).matches()) {
            throw HubException.invalid("not a join token");
        }
        Map<String, String> labels = Labels.validated(in.labels() == null ? Map.of() : in.labels());
        StringJoiner shown = new StringJoiner(",");
        labels.forEach((k, v) -> shown.add(k + "=" + v));
        URI url = in.agentUrl();
        if (url == null || !("http".equals(url.getScheme()) || "https".equals(url.getScheme()))
                || url.getHost() == null || !URL_SAFE.matcher(url.toASCIIString()).matches()) {
            throw HubException.invalid("the agent URL must be an http or https URL");
        }
        if (in.agentSha256() == null || !SHA256.matcher(in.agentSha256()).matches()) {
            throw HubException.invalid("the agent checksum must be 64 lowercase hex digits");
        }
        boolean tls = in.caPin() != null;
        if (tls && (!PIN.matcher(in.caPin()).matches() || in.caPem() == null || !PEM.matcher(in.caPem()).matches())) {
            throw HubException.invalid("the CA pin and certificate must be a sha256: pin and one PEM certificate");
        }
        if (tls != "https".equals(url.getScheme())) {
            throw HubException.invalid("the agent URL must be https exactly when the hub has TLS");
        }
        return TEMPLATE
                .replace("@HUB_CA_PIN@", quote(tls ? in.caPin() : ""))
                .replace("@HUB_CA_PEM@", quote(tls ? in.caPem() : ""))
                .replace("@HUB_ADDRESSES@", quote(addresses.toString()))
                .replace("@JOIN_TOKEN@", quote(in.joinToken()))
                .replace("@NODE_LABELS@", quote(shown.length() == 0 ? "none" : shown.toString()))
                .replace("@AGENT_URL@", quote(url.toASCIIString()))
                .replace("@AGENT_SHA256@", quote(in.agentSha256()));
    }

    /** A validated {@code HOST:PORT}. */
    static String address(String a) {
        int colon = a == null ? -1 : a.lastIndexOf(':');
        if (colon <= 0) {
            throw HubException.invalid("hub address must be HOST:PORT, not '" + a + "'");
        }
        String host = a.substring(0, colon);
        String port = a.substring(colon + 1);
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            p = -1;
        }
        if (!HOST.matcher(host).matches() || p < 1 || p > 65535) {
            throw HubException.invalid("hub address must be HOST:PORT with a DNS name or IP and a port 1-65535, not '"
                    + a + "'");
        }
        return host + ":" + p;
    }

    /** {@code s} as one POSIX shell word that the shell takes literally: single quotes, {@code '} as {@code '\''}. */
    public static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static String load(String resource) {
        try (InputStream in = ProvisioningScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

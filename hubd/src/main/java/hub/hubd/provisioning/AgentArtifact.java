package hub.hubd.provisioning;

import hub.hubd.core.HubException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The agent tarball provisioning installs ({@code bin/hub-agent}, {@code lib/agent/},
 * {@code systemd/hub-agent.service}), with its SHA-256, computed once at start so scripts can pin it.
 */
public final class AgentArtifact {
    private final Path file;
    private final String sha256;

    private AgentArtifact(Path file, String sha256) {
        this.file = file;
        this.sha256 = sha256;
    }

    /** The artifact at {@code file}, or one that says there is none when {@code file} is null. */
    public static AgentArtifact of(Path file) {
        if (file == null) {
            return new AgentArtifact(null, null);
        }
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("agent-artifact " + file + " is not a file");
        }
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                d.update(buf, 0, n);
            }
            return new AgentArtifact(file, HexFormat.of().formatHex(d.digest()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read agent-artifact " + file, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @throws HubException UNAVAILABLE when this hub has no artifact to serve */
    public Path file() {
        if (file == null) {
            throw HubException.unavailable("this hub has no agent artifact to serve; run hubd from the "
                    + "distribution or give --agent-artifact");
        }
        return file;
    }

    /** @throws HubException UNAVAILABLE when this hub has no artifact to serve */
    public String sha256() {
        file();
        return sha256;
    }
}

package hub.agent;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * How an agent describes itself in Hello.
 *
 * @param hostname node hostname
 * @param os       operating system name
 * @param arch     CPU architecture (amd64, arm64, …)
 * @param version  hub-agent version
 * @param name     requested display name, or empty for the hostname
 * @param labels   labels from {@code -l k=v}
 */
public record AgentIdentity(String hostname, String os, String arch, String version, String name,
        Map<String, String> labels) {

    public AgentIdentity {
        labels = Map.copyOf(labels);
        name = name == null ? "" : name;
    }

    /** This machine, with the given name and labels. */
    public static AgentIdentity local(String name, Map<String, String> labels) {
        return new AgentIdentity(localHostname(), System.getProperty("os.name", "unknown"),
                normalizeArch(System.getProperty("os.arch", "unknown")), agentVersion(), name, labels);
    }

    /** hub-agent's version from the jar manifest, {@code dev} when run from classes. */
    public static String agentVersion() {
        String v = AgentIdentity.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    static String normalizeArch(String arch) {
        return switch (arch.toLowerCase(Locale.ROOT)) {
            case "x86_64", "amd64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            default -> arch;
        };
    }

    private static String localHostname() {
        try {
            Path etc = Path.of("/etc/hostname");
            if (Files.isReadable(etc)) {
                String h = Files.readString(etc).strip();
                if (!h.isEmpty()) {
                    return h;
                }
            }
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }
}

package hub.hubd.registry;

import hub.hubd.core.Labels;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * What the hub knows about a node apart from its liveness.
 *
 * @param id           stable node id, issued at join
 * @param name         display name: the agent's {@code --name}, or its hostname
 * @param hostname     as the node reports it
 * @param os           operating system, e.g. {@code Linux}
 * @param arch         CPU architecture, e.g. {@code amd64}
 * @param agentVersion hub-agent version
 * @param labels       validated labels, sorted
 * @param owner        id of the user who owns it: who created its join token, or whom an admin assigned it to
 * @param createdAt    when it first joined
 */
public record NodeInfo(String id, String name, String hostname, String os, String arch,
        String agentVersion, Map<String, String> labels, String owner, Instant createdAt)
        implements hub.hubd.events.EventBus.NodeFacts {

    public NodeInfo {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(os, "os");
        Objects.requireNonNull(arch, "arch");
        Objects.requireNonNull(agentVersion, "agentVersion");
        labels = Labels.validated(labels);
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(createdAt, "createdAt");
    }

    /** The same node under another name. */
    public NodeInfo withName(String newName) {
        return new NodeInfo(id, newName, hostname, os, arch, agentVersion, labels, owner, createdAt);
    }

    /** This node as re-described by a reconnecting agent; id, labels, owner and creation stay. */
    public NodeInfo updatedBy(AgentHello hello) {
        String newName = hello.name().isEmpty() ? name : hello.name();
        return new NodeInfo(id, newName, hello.hostname(), hello.os(), hello.arch(), hello.agentVersion(),
                labels, owner, createdAt);
    }
}

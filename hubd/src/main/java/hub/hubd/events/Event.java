package hub.hubd.events;

import java.util.List;
import java.util.Map;

/**
 * Something that happened in the hub, for live subscribers. Each event names the node it is about
 * (or none) and the user who may see it (a node's or token's owner; admins see everything). The
 * bus gives each one a hub-wide sequence and a time ({@link Envelope}).
 */
public sealed interface Event {
    /** The wire name, e.g. {@code node.online}: what {@code ?types=} filters on. */
    String type();

    /** The node it is about, or {@code null} for hub-wide events. */
    String nodeId();

    /** The user who may see it besides admins, or {@code null} for admins only. */
    String owner();

    /** Wire names of every type, in a stable order. */
    List<String> TYPES = List.of("node.online", "node.offline", "node.updated", "node.removed", "node.heartbeat",
            "task.state", "task.output", "token.created", "token.revoked", "listener.dropped");

    /** A node's agent connected. */
    record NodeOnline(String nodeId, String owner, String name, String remoteAddress) implements Event {
        @Override
        public String type() {
            return "node.online";
        }
    }

    /** A node went offline, and why (stream closed, missed heartbeats, hub restart…). */
    record NodeOffline(String nodeId, String owner, String name, String reason) implements Event {
        @Override
        public String type() {
            return "node.offline";
        }
    }

    /** A node's description changed (on reconnect: hostname, agent version, labels). */
    record NodeUpdated(String nodeId, String owner, String name, String hostname, String agentVersion,
            Map<String, String> labels) implements Event {
        @Override
        public String type() {
            return "node.updated";
        }
    }

    /** A node was removed from the hub; its labels as they were, for subscribers that select by them. */
    record NodeRemoved(String nodeId, String owner, String name, Map<String, String> labels) implements Event {
        @Override
        public String type() {
            return "node.removed";
        }
    }

    /** A heartbeat: published only while someone subscribed to {@code node.heartbeat}, never kept for replay. */
    record NodeHeartbeat(String nodeId, String owner) implements Event {
        @Override
        public String type() {
            return "node.heartbeat";
        }
    }

    /** A task changed state. */
    record TaskStateChanged(String nodeId, String owner, String taskId, String state, Integer exitCode,
            String error) implements Event {
        @Override
        public String type() {
            return "task.state";
        }
    }

    /** Lines of a task's output, stored and ANSI-stripped. */
    record TaskOutput(String nodeId, String owner, String taskId, String stream, List<String> lines)
            implements Event {
        @Override
        public String type() {
            return "task.output";
        }
    }

    /** A join token was created (the token itself is never in an event). */
    record TokenCreated(String tokenId, String owner, int uses, Map<String, String> labels) implements Event {
        @Override
        public String type() {
            return "token.created";
        }

        @Override
        public String nodeId() {
            return null;
        }
    }

    /** A join token was revoked. */
    record TokenRevoked(String tokenId, String owner) implements Event {
        @Override
        public String type() {
            return "token.revoked";
        }

        @Override
        public String nodeId() {
            return null;
        }
    }

    /** The hub closed a listener: lagged, killed, credentials revoked, silent. */
    record ListenerDropped(String listenerId, String owner, String reason, long resumeAfter) implements Event {
        @Override
        public String type() {
            return "listener.dropped";
        }

        @Override
        public String nodeId() {
            return null;
        }
    }
}

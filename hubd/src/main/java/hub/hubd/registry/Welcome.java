package hub.hubd.registry;

import java.time.Duration;

/**
 * The hub's answer to a successful hello.
 *
 * @param nodeId            the node's id
 * @param credential        the new node credential on first join; {@code null} on reconnect
 * @param nodeName          display name
 * @param heartbeatInterval how often the agent must send heartbeats
 */
public record Welcome(String nodeId, String credential, String nodeName, Duration heartbeatInterval) {
}

package hub.hubd.registry;

import java.time.Duration;

/**
 * The hub's answer to a successful hello.
 *
 * @param nodeId            the node's id
 * @param credential        the new node credential on first join; {@code null} on reconnect
 * @param nodeName          display name
 * @param heartbeatInterval how often the agent must send heartbeats
 * @param certificate       the node's new client certificate (DER), or {@code null}
 * @param joined            whether the node joined now (else it reconnected)
 */
public record Welcome(String nodeId, String credential, String nodeName, Duration heartbeatInterval,
        byte[] certificate, boolean joined) {

    /** This answer with a certificate the hub signed for the node. */
    public Welcome withCertificate(byte[] der) {
        return new Welcome(nodeId, credential, nodeName, heartbeatInterval, der, joined);
    }
}

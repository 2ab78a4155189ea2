package hub.hubd.cluster;

import hub.hubd.core.HubException;
import hub.hubd.registry.NodeSession;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node whose stream another hub of the cluster holds, as this hub's task service sees it: a
 * task stored here (in the shared database) is sent by asking that hub to send it, and a cancel
 * likewise. Output and results reach the shared stores through that hub; their end comes back on
 * the cluster's bus. Terminal sessions, stdin and file transfers are forwarded at the API instead
 * (their live state stays on the hub that holds the stream).
 */
final class RemoteSession implements NodeSession {
    private static final Logger log = LoggerFactory.getLogger(RemoteSession.class);

    private final Presence.HubInfo hub;
    private final RelayClient relay;

    RemoteSession(Presence.HubInfo hub, RelayClient relay) {
        this.hub = hub;
        this.relay = relay;
    }

    String hubId() {
        return hub.id();
    }

    @Override
    public boolean runCommand(String taskId, String shellCommand, List<String> argv, long timeoutMillis, String runAs,
            boolean stdin) {
        try {
            int status = relay.post(hub.apiUrl(), "/internal/v1/tasks/" + taskId + "/send",
                    "{\"stdin\":" + stdin + "}").statusCode();
            if (status == 204) {
                return true;
            }
            log.info("hub {} did not send task {} (status {}): its node moved or went offline", hub.id(), taskId,
                    status);
            return false;
        } catch (HubException e) {
            log.warn("task {}: {}", taskId, e.getMessage());
            return false;
        }
    }

    @Override
    public void cancelTask(String taskId, String reason) {
        try {
            relay.post(hub.apiUrl(), "/internal/v1/tasks/" + taskId + "/cancel", "{}");
        } catch (HubException e) {
            // Stored with the task: the hub that holds the node next sends it on its reconnect.
            log.warn("task {}: the cancel waits for the node's next reconnect: {}", taskId, e.getMessage());
        }
    }

    @Override
    public void drain(String reason) {
    }

    @Override
    public void close(String reason) {
    }

    @Override
    public void violated(Violation violation, String reason) {
    }

    @Override
    public String remoteAddress() {
        return "via hub " + hub.id();
    }

    @Override
    public void ackOutput(String taskId, long sequence) {
    }

    @Override
    public void ackResult(String taskId) {
    }
}

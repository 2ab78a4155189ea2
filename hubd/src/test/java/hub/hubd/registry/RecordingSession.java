package hub.hubd.registry;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A {@link NodeSession} fake that records what the registry asked of it. */
final class RecordingSession implements NodeSession {
    final List<String> events = new CopyOnWriteArrayList<>();

    @Override
    public void drain(String reason) {
        events.add("drain:" + reason);
    }

    @Override
    public void close(String reason) {
        events.add("close:" + reason);
    }

    @Override
    public void violated(Violation violation, String reason) {
        close(violation + ": " + reason);
    }

    @Override
    public String remoteAddress() {
        return "test";
    }

    @Override
    public boolean runCommand(String taskId, String shellCommand, List<String> argv, long timeoutMillis,
            String runAs, boolean stdin) {
        events.add("run:" + taskId);
        return true;
    }

    @Override
    public void cancelTask(String taskId, String reason) {
        events.add("cancel:" + taskId);
    }

    @Override
    public void ackOutput(String taskId, long sequence) {
        events.add("ack:" + taskId + ":" + sequence);
    }

    @Override
    public void ackResult(String taskId) {
        events.add("ackResult:" + taskId);
    }
}

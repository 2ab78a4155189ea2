package hub.hubd.files;

import com.google.protobuf.ByteString;
import hub.hubd.core.HubException;
import hub.hubd.core.Ids;
import hub.hubd.registry.NodeRegistry;
import hub.hubd.registry.NodeSession;
import hub.hubd.registry.NodeSession.Violation;
import hub.proto.agent.v1.FileAck;
import hub.proto.agent.v1.FileClose;
import hub.proto.agent.v1.FileData;
import hub.proto.agent.v1.FileOp;
import hub.proto.agent.v1.FileOpen;
import hub.proto.agent.v1.FileState;
import hub.proto.agent.v1.FileStatus;
import hub.proto.agent.v1.HubMessage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves files between API clients and agents over the agents' streams ({@code hubctl cp}), without
 * storing them: the hub holds at most one window ({@value #WINDOW} bytes) per transfer, whichever
 * way the bytes go, and at most {@value #MAX_OPEN} transfers at once ({@value #MAX_PER_NODE} per
 * node), so a 1 GiB file needs no more heap than a small one. An API thread drives each transfer
 * and blocks on it (the window, the node's answer); the agent's messages arrive on the stream's
 * callback and only update the transfer and wake that thread.
 *
 * <p>Every agent message is checked against the transfer it names: the node it was opened for,
 * the direction, the next offset, the window and the size. A message about another node's
 * transfer, or one that breaks the flow control, ends that agent's stream as a protocol
 * violation; one about a transfer that has ended here (a late reply) is dropped and counted.
 */
public final class FileRelay {
    private static final Logger log = LoggerFactory.getLogger(FileRelay.class);
    /** Bytes a sender may have unacknowledged, each way. */
    public static final int WINDOW = 8 * 1024 * 1024;
    /** The size of the chunks the hub sends; an agent may send up to 1 MiB. */
    public static final int CHUNK = 1024 * 1024;
    static final int MAX_CHUNK = 1024 * 1024;
    public static final int MAX_OPEN = 32;
    public static final int MAX_PER_NODE = 8;
    /** A transfer whose node says nothing for this long fails (504). */
    static final Duration SILENCE = Duration.ofSeconds(60);
    /** How long the outcome of a finished transfer can be read ({@link #finished}). */
    static final Duration KEEP_FINISHED = Duration.ofMinutes(15);
    static final int MAX_FINISHED = 4096;

    private final NodeRegistry registry;
    private final Map<String, Transfer> open = new ConcurrentHashMap<>();
    private final AtomicInteger openCount = new AtomicInteger();
    private final Map<String, Finished> finished = new LinkedHashMap<>();
    private final Counter bytesIn;
    private final Counter bytesOut;
    private final Counter late;
    private final long silenceNanos;

    public FileRelay(NodeRegistry registry, MeterRegistry metrics) {
        this(registry, metrics, SILENCE);
    }

    /** The same with how long a silent node is waited for (tests). */
    public FileRelay(NodeRegistry registry, MeterRegistry metrics, Duration silence) {
        this.registry = registry;
        this.silenceNanos = silence.toNanos();
        this.bytesIn = Counter.builder("hub_file_bytes_total").tag("direction", "from_node")
                .description("File bytes relayed from nodes to API clients").register(metrics);
        this.bytesOut = Counter.builder("hub_file_bytes_total").tag("direction", "to_node")
                .description("File bytes relayed from API clients to nodes").register(metrics);
        this.late = Counter.builder("hub_file_messages_dropped_total")
                .description("Agent file messages about transfers that had already ended here").register(metrics);
        io.micrometer.core.instrument.Gauge.builder("hub_file_transfers_open", openCount, AtomicInteger::get)
                .description("File transfers in progress").register(metrics);
    }

    /** How a finished transfer ended, for {@code GET /api/v1/transfers/{id}}. */
    public record Finished(String id, String userId, String nodeId, String op, String path, String state, long size,
            String sha256, String problem, String message, long finishedAtNanos) {
    }

    /**
     * Opens a transfer on a node and waits for the node's first answer.
     *
     * @param spec what to open; its transfer id and window are set here
     * @throws HubException UNAVAILABLE when the hub or the node has too many transfers open, or the
     *                      node is not connected
     * @throws FileFailure  what the node refused, or its silence
     */
    public Transfer open(String nodeId, String userId, FileOpen.Builder spec) {
        NodeSession session = registry.session(nodeId).orElseThrow(() -> HubException.conflict(
                "the node is offline (not connected)"));
        long onNode = open.values().stream().filter(t -> t.nodeId.equals(nodeId)).count();
        if (onNode >= MAX_PER_NODE) {
            throw HubException.unavailable("the node has " + MAX_PER_NODE + " file transfers open; retry later");
        }
        if (openCount.incrementAndGet() > MAX_OPEN) {
            openCount.decrementAndGet();
            throw HubException.unavailable("the hub has " + MAX_OPEN + " file transfers open; retry later");
        }
        String id = Ids.newId();
        spec.setTransferId(id).setWindow(WINDOW);
        Transfer t = new Transfer(id, nodeId, userId, session, spec.build());
        open.put(id, t);
        if (!session.sendFileMessage(HubMessage.newBuilder().setFileOpen(t.spec).build())) {
            t.end(FileFailure.lost("the node's connection closed"), false);
            throw t.failure;
        }
        try {
            t.awaitOpened();
        } catch (RuntimeException e) {
            t.close("the hub gave up waiting");
            throw e;
        }
        return t;
    }

    /** The outcome of a finished transfer the user opened, while it is kept. */
    public Optional<Finished> finished(String id, String userId) {
        Finished f;
        synchronized (finished) {
            prune();
            f = finished.get(id);
        }
        Outcomes o = shared;
        if (f == null && o != null) { // relayed by another hub of the cluster, maybe ending right now
            long until = System.nanoTime() + SHARED_WAIT.toNanos();
            while ((f = o.get(id).orElse(null)) == null && System.nanoTime() < until) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        return f != null && f.userId().equals(userId) ? Optional.of(f) : Optional.empty();
    }

    /** How long a hub of a cluster waits for another hub's transfer to end before answering 404. */
    static final Duration SHARED_WAIT = Duration.ofSeconds(1);

    /**
     * A cluster: where every hub keeps its transfers' outcomes for {@link #KEEP_FINISHED}, so the
     * client reads one on whichever hub it asks (the transfer itself went through the node's hub).
     */
    public interface Outcomes {
        void put(Finished f, Duration keep);

        Optional<Finished> get(String id);
    }

    private volatile Outcomes shared;

    /** Shares the outcomes with the other hubs of a cluster. */
    public void share(Outcomes o) {
        this.shared = o;
    }

    /** Transfers in progress. */
    public int openCount() {
        return openCount.get();
    }

    private void prune() {
        long now = System.nanoTime();
        var it = finished.values().iterator();
        while (it.hasNext()) {
            Finished f = it.next();
            if (finished.size() > MAX_FINISHED || now - f.finishedAtNanos() > KEEP_FINISHED.toNanos()) {
                it.remove();
            } else {
                break;
            }
        }
    }

    /** One file moving. The API thread that opened it drives it; agent callbacks feed it. */
    public final class Transfer implements AutoCloseable {
        final String id;
        final String nodeId;
        final String userId;
        final NodeSession session;
        final FileOpen spec;
        private FileStatus opened;
        private FileStatus done;
        private FileFailure failure;
        private boolean ended;
        private long lastHeard = System.nanoTime();
        // write (to the node)
        private long sent;
        private long acked;
        // read (from the node)
        private final ArrayDeque<FileData> queue = new ArrayDeque<>();
        private long received;
        private long passedOn;
        private boolean lastReceived;

        Transfer(String id, String nodeId, String userId, NodeSession session, FileOpen spec) {
            this.id = id;
            this.nodeId = nodeId;
            this.userId = userId;
            this.session = session;
            this.spec = spec;
            this.sent = spec.getOffset();
            this.acked = spec.getOffset();
            this.received = spec.getOffset();
            this.passedOn = spec.getOffset();
        }

        public String id() {
            return id;
        }

        /** The node's answer to the open: the file's facts for a read, the offset for a write. */
        public synchronized FileStatus opened() {
            return opened;
        }

        private boolean reads() {
            return spec.getOp() == FileOp.FILE_OP_READ || spec.getOp() == FileOp.FILE_OP_LIST;
        }

        private synchronized void awaitOpened() {
            while (opened == null && done == null) {
                waitForNode();
            }
        }

        /** Waits for news from the node; throws what ended the transfer, or a timeout. */
        private void waitForNode() {
            if (failure != null) {
                throw failure;
            }
            long silent = System.nanoTime() - lastHeard;
            if (silent >= silenceNanos) {
                end(FileFailure.timeout("the node has not answered about this transfer for "
                        + TimeUnit.NANOSECONDS.toSeconds(silenceNanos) + " s"), true);
                throw failure;
            }
            try {
                TimeUnit.NANOSECONDS.timedWait(this, silenceNanos - silent);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                end(FileFailure.lost("the hub is stopping"), true);
                throw failure;
            }
        }

        /**
         * Sends the next bytes of a write, once the window has room for them.
         *
         * @param last whether they end the file
         * @throws FileFailure when the node failed the write, went away or stopped answering
         */
        public void write(byte[] buf, int len, boolean last) {
            synchronized (this) {
                while (done == null && sent + len - acked > WINDOW) {
                    waitForNode();
                }
                if (failure != null) {
                    throw failure;
                }
                if (done != null) {
                    throw new FileFailure("invalid", 400, "the node finished the file before its end");
                }
                long at = sent;
                sent += len;
                if (!session.sendFileMessage(HubMessage.newBuilder().setFileData(FileData.newBuilder()
                        .setTransferId(id).setOffset(at).setData(ByteString.copyFrom(buf, 0, len)).setLast(last))
                        .build())) {
                    end(FileFailure.lost("the node's connection closed"), false);
                    throw failure;
                }
            }
            bytesOut.increment(len);
        }

        /**
         * The next chunk of a read, once it is here; null after the last one.
         *
         * @throws FileFailure when the node failed the read, went away or stopped answering
         */
        public FileData next() {
            synchronized (this) {
                while (queue.isEmpty() && !(lastReceived || done != null)) {
                    waitForNode();
                }
                FileData d = queue.poll();
                if (d == null && failure != null) {
                    throw failure;
                }
                return d;
            }
        }

        /** The client has the bytes of a read up to {@code offset}: the node may send more. */
        public void passedOn(long offset) {
            synchronized (this) {
                passedOn = offset;
            }
            session.sendFileMessage(HubMessage.newBuilder().setFileAck(FileAck.newBuilder().setTransferId(id)
                    .setOffset(offset)).build());
        }

        /** Waits for the node's final word: DONE with the file's hash, or the failure. */
        public FileStatus awaitDone() {
            synchronized (this) {
                while (done == null) {
                    waitForNode();
                }
                return done;
            }
        }

        /** Ends the transfer here, telling the node when it has not ended there (the client went away). */
        public void close(String reason) {
            boolean tell;
            synchronized (this) {
                tell = !ended;
                if (tell) {
                    end(FileFailure.lost("closed: " + reason), true);
                }
            }
            if (tell) {
                session.sendFileMessage(HubMessage.newBuilder().setFileClose(FileClose.newBuilder()
                        .setTransferId(id).setReason(reason)).build());
            }
        }

        @Override
        public void close() {
            close("the hub's side of the transfer ended");
        }

        /** Ends it: wakes the API thread, frees the slot, records the outcome. */
        private synchronized void end(FileFailure why, boolean keep) {
            if (ended) {
                return;
            }
            ended = true;
            if (why != null) {
                failure = why;
            }
            notifyAll();
            if (open.remove(id, this)) {
                openCount.decrementAndGet();
            }
            if (keep || why == null) {
                Finished f = new Finished(id, userId, nodeId, op(spec.getOp()),
                        done != null && !done.getPath().isEmpty() ? done.getPath() : spec.getPath(),
                        why == null ? "done" : "failed", done == null ? 0 : done.getSize(),
                        done == null || done.getSha256().isEmpty() ? null : done.getSha256(),
                        why == null ? null : why.slug(), why == null ? null : why.getMessage(), System.nanoTime());
                synchronized (finished) {
                    finished.put(id, f);
                    prune();
                }
                Outcomes o = shared;
                if (o != null) {
                    try {
                        o.put(f, KEEP_FINISHED);
                    } catch (RuntimeException e) { // readable on this hub still
                        org.slf4j.LoggerFactory.getLogger(FileRelay.class).warn(
                                "transfer {}: its outcome is not shared with the other hubs: {}", id, e.toString());
                    }
                }
            }
        }

        // --- from the agent (the stream's callback) ---------------------------------------------

        private synchronized void status(FileStatus s) {
            lastHeard = System.nanoTime();
            switch (s.getState()) {
                case FILE_STATE_OPENED -> {
                    if (spec.getOp() == FileOp.FILE_OP_READ && (s.getSize() < spec.getOffset()
                            || s.getOffset() != spec.getOffset())) {
                        end(new FileFailure("node-io-error", 502, "the node opened the file at " + s.getOffset()
                                + " of " + s.getSize() + " bytes, not at the offset asked for"), true);
                    } else if (opened == null) {
                        opened = s;
                        if (spec.getOp() == FileOp.FILE_OP_PROBE) {
                            done = s;
                            end(null, false);
                        }
                    }
                }
                case FILE_STATE_DONE -> {
                    done = s;
                    end(null, true);
                }
                default -> end(FileFailure.of(s.getError(), cap(s.getMessage())), true);
            }
            notifyAll();
        }

        /** A chunk of a read; null when it is fine, else what is wrong with it. */
        private synchronized String data(FileData d) {
            if (!reads()) {
                return "file_data for a transfer the hub is writing";
            }
            if (d.getOffset() != received || lastReceived) {
                return "file_data at offset " + d.getOffset() + ", expected " + received;
            }
            long end = received + d.getData().size();
            if (end - passedOn > WINDOW) {
                return "file_data beyond the window of " + WINDOW + " bytes";
            }
            if (spec.getOp() == FileOp.FILE_OP_READ && opened != null && end > opened.getSize()) {
                return "file_data beyond the size the node announced";
            }
            lastHeard = System.nanoTime();
            received = end;
            lastReceived = d.getLast();
            queue.add(d);
            notifyAll();
            return null;
        }

        private synchronized String ack(FileAck a) {
            if (reads()) {
                return "file_ack for a transfer the hub is reading";
            }
            if (a.getOffset() > sent || a.getOffset() < acked) {
                return "file_ack at " + a.getOffset() + " (sent " + sent + ", acknowledged " + acked + ")";
            }
            lastHeard = System.nanoTime();
            acked = a.getOffset();
            notifyAll();
            return null;
        }
    }

    private static String op(FileOp op) {
        return switch (op) {
            case FILE_OP_WRITE -> "write";
            case FILE_OP_READ -> "read";
            case FILE_OP_LIST -> "list";
            case FILE_OP_MKDIR -> "mkdir";
            case FILE_OP_PROBE -> "probe";
            default -> "unknown";
        };
    }

    private static String cap(String s) {
        return s.length() > 1000 ? s.substring(0, 1000) + "…" : s;
    }

    /** The transfer an agent message names, or null (ended here: dropped; another node's: a violation). */
    private Transfer of(String nodeId, NodeSession from, String transferId) {
        if (transferId.isEmpty() || transferId.length() > 64) {
            from.violated(Violation.INVALID, "file message: transfer_id must be 1 to 64 characters");
            return null;
        }
        Transfer t = open.get(transferId);
        if (t == null) {
            late.increment();
            return null;
        }
        if (!t.nodeId.equals(nodeId)) {
            from.violated(Violation.NOT_YOURS, "file message about transfer " + transferId
                    + ", which is not this node's");
            return null;
        }
        if (t.session != from) {
            late.increment(); // an older stream of the same node
            return null;
        }
        return t;
    }

    /** A FileStatus from a node. */
    public void status(String nodeId, NodeSession from, FileStatus s) {
        Transfer t = of(nodeId, from, s.getTransferId());
        if (t != null) {
            t.status(s);
        }
    }

    /** A FileData from a node. */
    public void data(String nodeId, NodeSession from, FileData d) {
        if (d.getData().size() > MAX_CHUNK) {
            from.violated(Violation.INVALID, "a file_data chunk of " + d.getData().size() + " bytes (at most "
                    + MAX_CHUNK + ")");
            return;
        }
        Transfer t = of(nodeId, from, d.getTransferId());
        if (t == null) {
            return;
        }
        String wrong = t.data(d);
        if (wrong != null) {
            from.violated(wrong.contains("window") ? Violation.OVER_LIMIT : Violation.INVALID, wrong);
            return;
        }
        bytesIn.increment(d.getData().size());
    }

    /** A FileAck from a node. */
    public void ack(String nodeId, NodeSession from, FileAck a) {
        Transfer t = of(nodeId, from, a.getTransferId());
        if (t == null) {
            return;
        }
        String wrong = t.ack(a);
        if (wrong != null) {
            from.violated(Violation.INVALID, wrong);
        }
    }

    /** A node's stream ended: its transfers fail (a write keeps its partial file on the node for a resume). */
    public void streamEnded(NodeSession from) {
        for (Transfer t : open.values()) {
            if (t.session == from) {
                t.end(FileFailure.lost("the node disconnected during the transfer; retry to resume"), true);
            }
        }
    }

    /** The hub is stopping: every transfer fails, and its clients are answered. */
    public void close() {
        for (Transfer t : open.values()) {
            t.close("the hub is stopping");
        }
        log.debug("file relay closed");
    }
}

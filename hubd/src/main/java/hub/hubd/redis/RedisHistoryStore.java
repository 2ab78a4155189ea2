package hub.hubd.redis;

import hub.hubd.core.StoreException;
import hub.hubd.history.HistoryLine;
import hub.hubd.history.HistoryPage;
import hub.hubd.history.HistoryStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.redisson.api.RMap;
import org.redisson.api.RScript;
import org.redisson.api.RStream;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamMessageId;
import org.redisson.client.RedisException;
import org.redisson.client.codec.StringCodec;

/**
 * {@link HistoryStore} in Redis, for several hubs: one stream per node whose entry ids are the line
 * offsets ({@code <offset>-0}), a hash of counters per node, a hash of progress per task. Appends run
 * as one Lua script, so the sequence check, the lines and the trim (by lines and by bytes, with
 * {@code XTRIM MINID}) are atomic. Keys share the node's hash tag, so a node's keys live in one
 * cluster slot.
 */
public final class RedisHistoryStore implements HistoryStore {
    private static final String APPEND = load("/redis/history-append.lua");

    private final RedissonClient redis;
    private final String prefix;
    private final long maxLines;
    private final long maxBytes;

    /**
     * @param prefix prepended to every key, e.g. {@code hub:}
     */
    public RedisHistoryStore(RedissonClient redis, String prefix, long maxLines, long maxBytes) {
        if (maxLines < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("history caps must be positive");
        }
        this.redis = redis;
        this.prefix = prefix;
        this.maxLines = maxLines;
        this.maxBytes = maxBytes;
    }

    private String key(String nodeId, String what) {
        return prefix + "hist:{" + nodeId + "}:" + what;
    }

    private String taskKey(String nodeId, String taskId) {
        return key(nodeId, "task:" + taskId);
    }

    @Override
    public Outcome append(String nodeId, String taskId, long sequence, List<NewLine> lines, String pendingStdout,
            String pendingStderr) {
        List<Object> args = new ArrayList<>(7 + 4 * lines.size());
        args.add(Long.toString(sequence));
        args.add(Long.toString(maxLines));
        args.add(Long.toString(maxBytes));
        args.add(pendingStdout == null ? "" : pendingStdout);
        args.add(pendingStderr == null ? "" : pendingStderr);
        args.add(taskId);
        args.add(Integer.toString(lines.size()));
        for (NewLine l : lines) {
            args.add(l.taskId() == null ? "" : l.taskId());
            args.add(l.stream());
            args.add(l.text());
            args.add(Long.toString(l.atMillis()));
        }
        try {
            String r = redis.getScript(StringCodec.INSTANCE).eval(key(nodeId, "lines"), RScript.Mode.READ_WRITE,
                    APPEND, RScript.ReturnType.STRING, List.of(key(nodeId, "lines"), key(nodeId, "meta"),
                            taskKey(nodeId, taskId), key(nodeId, "tasks")), args.toArray());
            return Outcome.valueOf(r);
        } catch (RedisException e) {
            throw new StoreException("redis error: " + e.getMessage(), e);
        }
    }

    @Override
    public TaskProgress progress(String nodeId, String taskId) {
        Map<String, String> h = map(taskKey(nodeId, taskId)).readAllMap();
        if (h.isEmpty()) {
            return new TaskProgress(0, null, null);
        }
        return new TaskProgress(Long.parseLong(h.getOrDefault("seq", "0")), emptyToNull(h.get("out")),
                emptyToNull(h.get("err")));
    }

    @Override
    public HistoryPage tail(String nodeId, int n) {
        if (n < 0) {
            throw new IllegalArgumentException("tail must not be negative");
        }
        List<HistoryLine> lines = new ArrayList<>();
        if (n > 0) {
            stream(nodeId).rangeReversed(n, StreamMessageId.MAX, StreamMessageId.MIN)
                    .forEach((id, f) -> lines.add(line(nodeId, id, f)));
            Collections.reverse(lines);
        }
        long next = lines.isEmpty() ? meta(nodeId, "next", 1) - 1 : lines.get(lines.size() - 1).offset();
        return new HistoryPage(lines, next, null);
    }

    @Override
    public HistoryPage after(String nodeId, long after, int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be positive");
        }
        long first = meta(nodeId, "first", 1);
        HistoryPage.Gap gap = after + 1 < first ? new HistoryPage.Gap(after + 1, first - 1) : null;
        List<HistoryLine> lines = new ArrayList<>();
        stream(nodeId).range(limit, new StreamMessageId(after + 1, 0), StreamMessageId.MAX)
                .forEach((id, f) -> lines.add(line(nodeId, id, f)));
        long next = lines.isEmpty() ? (gap == null ? after : gap.to()) : lines.get(lines.size() - 1).offset();
        return new HistoryPage(lines, next, gap);
    }

    @Override
    public void delete(String nodeId) {
        List<String> keys = new ArrayList<>(List.of(key(nodeId, "lines"), key(nodeId, "meta"), key(nodeId, "tasks")));
        for (String task : redis.<String>getSet(key(nodeId, "tasks"), StringCodec.INSTANCE).readAll()) {
            keys.add(taskKey(nodeId, task));
        }
        redis.getKeys().delete(keys.toArray(String[]::new));
    }

    private RStream<String, String> stream(String nodeId) {
        return redis.getStream(key(nodeId, "lines"), StringCodec.INSTANCE);
    }

    private RMap<String, String> map(String key) {
        return redis.getMap(key, StringCodec.INSTANCE);
    }

    private long meta(String nodeId, String field, long missing) {
        String v = map(key(nodeId, "meta")).get(field);
        return v == null ? missing : Long.parseLong(v);
    }

    private static HistoryLine line(String nodeId, StreamMessageId id, Map<String, String> f) {
        return new HistoryLine(id.getId0(), nodeId, emptyToNull(f.get("t")), f.get("s"), f.get("x"),
                Instant.ofEpochMilli(Long.parseLong(f.get("a"))));
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static String load(String resource) {
        try (InputStream in = RedisHistoryStore.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

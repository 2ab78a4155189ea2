package hub.hubd.redis;

import hub.hubd.core.StoreException;
import hub.hubd.history.HistoryBlocks;
import hub.hubd.history.HistoryLine;
import hub.hubd.history.HistoryPage;
import hub.hubd.history.HistoryStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.redisson.api.BatchOptions;
import org.redisson.api.RBatch;
import org.redisson.api.RFuture;
import org.redisson.api.RMap;
import org.redisson.api.RScript;
import org.redisson.api.RStream;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamMessageId;
import org.redisson.client.RedisException;
import org.redisson.client.codec.StringCodec;

/**
 * {@link HistoryStore} in Redis, for several hubs: one stream per node whose entries are blocks of
 * lines, with ids the offset of the block's first line ({@code <offset>-0}), a second stream of the
 * blocks' line sizes under the same ids (what the trim reads instead of the text), a hash of counters
 * per node, a hash of progress per task. Appends run
 * as one Lua script, so the sequence check, the lines and the trim (by lines and by bytes, with
 * {@code XTRIM MINID}) are atomic. Keys share the node's hash tag, so a node's keys live in one
 * cluster slot.
 */
public final class RedisHistoryStore implements HistoryStore {
    private static final String APPEND = RedisScripts.load("/redis/history-append.lua");

    private final RedissonClient redis;
    private final String prefix;
    private final long maxLines;
    private final long maxBytes;
    private final boolean lineSizes;

    /**
     * @param prefix prepended to every key, e.g. {@code hub:}
     */
    public RedisHistoryStore(RedissonClient redis, String prefix, long maxLines, long maxBytes) {
        this(redis, prefix, maxLines, maxBytes, true);
    }

    /**
     * @param lineSizes whether blocks' line sizes are written (the sizes stream); without them (as
     *                  before they existed) the trim reads a cut block's text and walks its lines
     */
    RedisHistoryStore(RedissonClient redis, String prefix, long maxLines, long maxBytes, boolean lineSizes) {
        if (maxLines < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("history caps must be positive");
        }
        this.redis = redis;
        this.prefix = prefix;
        this.maxLines = maxLines;
        this.maxBytes = maxBytes;
        this.lineSizes = lineSizes;
    }

    private String key(String nodeId, String what) {
        return prefix + "hist:{" + nodeId + "}:" + what;
    }

    private String taskKey(String nodeId, String taskId) {
        return key(nodeId, "task:" + taskId);
    }

    @Override
    public Outcome appendBlocks(String nodeId, String taskId, long sequence, List<NewBlock> blocks,
            String pendingStdout, String pendingStderr) {
        return appendAll(List.of(new Append(nodeId, taskId, sequence, blocks, pendingStdout, pendingStderr))).get(0);
    }

    /**
     * One script call per chunk, all sent in one pipeline (one round trip). Each call is atomic and
     * they run in order, so the outcomes are those of calling them one by one.
     */
    @Override
    public List<Outcome> appendAll(List<Append> appends) {
        try {
            RBatch batch = redis.createBatch(BatchOptions.defaults());
            List<RFuture<String>> results = new ArrayList<>(appends.size());
            for (Append a : appends) {
                results.add(batch.getScript(Utf8Codec.INSTANCE).evalAsync(key(a.nodeId(), "lines"),
                        RScript.Mode.READ_WRITE, APPEND, RScript.ReturnType.STRING, keys(a), args(a)));
            }
            batch.execute();
            List<Outcome> out = new ArrayList<>(results.size());
            for (RFuture<String> r : results) {
                out.add(Outcome.valueOf(r.toCompletableFuture().join()));
            }
            return out;
        } catch (RedisException | java.util.concurrent.CompletionException e) {
            throw new StoreException("redis error: " + e.getMessage(), e);
        }
    }

    private List<Object> keys(Append a) {
        return List.of(key(a.nodeId(), "lines"), key(a.nodeId(), "meta"), taskKey(a.nodeId(), a.taskId()),
                key(a.nodeId(), "tasks"), key(a.nodeId(), "sizes"));
    }

    private Object[] args(Append a) {
        List<Object> args = new ArrayList<>(7 + 7 * a.blocks().size());
        args.add(Long.toString(a.sequence()));
        args.add(Long.toString(maxLines));
        args.add(Long.toString(maxBytes));
        args.add(a.pendingStdout() == null ? "" : a.pendingStdout());
        args.add(a.pendingStderr() == null ? "" : a.pendingStderr());
        args.add(a.taskId());
        args.add(Integer.toString(a.blocks().size()));
        for (NewBlock b : a.blocks()) {
            args.add(b.taskId() == null ? "" : b.taskId());
            args.add(b.stream());
            args.add(b.text());
            args.add(Long.toString(b.atMillis()));
            args.add(Integer.toString(b.lineCount()));
            args.add(Long.toString(b.bytes()));
            args.add(lineSizes ? cumulativeSizes(b) : "");
        }
        return args.toArray();
    }

    /**
     * The block's cumulative line sizes, for the trim: after line j (1…count), the UTF-8 bytes of
     * lines 1…j without their separators, each in base 36 padded to the width of the block's total
     * (the width is the text's length divided by the count). The script then cuts a block at any line
     * by reading two of them: walking a block of a few hundred lines in Lua, line by line, was more
     * than half of Redis's CPU under steady output.
     */
    static String cumulativeSizes(NewBlock b) {
        int width = Long.toString(Math.max(1, b.bytes()), 36).length();
        StringBuilder out = new StringBuilder(width * b.lineCount());
        String text = b.text();
        // All ASCII exactly when the UTF-8 bytes (without the separators) equal the chars.
        boolean ascii = b.bytes() == text.length() - (b.lineCount() - 1);
        long[] sizes = ascii ? null : HistoryBlocks.lineBytes(text, b.lineCount());
        long sum = 0;
        int from = 0;
        for (int j = 0; j < b.lineCount(); j++) {
            if (ascii) {
                int end = j == b.lineCount() - 1 ? text.length() : text.indexOf('\n', from);
                sum += end - from;
                from = end + 1;
            } else {
                sum += sizes[j];
            }
            String digits = Long.toString(sum, 36);
            for (int pad = digits.length(); pad < width; pad++) {
                out.append('0');
            }
            out.append(digits);
        }
        return out.toString();
    }

    @Override
    public TaskProgress progress(String nodeId, String taskId) {
        return redisCall(() -> progressNow(nodeId, taskId));
    }

    private TaskProgress progressNow(String nodeId, String taskId) {
        Map<String, String> h = map(taskKey(nodeId, taskId)).readAllMap();
        if (h.isEmpty()) {
            return new TaskProgress(0, null, null);
        }
        return new TaskProgress(Long.parseLong(h.getOrDefault("seq", "0")), emptyToNull(h.get("out")),
                emptyToNull(h.get("err")));
    }

    @Override
    public HistoryPage tail(String nodeId, int n) {
        return redisCall(() -> tailNow(nodeId, n));
    }

    private HistoryPage tailNow(String nodeId, int n) {
        if (n < 0) {
            throw new IllegalArgumentException("tail must not be negative");
        }
        Map<String, String> meta = map(key(nodeId, "meta")).readAllMap();
        long first = Long.parseLong(meta.getOrDefault("first", "1"));
        long last = Long.parseLong(meta.getOrDefault("next", "1")) - 1;
        List<HistoryLine> newestFirst = new ArrayList<>(Math.min(n, 1024));
        StreamMessageId before = StreamMessageId.MAX;
        while (newestFirst.size() < n) {
            Map<StreamMessageId, Map<String, String>> page = stream(nodeId).rangeReversed(PAGE, before,
                    StreamMessageId.MIN);
            for (Map.Entry<StreamMessageId, Map<String, String>> e : page.entrySet()) {
                List<HistoryLine> block = block(nodeId, e.getKey(), e.getValue(), first, Long.MIN_VALUE);
                for (int i = block.size() - 1; i >= 0 && newestFirst.size() < n; i--) {
                    newestFirst.add(block.get(i));
                }
                before = e.getKey();
            }
            if (page.size() < PAGE || before.getId0() <= first) {
                break;
            }
            before = new StreamMessageId(before.getId0() - 1, 0);
        }
        Collections.reverse(newestFirst);
        return new HistoryPage(newestFirst, last, null);
    }

    @Override
    public HistoryPage after(String nodeId, long after, int limit) {
        return redisCall(() -> afterNow(nodeId, after, limit));
    }

    private HistoryPage afterNow(String nodeId, long after, int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be positive");
        }
        long first = meta(nodeId, "first", 1);
        HistoryPage.Gap gap = after + 1 < first ? new HistoryPage.Gap(after + 1, first - 1) : null;
        List<HistoryLine> lines = new ArrayList<>(Math.min(limit, 1024));
        // from the block holding the first line wanted: the last entry at or below it
        long from = Math.max(after + 1, first);
        Map<StreamMessageId, Map<String, String>> holder = stream(nodeId).rangeReversed(1,
                new StreamMessageId(from, 0), StreamMessageId.MIN);
        StreamMessageId cursor = holder.isEmpty() ? new StreamMessageId(from, 0) : holder.keySet().iterator().next();
        while (lines.size() < limit) {
            Map<StreamMessageId, Map<String, String>> page = stream(nodeId).range(PAGE, cursor, StreamMessageId.MAX);
            for (Map.Entry<StreamMessageId, Map<String, String>> e : page.entrySet()) {
                for (HistoryLine l : block(nodeId, e.getKey(), e.getValue(), first, after)) {
                    if (lines.size() == limit) {
                        break;
                    }
                    lines.add(l);
                }
                cursor = new StreamMessageId(e.getKey().getId0() + 1, 0);
            }
            if (page.size() < PAGE) {
                break;
            }
        }
        long next = lines.isEmpty() ? (gap == null ? after : gap.to()) : lines.get(lines.size() - 1).offset();
        return new HistoryPage(lines, next, gap);
    }

    /** Runs a Redis call; a Redis failure (a timeout, a lost connection) is a {@link StoreException}. */
    private static <T> T redisCall(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (RedisException e) {
            throw new StoreException("redis error: " + e.getMessage(), e);
        }
    }

    /** Stream entries read per round trip. */
    private static final int PAGE = 64;

    @Override
    public void delete(String nodeId) {
        redisCall(() -> {
            deleteNow(nodeId);
            return null;
        });
    }

    private void deleteNow(String nodeId) {
        List<String> keys = new ArrayList<>(List.of(key(nodeId, "lines"), key(nodeId, "meta"), key(nodeId, "tasks"),
                key(nodeId, "sizes")));
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

    /** The lines of one stream entry at or after {@code first} and after {@code after}. */
    private static List<HistoryLine> block(String nodeId, StreamMessageId id, Map<String, String> f, long first,
            long after) {
        long blockFirst = id.getId0();
        int n = Integer.parseInt(f.getOrDefault("n", "1"));
        String task = emptyToNull(f.get("t"));
        String streamName = f.get("s");
        Instant at = Instant.ofEpochMilli(Long.parseLong(f.get("a")));
        List<String> texts = HistoryBlocks.lines(f.get("x"), n);
        List<HistoryLine> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long offset = blockFirst + i;
            if (offset >= first && offset > after) {
                out.add(new HistoryLine(offset, nodeId, task, streamName, texts.get(i), at));
            }
        }
        return out;
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}


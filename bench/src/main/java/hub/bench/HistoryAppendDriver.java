package hub.bench;

import hub.text.AnsiStripper;
import hub.hubd.history.HistoryBlocks;
import hub.hubd.history.HistoryStore;
import hub.hubd.redis.RedisConnection;
import hub.hubd.store.Database;
import hub.hubd.store.JdbcHistoryStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The history store alone, without gRPC or agents: strips and appends MB megabytes of 16 KiB log
 * chunks, BATCH chunks per {@link HistoryStore#appendAll}, with the default caps (100,000 lines,
 * 64 MiB) unless given, and prints MiB/s for the strip step and for strip + store.
 *
 * <pre>java -cp bench/target/benchmarks.jar hub.bench.HistoryAppendDriver sqlite|redis MB BATCH [MAX_LINES MAX_BYTES]</pre>
 */
public final class HistoryAppendDriver {
    private HistoryAppendDriver() {
    }

    public static void main(String[] args) throws Exception {
        String kind = args.length > 0 ? args[0] : "sqlite";
        int mb = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        long maxLines = args.length > 3 ? Long.parseLong(args[3]) : 100_000;
        long maxBytes = args.length > 4 ? Long.parseLong(args[4]) : 64L << 20;
        byte[] chunk = chunk();
        long chunks = (long) mb * 1024 * 1024 / chunk.length;

        Path dir = Files.createTempDirectory("hist-bench");
        Database db = null;
        RedisConnection redis = null;
        HistoryStore store;
        if (kind.equals("redis")) {
            redis = new RedisConnection("redis://127.0.0.1:6379");
            store = redis.historyStore(maxLines, maxBytes);
        } else {
            db = Database.open("jdbc:sqlite:" + dir.resolve("hub.db"));
            store = new JdbcHistoryStore(db, maxLines, maxBytes);
        }
        String node = "bench" + System.nanoTime();
        try {
            for (int round = 0; round < 2; round++) { // the first round warms the JIT up
                String task = "task" + round;
                HistoryBlocks.Builder lines = new HistoryBlocks.Builder();
                AnsiStripper stripper = new AnsiStripper(64 * 1024, lines);
                long stripNanos = 0;
                long start = System.nanoTime();
                List<HistoryStore.Append> pending = new ArrayList<>(batch);
                for (long seq = 1; seq <= chunks; seq++) {
                    long t0 = System.nanoTime();
                    stripper.feed(chunk);
                    var block = lines.take(task, "stdout", System.currentTimeMillis());
                    stripNanos += System.nanoTime() - t0;
                    pending.add(new HistoryStore.Append(node, task, seq, block == null ? List.of() : List.of(block),
                            stripper.pendingLine(), null));
                    if (pending.size() == batch || seq == chunks) {
                        store.appendAll(pending);
                        pending.clear();
                    }
                }
                double secs = (System.nanoTime() - start) / 1e9;
                double mib = chunks * (double) chunk.length / (1 << 20);
                System.out.printf("%s round %d: %.0f MiB in %.2f s = %.1f MiB/s (strip alone %.0f MiB/s), batch %d%n",
                        kind, round, mib, secs, mib / secs, mib / (stripNanos / 1e9), batch);
            }
        } finally {
            store.delete(node);
            if (db != null) {
                db.close();
            }
            if (redis != null) {
                redis.close();
            }
        }
    }

    /** 16 KiB of coloured log lines. */
    private static byte[] chunk() {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (sb.length() < 16 * 1024 - 100) {
            sb.append("2026-11-27T12:00:00Z \u001b[32mINFO\u001b[0m worker-7 request id=").append(i++)
                    .append(" path=/api/v1/nodes status=200 in 12ms\n");
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }
}

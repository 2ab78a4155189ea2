package hub.hubd.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import hub.hubd.MutableClock;
import hub.hubd.store.Database;
import hub.hubd.store.JdbcTaskOutputStore;
import hub.hubd.store.JdbcTaskRepository;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Raw output's bookkeeping on a real SQLite file: the per-node bound, release and retention. */
class RawOutputTest {
    @TempDir
    Path dir;
    Database db;
    JdbcTaskRepository tasks;
    JdbcTaskOutputStore store;
    final MutableClock clock = new MutableClock();

    @BeforeEach
    void open() {
        db = Database.open("jdbc:sqlite:" + dir.resolve("hub.db"));
        tasks = new JdbcTaskRepository(db);
        store = new JdbcTaskOutputStore(db);
    }

    @AfterEach
    void close() {
        db.close();
    }

    private Task task(String id, String node) {
        Task t = new Task(id, node, "admin", "true", null, 0, TaskState.SENT, null, null, clock.instant(), null, null,
                null, null, null);
        tasks.insert(t);
        return t;
    }

    private static TaskOutputStore.RawChunk chunk(String task, long seq, String node, String text) {
        return new TaskOutputStore.RawChunk(task, seq, node, false, text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theBoundCountsUnreadBytesPerNodeAndReleaseAndRetentionFreeThem() {
        RawOutput raw = new RawOutput(store, clock, Duration.ofMinutes(10), 100, new SimpleMeterRegistry());
        try {
            task("t1", "n1");
            task("t2", "n2");
            raw.store(List.of(chunk("t1", 1, "n1", "x".repeat(60)), chunk("t2", 1, "n2", "y".repeat(90))));
            raw.store(List.of(chunk("t1", 1, "n1", "x".repeat(60)))); // a resend: counted once
            assertThat(raw.admits("n1", 40)).isTrue();
            assertThat(raw.admits("n1", 41)).isFalse();
            assertThat(raw.admits("n2", 11)).isFalse(); // each node has its own bound
            assertThat(raw.admits("n3", 100)).isTrue();

            // the reader releases what it has: the bytes are free again
            RawOutput.Page p = raw.read(tasks.find("t1").orElseThrow(), 0, 1000, true);
            assertThat(p.chunks()).hasSize(1);
            assertThat(p.complete()).isFalse(); // still running
            raw.read(tasks.find("t1").orElseThrow(), 1, 1000, true);
            assertThat(raw.admits("n1", 100)).isTrue();

            // nobody reads t2: it goes the retention after its task ended, and a late reader is told
            raw.ended("t2", 1);
            tasks.update("t2", TaskState.EXITED, 0, null, null, clock.millis(), 0L);
            raw.expireNow();
            assertThat(raw.admits("n2", 11)).as("not yet: ended just now").isFalse();
            clock.advance(Duration.ofMinutes(11));
            raw.expireNow();
            assertThat(raw.admits("n2", 100)).isTrue();
            RawOutput.Page late = raw.read(tasks.find("t2").orElseThrow(), 0, 1000, false);
            assertThat(late.chunks()).isEmpty();
            assertThat(late.complete()).isTrue();
            assertThat(late.missing()).isEqualTo(new RawOutput.Range(1, 1L));
        } finally {
            raw.close();
        }
    }

    @Test
    void theCountsSurviveARestartAndARemovedNodeFreesItsBytes() {
        task("t1", "n1");
        RawOutput first = new RawOutput(store, clock, Duration.ofHours(1), 100, new SimpleMeterRegistry());
        first.store(List.of(chunk("t1", 1, "n1", "z".repeat(80))));
        first.close();
        RawOutput second = new RawOutput(store, clock, Duration.ofHours(1), 100, new SimpleMeterRegistry());
        try {
            assertThat(second.admits("n1", 21)).isFalse();
            second.nodeRemoved("n1");
            assertThat(second.admits("n1", 100)).isTrue();
            assertThat(store.after("t1", 0, 1000)).isEmpty();
        } finally {
            second.close();
        }
    }

    @Test
    void aTaskPastTheBoundSaysFromWhereItsOutputIsTextOnly() {
        RawOutput raw = new RawOutput(store, clock, Duration.ofHours(1), 100, new SimpleMeterRegistry());
        try {
            task("t1", "n1");
            raw.store(List.of(chunk("t1", 1, "n1", "a")));
            raw.dropped("n1", "t1", 2);
            assertThat(raw.wasDropped("t1")).isTrue();
            RawOutput.Page running = raw.read(tasks.find("t1").orElseThrow(), 1, 1000, false);
            assertThat(running.missing()).isEqualTo(new RawOutput.Range(2, null));
            raw.ended("t1", 5);
            tasks.update("t1", TaskState.EXITED, 0, null, null, Instant.now().toEpochMilli(), 0L);
            RawOutput.Page done = raw.read(tasks.find("t1").orElseThrow(), 1, 1000, false);
            assertThat(done.missing()).isEqualTo(new RawOutput.Range(2, 5L));
            assertThat(done.droppedFrom()).isEqualTo(2L);
            assertThat(done.complete()).isTrue();
        } finally {
            raw.close();
        }
    }
}

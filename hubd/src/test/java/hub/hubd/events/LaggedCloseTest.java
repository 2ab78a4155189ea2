package hub.hubd.events;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.api.EventJson;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A lagged close races the writer: the bus empties the queue while the writer is taking events
 * from it. Whatever the interleaving, the listener must have received exactly the events up to the
 * resume point its close names, none skipped, so resuming there loses nothing. No sockets: a sink
 * that completes each send on another thread, so the writer is busy when the publisher overflows
 * the queue. Before the writer stopped taking events at the close, events before the resume point
 * went missing within a few dozen rounds.
 */
class LaggedCloseTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern AFTER = Pattern.compile("after=(\\d+)");
    private final ExecutorService io = Executors.newSingleThreadExecutor();

    @AfterEach
    void stop() {
        io.shutdownNow();
    }

    /** Frames in arrival order, and the close reason. */
    private final class MemorySink implements Sink {
        final List<String> frames = new ArrayList<>();
        final CompletableFuture<String> closed = new CompletableFuture<>();

        @Override
        public void send(String frame, Runnable done, Consumer<Throwable> failed) {
            synchronized (frames) {
                frames.add(frame);
            }
            io.execute(done);
        }

        @Override
        public void close(int code, String reason) {
            closed.complete(code + " " + reason);
        }

        @Override
        public String remoteAddress() {
            return "memory";
        }

        List<Long> seqs() throws Exception {
            List<Long> out = new ArrayList<>();
            synchronized (frames) {
                for (String f : frames) {
                    for (String line : f.split("\n")) {
                        JsonNode j = JSON.readTree(line);
                        if (j.has("seq")) {
                            out.add(j.get("seq").asLong());
                        }
                    }
                }
            }
            return out;
        }
    }

    @Test
    void whatALaggedListenerGotEndsExactlyAtTheResumePointItIsGiven() throws Exception {
        for (int round = 0; round < 300; round++) {
            try (EventBus bus = new EventBus(new EventBus.Options(200_000, Duration.ofMinutes(5), 2048),
                    Clock.systemUTC(), new EventJson(), node -> null, new SimpleMeterRegistry())) {
                MemorySink sink = new MemorySink();
                long first = bus.lastSeq();
                bus.subscribe("admin", "tok", true, null, null, null, null, null, 0, sink);
                for (int i = 0; i < 100_000 && !sink.closed.isDone(); i++) {
                    bus.publish(new Event.TokenRevoked("t" + i, "admin"));
                }
                String close = sink.closed.get(10, TimeUnit.SECONDS);
                assertThat(close).startsWith(CloseCodes.LAGGED + " ");
                Matcher m = AFTER.matcher(close);
                assertThat(m.find()).as(close).isTrue();
                long resumeAt = Long.parseLong(m.group(1));
                List<Long> got = sink.seqs();
                List<Long> expected = new ArrayList<>();
                for (long s = first + 1; s <= resumeAt; s++) {
                    expected.add(s);
                }
                assertThat(got).as("round %d, close '%s'", round, close).isEqualTo(expected);
            }
        }
    }
}

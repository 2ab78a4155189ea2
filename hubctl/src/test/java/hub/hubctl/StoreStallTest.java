package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.hubd.StallingProxy;
import hub.hubd.config.HubConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hub's Redis (its history store) stops answering while {@code hubctl exec} and
 * {@code history -f} follow a task on a real agent: the hub answers 503 meanwhile, both commands
 * say so once and keep going, and each line is printed exactly once when Redis is back.
 */
class StoreStallTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void execAndHistoryFollowRideThroughAStalledRedis(@TempDir Path dir) throws Exception {
        String redis = System.getenv().getOrDefault("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379");
        Path go = dir.resolve("go");
        try (StallingProxy proxy = new StallingProxy("127.0.0.1", java.net.URI.create(redis).getPort());
                TestHub hub = new TestHub(HubConfig.defaults(dir.resolve("data"))
                        .withHistory(HubConfig.HistoryStoreKind.REDIS, "redis://127.0.0.1:" + proxy.port(),
                                1000, 1L << 20))) {
            hub.agent("stall-1");
            Cli.Background follow = new Cli.Background(hub.url, hub.token, "history", "stall-1", "-f");
            Cli.Background exec = new Cli.Background(hub.url, hub.token, "exec", "stall-1", "--",
                    "echo one; while [ ! -e " + go + " ]; do sleep 0.1; done; echo two");
            await().atMost(WAIT).until(() -> exec.out().contains("one\n"));
            await().atMost(WAIT).until(() -> follow.out().contains("one"));

            proxy.stall();
            // exec reads its task's raw output from the database, not Redis: it even gets "two" during
            // the stall, but the task's result waits for the history to take its last lines
            Files.writeString(go, "");
            await().atMost(WAIT).until(() -> exec.out().equals("one\ntwo\n"));
            Thread.sleep(1000);
            assertThat(exec.alive()).isTrue();

            proxy.resume();
            await().atMost(WAIT).until(() -> !exec.alive());
            assertThat(exec.code()).as(exec.err()).isZero();
            assertThat(exec.out()).isEqualTo("one\ntwo\n");

            await().atMost(WAIT).until(() -> follow.out().contains("two"));
            assertThat(follow.alive()).as(follow.err()).isTrue();
            assertThat(follow.out().lines().filter(l -> l.endsWith("two"))).hasSize(1);
            follow.stop();
        }
    }
}

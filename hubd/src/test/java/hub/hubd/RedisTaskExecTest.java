package hub.hubd;

import hub.hubd.config.HubConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * The task and history tests with {@code --history-store redis} on the machine's Redis. A missing
 * Redis fails the run when CI=true or HUB_TEST_SERVICES=required, and skips otherwise.
 */
class RedisTaskExecTest extends TaskExecTest {
    static final String URL = System.getenv().getOrDefault("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379");

    @Override
    protected HubConfig config(Path data) {
        boolean required = "true".equals(System.getenv("CI")) || "required".equals(System.getenv("HUB_TEST_SERVICES"));
        if (!required) {
            try (java.net.Socket s = new java.net.Socket()) {
                java.net.URI u = java.net.URI.create(URL);
                s.connect(new java.net.InetSocketAddress(u.getHost(), u.getPort()), 1000);
            } catch (java.io.IOException e) {
                Assumptions.abort("Redis not reachable and not required: " + e.getMessage());
            }
        }
        return HubConfig.defaults(data).withHistory(HubConfig.HistoryStoreKind.REDIS, URL, 100_000, 64L << 20);
    }
}

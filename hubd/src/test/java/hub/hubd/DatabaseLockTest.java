package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.agent.AgentConnection;
import hub.agent.CredentialStore;
import hub.agent.IdentityStore;
import hub.hubd.registry.NodeStatus;
import hub.hubd.registry.NodeView;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audited hub's deadlock, proven gone: while another connection holds SQLite's write lock for
 * 10 s, heartbeats and a known agent's reconnect go on without delay; persistence catches up
 * after the lock is released.
 */
class DatabaseLockTest {
    private static final Duration HEARTBEAT = Duration.ofMillis(200);
    private static final Duration LOCK_HELD = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    TestHub hub;

    @BeforeEach
    void start() {
        hub = new TestHub(dir.resolve("data"), HEARTBEAT);
    }

    @AfterEach
    void stop() throws Exception {
        hub.close();
    }

    @Test
    void heartbeatsAndReconnectProceedWhileDatabaseIsLocked() throws Exception {
        String token = hub.joinToken(2, "15m", Map.of());
        AgentConnection steady = hub.agent("steady", token);
        IdentityStore creds = IdentityStore.memory();
        AgentConnection mover = hub.agent("mover", creds, token);
        await().atMost(Duration.ofSeconds(10)).until(() -> steady.connected() && mover.connected());
        await().atMost(Duration.ofSeconds(10)).until(() -> hub.daemon.registry().dirtyCount() == 0);
        String steadyId = steady.nodeId();
        String moverId = mover.nodeId();

        CountDownLatch locked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread locker = new Thread(() -> holdWriteLock(locked, release), "locker");
        locker.start();
        assertThat(locked.await(10, TimeUnit.SECONDS)).as("lock taken").isTrue();
        long lockedAt = System.nanoTime();

        // A known agent drops and comes back with its credential: memory only, so no waiting.
        mover.close();
        await().atMost(Duration.ofSeconds(1)).until(() ->
                hub.daemon.registry().get(moverId).orElseThrow().status() == NodeStatus.OFFLINE);
        long reconnectStart = System.nanoTime();
        AgentConnection back = hub.agent("mover", creds, null);
        await().atMost(Duration.ofSeconds(2)).until(back::connected);
        Duration reconnect = Duration.ofNanos(System.nanoTime() - reconnectStart);
        assertThat(back.nodeId()).isEqualTo(moverId);
        assertThat(reconnect).as("reconnect during the lock").isLessThan(Duration.ofSeconds(2));
        assertThat(hub.daemon.registry().dirtyCount()).as("writes wait in the write-behind set").isPositive();

        // Heartbeats keep the steady node fresh for the whole time the lock is held.
        long[] worstAgeMs = {0};
        long sampleUntil = lockedAt + LOCK_HELD.toNanos() - Duration.ofMillis(500).toNanos();
        await().atMost(LOCK_HELD).pollInterval(Duration.ofMillis(50)).until(() -> {
            NodeView v = hub.daemon.registry().get(steadyId).orElseThrow();
            assertThat(v.status()).isEqualTo(NodeStatus.ONLINE);
            worstAgeMs[0] = Math.max(worstAgeMs[0], Duration.between(v.lastSeen(), Instant.now()).toMillis());
            return System.nanoTime() > sampleUntil;
        });
        assertThat(locker.isAlive()).as("lock still held while we looked").isTrue();
        assertThat(worstAgeMs[0]).as("oldest heartbeat seen during the lock, ms").isLessThan(3 * HEARTBEAT.toMillis());
        assertThat(hub.get("/api/v1/nodes?status=online").get("items")).hasSize(2);

        release.countDown();
        locker.join();

        // Once the lock is gone, the write-behind writer catches up.
        await().atMost(Duration.ofSeconds(15)).until(() -> hub.daemon.registry().dirtyCount() == 0);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + hub.dataDir.resolve("hub.db"));
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT status FROM nodes WHERE id = '" + moverId + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("online");
        }
        assertThat(hub.get("/api/v1/nodes").toString()).contains("mover");
    }

    private void holdWriteLock(CountDownLatch locked, CountDownLatch release) {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + hub.dataDir.resolve("hub.db"));
                Statement st = c.createStatement()) {
            st.execute("BEGIN IMMEDIATE");
            st.executeUpdate("UPDATE users SET created_at = created_at");
            locked.countDown();
            release.await(LOCK_HELD.toMillis(), TimeUnit.MILLISECONDS);
            st.execute("COMMIT");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}

package hub.hubd.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hub.hubd.auth.ApiTokens;
import hub.hubd.events.EventBus;
import hub.hubd.auth.JoinToken;
import hub.hubd.auth.JoinTokenRepository;
import hub.hubd.auth.JoinTokens;
import hub.hubd.auth.Principal;
import hub.hubd.auth.Role;
import hub.hubd.auth.UserRepository;
import hub.hubd.core.StoreException;
import hub.hubd.registry.NodeDirectory;
import hub.hubd.registry.NodeRecord;
import hub.hubd.registry.NodeRegistry;
import hub.hubd.registry.NodeRepository;
import hub.hubd.registry.NodeView;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Failures inside the hub: the client gets problem+json with an error id and no stack trace; the
 * log gets exactly one line with that id and the stack trace (a store that is down: one line per
 * minute, with the database's own message instead). Stores are fakes that throw.
 */
class ApiFaultTest {
    private static final String TOKEN = ApiTokens.PREFIX + "test";

    /** Knows one admin token. */
    static final class OneAdmin implements UserRepository {
        @Override
        public long countUsers() {
            return 1;
        }

        @Override
        public void createUserWithToken(String userId, String name, Role role, String tokenId, String tokenHash,
                long nowMillis) {
            throw new IllegalStateException("not used");
        }

        @Override
        public Optional<Principal> findByTokenHash(String tokenHash) {
            return tokenHash.equals(hub.hubd.core.Ids.hash(TOKEN))
                    ? Optional.of(new Principal("u-admin", "admin", Role.ADMIN, "t1")) : Optional.empty();
        }
    }

    /** Every node query fails like a database that is gone. */
    static final class BrokenNodes implements NodeRepository {
        private static StoreException gone() {
            return new StoreException("database error: connection refused", new SQLException("refused"));
        }

        @Override
        public List<NodeRecord> loadAll() {
            throw gone();
        }

        @Override
        public List<JoinResult> insertJoined(List<JoinRequest> requests, long nowMillis) {
            throw gone();
        }

        @Override
        public void updateLive(Collection<NodeView> nodes) {
            throw gone();
        }

        @Override
        public List<NodeView> list(String ownerOrNull) {
            throw gone();
        }

        @Override
        public Optional<NodeView> find(String id) {
            throw gone();
        }

        @Override
        public List<NodeView> findByName(String name) {
            throw gone();
        }

        @Override
        public boolean delete(String id) {
            throw gone();
        }
    }

    /** An audit table that keeps nothing (these tests are about the answers). */
    static final class NoAudit implements hub.hubd.audit.AuditRepository {
        @Override
        public long lastSeq() {
            return 0;
        }

        @Override
        public void append(hub.hubd.audit.AuditEntry e) {
        }

        @Override
        public List<hub.hubd.audit.AuditEntry> find(Query q) {
            return List.of();
        }

        @Override
        public int deleteBefore(long beforeMillis) {
            return 0;
        }
    }

    /** A bug: every token call throws something unexpected. */
    static final class BuggyTokens implements JoinTokenRepository {
        @Override
        public void insert(JoinToken token, String tokenHash) {
            throw new NullPointerException("bug");
        }

        @Override
        public List<JoinToken> list(String owner) {
            throw new NullPointerException("bug");
        }

        @Override
        public Optional<JoinToken> find(String id) {
            throw new NullPointerException("bug");
        }

        @Override
        public boolean revoke(String id, long nowMillis) {
            throw new NullPointerException("bug");
        }
    }

    HttpApi api;
    EventBus bus;
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    Logger errorsLog = (Logger) LoggerFactory.getLogger(ApiErrors.class);

    @BeforeEach
    void start() {
        NodeRegistry registry = new NodeRegistry(Clock.systemUTC(), System::nanoTime, Duration.ofSeconds(10));
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        bus = new EventBus(EventBus.Options.defaults(), Clock.systemUTC(), new EventJson(),
                registry::info, metrics);
        api = new HttpApi(new ApiTokens(new OneAdmin(), Clock.systemUTC()),
                new hub.hubd.auth.Users(new OneAdmin(), Clock.systemUTC(), null),
                new JoinTokens(new BuggyTokens(), Clock.systemUTC(), bus), new NodeDirectory(new BrokenNodes(), registry),
                registry, null, null, bus, Duration.ofSeconds(15), hub.hubd.provisioning.AgentArtifact.of(null), metrics,
                () -> true, null, List.of("127.0.0.1"),
                new hub.hubd.audit.AuditLog(new NoAudit(), Clock.systemUTC(), Duration.ZERO, metrics), null, null, null, null, null);
        api.start("127.0.0.1", 0, new HttpApi.HubInfo("t", "h", java.time.Instant.now(), 0));
        logs.start();
        errorsLog.addAppender(logs);
    }

    @AfterEach
    void stop() {
        errorsLog.detachAppender(logs);
        api.close();
        bus.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + api.port() + path)).header("Authorization", "Bearer " + TOKEN)
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private void assertLoggedOnceWithStackTrace(String errorId) {
        List<ILoggingEvent> lines = logs.list.stream()
                .filter(e -> errorId.equals(e.getMDCPropertyMap().get("errorId"))).toList();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0).getThrowableProxy()).isNotNull();
        assertThat(lines.get(0).getFormattedMessage()).contains(errorId);
    }

    @Test
    void databaseFailureIs503AndOneLineNamesTheCauseWithoutAStack() throws Exception {
        hub.hubd.core.StoreFaults.resetWindow();
        HttpResponse<String> r = get("/api/v1/nodes");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
        JsonNode p = new ObjectMapper().readTree(r.body());
        assertThat(p.get("type").asText()).endsWith("/storage-unavailable");
        assertThat(r.body()).doesNotContain("SQLException").doesNotContain("\tat ");
        String errorId = p.get("errorId").asText();
        List<ILoggingEvent> lines = logs.list.stream()
                .filter(e -> errorId.equals(e.getMDCPropertyMap().get("errorId"))).toList();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0).getThrowableProxy()).isNull(); // the database's message is the cause
        assertThat(lines.get(0).getFormattedMessage()).contains(errorId).contains("refused");

        // the same stall a moment later: answered the same way, not logged again
        for (int i = 0; i < 5; i++) {
            assertThat(get("/api/v1/nodes").statusCode()).isEqualTo(503);
        }
        assertThat(logs.list.stream().filter(e -> e.getFormattedMessage().contains("storage")).count())
                .isEqualTo(1);
    }

    @Test
    void unexpectedBugIs500WithAnErrorIdThatIsInTheLog() throws Exception {
        HttpResponse<String> r = get("/api/v1/join-tokens");
        assertThat(r.statusCode()).isEqualTo(500);
        JsonNode p = new ObjectMapper().readTree(r.body());
        assertThat(p.get("detail").asText()).contains(p.get("errorId").asText()).doesNotContain("bug");
        assertThat(r.body()).doesNotContain("NullPointerException");
        assertLoggedOnceWithStackTrace(p.get("errorId").asText());
    }

    @Test
    void aScriptThatCannotBeMadeIs500WithAnErrorIdNeverAScript() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + api.port() + "/api/v1/provisioning/script"))
                .header("Authorization", "Bearer hjt_abcdefghijklmnopqrstuvwxyz").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(500);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
        assertThat(r.body()).doesNotContain("#!/bin/sh").doesNotContain("\tat ");
        assertLoggedOnceWithStackTrace(new ObjectMapper().readTree(r.body()).get("errorId").asText());
    }
}

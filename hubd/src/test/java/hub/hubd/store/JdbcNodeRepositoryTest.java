package hub.hubd.store;

import static org.assertj.core.api.Assertions.assertThat;

import hub.hubd.auth.JoinToken;
import hub.hubd.core.HubException;
import hub.hubd.core.Ids;
import hub.hubd.registry.AgentHello;
import hub.hubd.registry.NodeRepository.JoinRequest;
import hub.hubd.registry.NodeRepository.JoinResult;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Grouped joins on a real SQLite file after Flyway: a refused join never spoils its neighbours. */
class JdbcNodeRepositoryTest {
    @TempDir
    Path dir;
    Database db;
    JdbcNodeRepository nodes;
    JdbcJoinTokenRepository tokens;

    @BeforeEach
    void open() {
        db = Database.open("jdbc:sqlite:" + dir.resolve("t.db"));
        nodes = new JdbcNodeRepository(db);
        tokens = new JdbcJoinTokenRepository(db);
    }

    @AfterEach
    void close() {
        db.close();
    }

    private String token(int uses, Map<String, String> labels) {
        String secret = Ids.newSecret("hjt_");
        Instant now = Instant.now();
        tokens.insert(new JoinToken(Ids.newId(), "alice", labels, uses, now.plusSeconds(600), now, null),
                Ids.hash(secret));
        return secret;
    }

    private static JoinRequest request(String token, Map<String, String> labels) {
        return new JoinRequest(Ids.hash(token), Ids.newId(), Ids.hash(Ids.newSecret("hnc_")),
                new AgentHello("h", "Linux", "amd64", "t", "", labels));
    }

    @Test
    void refusedJoinsInAGroupLeaveTheOthersStored() {
        String good = token(2, Map.of("role", "web"));
        String once = token(1, Map.of());
        List<JoinResult> r = nodes.insertJoined(List.of(
                request(good, Map.of("role", "db", "zone", "a")),
                request("hjt_unknown", Map.of()),
                request(once, Map.of()),
                request(once, Map.of()),
                request(good, Map.of("bad key", "x")),
                request(good, Map.of())), System.currentTimeMillis());

        assertThat(r.get(0).record()).isNotNull();
        assertThat(r.get(0).record().view().info().labels())
                .as("token labels win").containsEntry("role", "web").containsEntry("zone", "a");
        assertThat(r.get(0).record().view().info().owner()).isEqualTo("alice");
        assertThat(r.get(1).error().getMessage()).isEqualTo("unknown join token");
        assertThat(r.get(2).record()).isNotNull();
        assertThat(r.get(3).error().getMessage()).isEqualTo("join token used up");
        assertThat(r.get(4).error().kind()).isEqualTo(HubException.Kind.INVALID);
        assertThat(r.get(5).record()).as("the invalid join gave its use back").isNotNull();

        assertThat(nodes.loadAll()).hasSize(3);
        assertThat(tokens.list(null)).allSatisfy(t -> assertThat(t.usesLeft()).isZero());
    }
}

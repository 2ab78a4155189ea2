package hub.hubd.store;

import hub.hubd.auth.JoinToken;
import hub.hubd.auth.JoinTokenRepository;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** {@link JoinTokenRepository} over JDBC. */
public final class JdbcJoinTokenRepository implements JoinTokenRepository {
    private static final String COLUMNS =
            "id, owner, labels, uses_left, expires_at, created_at, revoked_at";
    private final Jdbc jdbc;

    public JdbcJoinTokenRepository(Database db) {
        this.jdbc = db.jdbc();
    }

    @Override
    public void insert(JoinToken t, String tokenHash) {
        jdbc.update("INSERT INTO join_tokens (id, token_hash, owner, labels, uses_left, expires_at, "
                + "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", t.id(), tokenHash, t.owner(),
                LabelsJson.write(t.labels()), t.usesLeft(), t.expiresAt().toEpochMilli(),
                t.createdAt().toEpochMilli());
    }

    @Override
    public List<JoinToken> list(String owner) {
        return owner == null
                ? jdbc.query("SELECT " + COLUMNS + " FROM join_tokens ORDER BY created_at DESC, id",
                        JdbcJoinTokenRepository::row)
                : jdbc.query("SELECT " + COLUMNS + " FROM join_tokens WHERE owner = ? "
                        + "ORDER BY created_at DESC, id", JdbcJoinTokenRepository::row, owner);
    }

    @Override
    public Optional<JoinToken> findByHash(String tokenHash) {
        return jdbc.queryOne("SELECT " + COLUMNS + " FROM join_tokens WHERE token_hash = ?",
                JdbcJoinTokenRepository::row, tokenHash);
    }

    @Override
    public Optional<JoinToken> find(String id) {
        return jdbc.queryOne("SELECT " + COLUMNS + " FROM join_tokens WHERE id = ?",
                JdbcJoinTokenRepository::row, id);
    }

    @Override
    public boolean revoke(String id, long nowMillis) {
        return jdbc.update("UPDATE join_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                nowMillis, id) > 0;
    }

    private static JoinToken row(ResultSet rs) throws SQLException {
        return new JoinToken(rs.getString("id"), rs.getString("owner"),
                LabelsJson.read(rs.getString("labels")), rs.getInt("uses_left"),
                Instant.ofEpochMilli(rs.getLong("expires_at")),
                Instant.ofEpochMilli(rs.getLong("created_at")), Jdbc.instant(rs, "revoked_at"));
    }
}

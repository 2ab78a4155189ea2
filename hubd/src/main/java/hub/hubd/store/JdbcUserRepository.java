package hub.hubd.store;

import hub.hubd.auth.Principal;
import hub.hubd.auth.Role;
import hub.hubd.auth.UserRepository;
import java.util.Optional;

/** {@link UserRepository} over JDBC. */
public final class JdbcUserRepository implements UserRepository {
    private final Jdbc jdbc;

    public JdbcUserRepository(Database db) {
        this.jdbc = db.jdbc();
    }

    @Override
    public long countUsers() {
        return jdbc.queryOne("SELECT COUNT(*) FROM users", rs -> rs.getLong(1)).orElse(0L);
    }

    @Override
    public void createUserWithToken(String userId, String name, Role role, String tokenId,
            String tokenHash, long nowMillis) {
        jdbc.inTransaction(c -> {
            Jdbc.update(c, "INSERT INTO users (id, name, role, created_at) VALUES (?, ?, ?, ?)",
                    userId, name, role.wireName(), nowMillis);
            Jdbc.update(c, "INSERT INTO api_tokens (id, user_id, token_hash, created_at) VALUES (?, ?, ?, ?)",
                    tokenId, userId, tokenHash, nowMillis);
            return null;
        });
    }

    @Override
    public Optional<Principal> findByTokenHash(String tokenHash) {
        return jdbc.queryOne("""
                SELECT u.name, u.role, t.id FROM api_tokens t JOIN users u ON u.id = t.user_id
                WHERE t.token_hash = ? AND t.revoked_at IS NULL""",
                rs -> new Principal(rs.getString(1), Role.parse(rs.getString(2)), rs.getString(3)),
                tokenHash);
    }

    private static final String USER_COLUMNS = "u.id, u.name, u.role, u.created_at, "
            + "(SELECT COUNT(*) FROM api_tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL)";

    private static User user(java.sql.ResultSet rs) throws java.sql.SQLException {
        return new User(rs.getString(1), rs.getString(2), Role.parse(rs.getString(3)),
                java.time.Instant.ofEpochMilli(rs.getLong(4)), rs.getInt(5));
    }

    @Override
    public java.util.List<User> list() {
        return jdbc.query("SELECT " + USER_COLUMNS + " FROM users u ORDER BY u.name", JdbcUserRepository::user);
    }

    @Override
    public Optional<User> findByName(String name) {
        return jdbc.queryOne("SELECT " + USER_COLUMNS + " FROM users u WHERE u.name = ?", JdbcUserRepository::user,
                name);
    }

    @Override
    public java.util.List<String> delete(String userId) {
        return jdbc.inTransaction(c -> {
            java.util.List<String> tokens = Jdbc.query(c, "SELECT id FROM api_tokens WHERE user_id = ? "
                    + "AND revoked_at IS NULL", rs -> rs.getString(1), userId);
            Jdbc.update(c, "DELETE FROM api_tokens WHERE user_id = ?", userId);
            // Its join tokens go with it: no node joins as a removed user, nor as a new user of that name.
            Jdbc.update(c, "UPDATE join_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND owner = "
                    + "(SELECT name FROM users WHERE id = ?)", System.currentTimeMillis(), userId);
            Jdbc.update(c, "DELETE FROM users WHERE id = ?", userId);
            return tokens;
        });
    }

    @Override
    public java.util.List<String> replaceTokens(String userId, String tokenId, String tokenHash, long nowMillis) {
        return jdbc.inTransaction(c -> {
            java.util.List<String> tokens = Jdbc.query(c, "SELECT id FROM api_tokens WHERE user_id = ? "
                    + "AND revoked_at IS NULL", rs -> rs.getString(1), userId);
            Jdbc.update(c, "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                    nowMillis, userId);
            Jdbc.update(c, "INSERT INTO api_tokens (id, user_id, token_hash, created_at) VALUES (?, ?, ?, ?)",
                    tokenId, userId, tokenHash, nowMillis);
            return tokens;
        });
    }
}

package hub.hubd.store;

import hub.hubd.auth.Grant;
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
                SELECT u.id, u.name, u.role, t.id FROM api_tokens t JOIN users u ON u.id = t.user_id
                WHERE t.token_hash = ? AND t.revoked_at IS NULL""",
                rs -> new Principal(rs.getString(1), rs.getString(2), Role.parse(rs.getString(3)), rs.getString(4)),
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
    public Removal delete(String userId, String reassignTo) {
        return jdbc.inTransaction(c -> {
            java.util.List<String> owned = Jdbc.query(c, "SELECT id FROM nodes WHERE owner = ?",
                    rs -> rs.getString(1), userId);
            if (!owned.isEmpty() && reassignTo == null) {
                throw hub.hubd.core.HubException.conflict("the user owns " + owned.size() + " node"
                        + (owned.size() == 1 ? "" : "s") + ": give them to another user (--reassign-to USER)");
            }
            if (!owned.isEmpty()) {
                Jdbc.update(c, "UPDATE nodes SET owner = ? WHERE owner = ?", reassignTo, userId);
            }
            java.util.List<String> tokens = Jdbc.query(c, "SELECT id FROM api_tokens WHERE user_id = ? "
                    + "AND revoked_at IS NULL", rs -> rs.getString(1), userId);
            Jdbc.update(c, "DELETE FROM api_tokens WHERE user_id = ?", userId);
            Jdbc.update(c, "DELETE FROM grants WHERE user_id = ?", userId);
            // Its join tokens go with it: no node joins as a removed user.
            Jdbc.update(c, "UPDATE join_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND owner = ?",
                    System.currentTimeMillis(), userId);
            Jdbc.update(c, "DELETE FROM users WHERE id = ?", userId);
            return new Removal(tokens, owned);
        });
    }

    @Override
    public Optional<User> findById(String id) {
        return jdbc.queryOne("SELECT " + USER_COLUMNS + " FROM users u WHERE u.id = ?", JdbcUserRepository::user, id);
    }

    private static Grant grant(java.sql.ResultSet rs) throws java.sql.SQLException {
        return new Grant(rs.getString(1), rs.getString(2), hub.hubd.core.Selector.parse(rs.getString(3)),
                Role.parse(rs.getString(4)), java.time.Instant.ofEpochMilli(rs.getLong(5)));
    }

    @Override
    public java.util.List<Grant> grants() {
        return jdbc.query("SELECT id, user_id, selector, role, created_at FROM grants ORDER BY created_at, id",
                JdbcUserRepository::grant);
    }

    @Override
    public Grant putGrant(Grant g) {
        return jdbc.inTransaction(c -> {
            String sel = g.selector().toString();
            java.util.List<Grant> existing = Jdbc.query(c, "SELECT id, user_id, selector, role, created_at "
                    + "FROM grants WHERE user_id = ? AND selector = ?", JdbcUserRepository::grant, g.userId(), sel);
            if (existing.isEmpty()) {
                Jdbc.update(c, "INSERT INTO grants (id, user_id, selector, role, created_at) VALUES (?, ?, ?, ?, ?)",
                        g.id(), g.userId(), sel, g.role().wireName(), g.createdAt().toEpochMilli());
                return g;
            }
            Grant old = existing.get(0);
            Jdbc.update(c, "UPDATE grants SET role = ? WHERE id = ?", g.role().wireName(), old.id());
            return new Grant(old.id(), old.userId(), old.selector(), g.role(), old.createdAt());
        });
    }

    @Override
    public boolean deleteGrant(String userId, String grantId) {
        return jdbc.update("DELETE FROM grants WHERE id = ? AND user_id = ?", grantId, userId) > 0;
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

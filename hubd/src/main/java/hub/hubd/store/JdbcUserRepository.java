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
}

package hub.hubd.store;

import hub.hubd.history.HistoryStore;
import hub.hubd.history.HistoryStoreContract;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;

/**
 * The history store contract on the machine's PostgreSQL, in a throwaway database. Skipped only
 * when PostgreSQL is missing and neither {@code CI=true} nor {@code HUB_TEST_SERVICES=required} is
 * set; otherwise a missing server fails the run.
 */
class PostgresHistoryStoreTest extends HistoryStoreContract {
    static final String SERVER = System.getenv().getOrDefault("HUB_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/");
    static final String USER = "?user=postgres";

    String dbName = "hub_hist_" + Long.toHexString(System.nanoTime());
    Database db;

    @BeforeEach
    void open() throws SQLException {
        try (Connection c = DriverManager.getConnection(SERVER + "postgres" + USER);
                Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + dbName);
        } catch (SQLException e) {
            if ("true".equals(System.getenv("CI")) || "required".equals(System.getenv("HUB_TEST_SERVICES"))) {
                throw e;
            }
            Assumptions.abort("PostgreSQL not reachable and not required: " + e.getMessage());
        }
        db = Database.open(SERVER + dbName + USER);
    }

    @AfterEach
    void close() throws SQLException {
        if (db != null) {
            db.close();
        }
        try (Connection c = DriverManager.getConnection(SERVER + "postgres" + USER);
                Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)");
        }
    }

    @Override
    protected HistoryStore store(long maxLines, long maxBytes) {
        return new JdbcHistoryStore(db, maxLines, maxBytes);
    }

    @Override
    protected void reopen() {
        db.close();
        db = Database.open(SERVER + dbName + USER);
    }
}

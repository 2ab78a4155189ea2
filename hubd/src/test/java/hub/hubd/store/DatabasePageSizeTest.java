package hub.hubd.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A new SQLite file gets the hub's page size, in WAL mode; an existing one keeps its own. */
class DatabasePageSizeTest {
    @TempDir
    Path dir;

    private static String pragma(String url, String name) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("PRAGMA " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void aNewDatabaseHasLargePagesInWalMode() throws SQLException {
        String url = "jdbc:sqlite:" + dir.resolve("new.db");
        try (Database db = Database.open(url)) {
            assertThat(db.jdbc().queryOne("SELECT COUNT(*) FROM history_blocks", rs -> rs.getLong(1))).contains(0L);
        }
        assertThat(pragma(url, "page_size")).isEqualTo(String.valueOf(Database.SQLITE_PAGE_SIZE));
        assertThat(pragma(url, "journal_mode")).isEqualTo("wal");
    }

    @Test
    void anExistingDatabaseKeepsItsPageSize() throws SQLException {
        String url = "jdbc:sqlite:" + dir.resolve("old.db");
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            st.execute("PRAGMA page_size = 4096"); // as hubs before this one made them
            st.execute("PRAGMA journal_mode = WAL");
        }
        for (int i = 0; i < 2; i++) { // migrated on the first open, reopened on the second
            try (Database db = Database.open(url)) {
                assertThat(db.jdbc().queryOne("SELECT COUNT(*) FROM history_blocks", rs -> rs.getLong(1)))
                        .contains(0L);
            }
            assertThat(pragma(url, "page_size")).isEqualTo("4096");
        }
    }
}

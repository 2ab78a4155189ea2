package hub.hubd.store;

import hub.hubd.history.HistoryStore;
import hub.hubd.history.HistoryStoreContract;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** The history store contract on a real SQLite file after Flyway. */
class JdbcHistoryStoreTest extends HistoryStoreContract {
    @TempDir
    Path dir;
    Database db;

    @BeforeEach
    void open() {
        db = Database.open("jdbc:sqlite:" + dir.resolve("h.db"));
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Override
    protected HistoryStore store(long maxLines, long maxBytes) {
        return new JdbcHistoryStore(db, maxLines, maxBytes);
    }

    @Override
    protected void reopen() {
        db.close();
        db = Database.open("jdbc:sqlite:" + dir.resolve("h.db"));
    }
}

package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import hub.hubd.config.HubConfig;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data dir: one hubd at a time, private database files, and start failures in one line. */
class DataDirTest {
    @TempDir
    Path dir;

    @Test
    void aSecondHubOnTheSameDataDirStopsWithOneLine() {
        Path data = dir.resolve("data");
        try (HubDaemon first = HubDaemon.start(HubConfig.defaults(data))) {
            assertThatThrownBy(() -> HubDaemon.start(HubConfig.defaults(data)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("another hubd is using " + data.toAbsolutePath())
                    .satisfies(e -> assertThat(HubdMain.expected(e)).isTrue());
            assertThat(first.httpPort()).isPositive();
        }
        // Once the first has stopped, the dir is free again.
        HubDaemon.start(HubConfig.defaults(data)).close();
    }

    @Test
    void theDatabaseFilesAreOwnerOnlyWhateverTheDirectorysMode() throws Exception {
        Path data = Files.createDirectories(dir.resolve("open"));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (HubDaemon hub = HubDaemon.start(HubConfig.defaults(data))) {
            for (String f : new String[] {"hub.db", "hub.db-wal", "hub.db-shm"}) {
                Path p = data.resolve(f);
                if (Files.exists(p)) {
                    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).as(f)
                            .isEqualTo("rw-------");
                }
            }
            assertThat(Files.exists(data.resolve("hub.db-wal"))).isTrue();
        }
        // An existing, too open database is made private at start.
        Files.setPosixFilePermissions(data.resolve("hub.db"), PosixFilePermissions.fromString("rw-r--r--"));
        HubDaemon.start(HubConfig.defaults(data)).close();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("hub.db"))))
                .isEqualTo("rw-------");
    }

    @Test
    void aPortInUseIsAnExpectedFailureWithAClearMessage() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            HubConfig config = HubConfig.defaults(dir.resolve("port")).withListeners(0, taken.getLocalPort(), null);
            assertThatThrownBy(() -> HubDaemon.start(config))
                    .satisfies(e -> assertThat(HubdMain.expected(e)).isTrue())
                    .hasMessageContaining(Integer.toString(taken.getLocalPort()));
        }
    }
}

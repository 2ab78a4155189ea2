package hub.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CredentialStoreTest {
    @TempDir
    Path dir;

    @Test
    void fileStoreKeepsTheCredentialOwnerOnly() throws Exception {
        CredentialStore s = CredentialStore.file(dir.resolve("state"));
        assertThat(s.load()).isEmpty();
        s.save("hnc_secret");
        Path f = dir.resolve("state/credential");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
        assertThat(CredentialStore.file(dir.resolve("state")).load()).contains("hnc_secret");
        s.clear();
        assertThat(s.load()).isEmpty();
    }

    @Test
    void hubAddressesAreValidated() {
        assertThat(HubAddresses.parse("a:1, b.example:9090")).containsExactly("a:1", "b.example:9090");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> HubAddresses.parse("nohost"))
                .hasMessageContaining("HOST:PORT");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> HubAddresses.parse("a:99999"))
                .hasMessageContaining("HOST:PORT");
    }
}

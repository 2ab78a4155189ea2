package hub.hubd.config;

import static org.assertj.core.api.Assertions.assertThat;

import hub.hubd.HubdCommandAccess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration precedence: flag &gt; HUB_* environment &gt; config file &gt; default. */
class HubdDefaultsTest {
    @TempDir
    Path dir;

    @Test
    void flagBeatsEnvBeatsFileBeatsDefault() throws Exception {
        Path file = dir.resolve("hubd.conf");
        Files.writeString(file, "http-port = 7001\ngrpc-port = 7002\nheartbeat-interval = 3s\n");
        Map<String, String> env = Map.of("HUB_HTTP_PORT", "7101", "HUB_DATA_DIR", "/tmp/from-env");

        String[] args = {"--config", file.toString(), "--http-port", "7201"};
        HubConfig c = HubdCommandAccess.parse(args, env);

        assertThat(c.httpPort()).as("flag").isEqualTo(7201);
        assertThat(c.dataDir()).as("env").isEqualTo(Path.of("/tmp/from-env"));
        assertThat(c.grpcPort()).as("file").isEqualTo(7002);
        assertThat(c.heartbeatInterval().toSeconds()).as("file").isEqualTo(3);
        assertThat(c.logFormat()).as("default").isEqualTo("text");
        assertThat(c.bind()).as("default").isEqualTo("0.0.0.0");
    }

    @Test
    void envBeatsFile() throws Exception {
        Path file = dir.resolve("hubd.conf");
        Files.writeString(file, "http-port = 7001\n");
        HubConfig c = HubdCommandAccess.parse(new String[0],
                Map.of("HUB_CONFIG", file.toString(), "HUB_HTTP_PORT", "7101"));
        assertThat(c.httpPort()).isEqualTo(7101);
    }

    @Test
    void configFileFromEnvironment() throws Exception {
        Path file = dir.resolve("other.conf");
        Files.writeString(file, "log-format = json\n");
        HubConfig c = HubdCommandAccess.parse(new String[0], Map.of("HUB_CONFIG", file.toString()));
        assertThat(c.logFormat()).isEqualTo("json");
    }
}

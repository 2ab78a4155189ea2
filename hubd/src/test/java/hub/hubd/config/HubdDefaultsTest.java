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

    @Test
    void tlsIsOnUnlessPlainTextIsAskedForAndTheTlsSettingsComeFromAnywhere() throws Exception {
        HubConfig defaults = HubdCommandAccess.parse(new String[0], Map.of());
        assertThat(defaults.tls().plaintext()).isFalse();
        assertThat(defaults.tls().certFile()).isNull();
        assertThat(defaults.tls().nodeCertTtl()).hasDays(30);
        assertThat(defaults.advertise()).contains("localhost", "127.0.0.1", "::1");

        Path file = dir.resolve("hubd.conf");
        Files.writeString(file, "advertise = hub.example, 10.0.0.5\nnode-cert-ttl = 7d\n");
        HubConfig c = HubdCommandAccess.parse(new String[] {"--config", file.toString()},
                Map.of("HUB_INSECURE_PLAINTEXT", "true"));
        assertThat(c.tls().plaintext()).isTrue();
        assertThat(c.advertise()).containsExactly("hub.example", "10.0.0.5");
        assertThat(c.tls().nodeCertTtl()).hasDays(7);
        assertThat(HubdCommandAccess.parse(new String[] {"--insecure-plaintext"}, Map.of()).tls().plaintext()).isTrue();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> HubdCommandAccess.parse(
                new String[] {"--tls-cert", "/x.pem"}, Map.of())).hasMessageContaining("--tls-key");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> HubdCommandAccess.parse(
                new String[] {"--node-cert-ttl", "5m"}, Map.of())).hasMessageContaining("between 1h and 366d");
    }

    @Test
    void auditRetentionDefaultsTo90DaysTakesZeroForEverAndRefusesLessThanAnHour() {
        assertThat(HubdCommandAccess.parse(new String[] {}, Map.of()).auditRetention()).hasDays(90);
        assertThat(HubdCommandAccess.parse(new String[] {"--audit-retention", "0"}, Map.of()).auditRetention())
                .isZero();
        assertThat(HubdCommandAccess.parse(new String[] {}, Map.of("HUB_AUDIT_RETENTION", "365d")).auditRetention())
                .hasDays(365);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> HubdCommandAccess.parse(
                new String[] {"--audit-retention", "5m"}, Map.of())).hasMessageContaining("at least 1h");
        assertThat(HubdCommandAccess.parse(new String[] {}, Map.of()).nodeExpiry()).as("off by default").isZero();
        assertThat(HubdCommandAccess.parse(new String[] {"--node-expiry", "14d"}, Map.of()).nodeExpiry()).hasDays(14);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> HubdCommandAccess.parse(
                new String[] {"--node-expiry", "5s"}, Map.of())).hasMessageContaining("at least 1m");
    }
}

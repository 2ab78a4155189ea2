package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@code hubctl login} and {@code hubctl context}, and how flag, environment and context combine. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ContextsTest {
    TestHub hub;

    @BeforeAll
    void start(@TempDir Path dir) {
        hub = new TestHub(dir);
    }

    @AfterAll
    void stop() {
        hub.close();
    }

    private static Map<String, String> env(Path home, String... kv) {
        Map<String, String> env = new HashMap<>(Map.of("HOME", home.toString(),
                "XDG_CONFIG_HOME", home.resolve("config").toString()));
        for (int i = 0; i < kv.length; i += 2) {
            env.put(kv[i], kv[i + 1]);
        }
        return env;
    }

    @Test
    void loginSavesAPrivateContextThatLaterCommandsUse(@TempDir Path home) throws Exception {
        Cli.Run login = Cli.runWith(env(home), "--hub", hub.url, "--token", hub.token, "login", "--name", "lab",
                "--ca-pin", hub.hub.tls().caPin());
        assertThat(login.code()).as(login.err()).isZero();
        assertThat(login.out()).contains("context 'lab' is current");

        Path file = home.resolve("config/hubctl/config");
        assertThat(Files.getPosixFilePermissions(file))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        assertThat(Files.readString(file)).contains(hub.url).contains(hub.token);

        // No flags, no environment: the current context's hub and token.
        Cli.Run status = Cli.runWith(env(home), "status", "-o", "json");
        assertThat(status.code()).as(status.err()).isZero();
        assertThat(status.json().get("user").asText()).isEqualTo("admin");

        Cli.Run ls = Cli.runWith(env(home), "context", "ls");
        assertThat(ls.out().lines()).anyMatch(l -> l.startsWith("*") && l.contains("lab") && l.contains(hub.url));
    }

    @Test
    void loginRefusesATokenTheHubRejectsAndSavesNothing(@TempDir Path home) {
        Cli.Run login = Cli.runWith(env(home), "--hub", hub.url, "--token", "hat_wrong", "login", "--ca-pin",
                hub.hub.tls().caPin());
        assertThat(login.code()).isEqualTo(ExitCodes.HUB_ERROR);
        assertThat(login.err()).startsWith("hubctl: ").doesNotContain("Exception");
        assertThat(home.resolve("config/hubctl/config")).doesNotExist();
    }

    @Test
    void loginReadsTheTokenFromAFile(@TempDir Path home) throws Exception {
        Path tokenFile = home.resolve("admin.token");
        Files.writeString(tokenFile, hub.token + "\n");
        Cli.Run login = Cli.runWith(env(home), "--hub", hub.url, "login", "--token-file", tokenFile.toString(),
                "--ca-pin", hub.hub.tls().caPin());
        assertThat(login.code()).as(login.err()).isZero();
        assertThat(login.out()).contains("context '127.0.0.1:" + hub.hub.httpPort() + "' is current");
    }

    @Test
    void flagBeatsEnvironmentBeatsContext(@TempDir Path home) throws Exception {
        assertThat(Cli.runWith(env(home), "--hub", hub.url, "--token", hub.token, "login", "--name", "good",
                "--ca-pin", hub.hub.tls().caPin()).code())
                .isZero();
        String dead = "http://127.0.0.1:1"; // nothing listens there

        // Environment over context: HUB_URL wins, and the context's token is not sent to another hub.
        Cli.Run envWins = Cli.runWith(env(home, "HUB_URL", dead), "status");
        assertThat(envWins.code()).isEqualTo(ExitCodes.HUB_ERROR);
        assertThat(envWins.err()).contains("127.0.0.1:1");

        // Flag over environment.
        Cli.Run flagWins = Cli.runWith(env(home, "HUB_URL", dead), "--hub", hub.url, "--token", hub.token, "status");
        assertThat(flagWins.code()).as(flagWins.err()).isZero();

        // A wrong HUB_TOKEN beats the context's good one.
        Cli.Run badToken = Cli.runWith(env(home, "HUB_TOKEN", "hat_wrong"), "status");
        assertThat(badToken.code()).isEqualTo(ExitCodes.HUB_ERROR);
        assertThat(badToken.err()).contains("error id");

        // --context names one explicitly; an unknown one is a usage error.
        assertThat(Cli.runWith(env(home), "--context", "good", "status").code()).isZero();
        Cli.Run unknown = Cli.runWith(env(home), "--context", "nope", "status");
        assertThat(unknown.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknown.err()).isEqualTo("hubctl: no context named 'nope' (see 'hubctl context ls')\n");
    }

    @Test
    void contextUseSwitchesAndRmForgets(@TempDir Path home) throws Exception {
        assertThat(Cli.runWith(env(home), "--hub", hub.url, "--token", hub.token, "login", "--name", "a",
                "--ca-pin", hub.hub.tls().caPin()).code())
                .isZero();
        assertThat(Cli.runWith(env(home), "--hub", hub.url, "--token", hub.token, "login", "--name", "b",
                "--ca-pin", hub.hub.tls().caPin()).code())
                .isZero();
        var ls = Cli.runWith(env(home), "context", "ls", "-o", "json").json().get("items");
        assertThat(ls).hasSize(2);
        assertThat(ls.get(1).get("name").asText()).isEqualTo("b");
        assertThat(ls.get(1).get("current").asBoolean()).isTrue();
        assertThat(ls.get(0).has("token")).isFalse(); // never printed

        assertThat(Cli.runWith(env(home), "context", "use", "a").code()).isZero();
        assertThat(Cli.runWith(env(home), "context", "ls", "-o", "json").json().get("items").get(0)
                .get("current").asBoolean()).isTrue();

        Cli.Run missing = Cli.runWith(env(home), "context", "use", "zzz");
        assertThat(missing.code()).isEqualTo(ExitCodes.USAGE);

        assertThat(Cli.runWith(env(home), "context", "rm", "a").code()).isZero();
        assertThat(Cli.runWith(env(home), "context", "ls", "-o", "json").json().get("items")).hasSize(1);
        assertThat(Set.of(Files.readString(home.resolve("config/hubctl/config")))).noneMatch(s -> s.contains("\"a\""));
    }
}

package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.hubd.HubDaemon;
import hub.hubd.TestTls;
import hub.hubd.config.HubConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hubctl trusts hubs as ssh trusts hosts: login shows the CA's pin and asks (or takes --ca-pin),
 * the context remembers that CA, and a hub that later presents another CA is refused.
 */
class TrustTest {
    @TempDir
    Path dir;
    HubDaemon hub;
    Map<String, String> env;

    @BeforeEach
    void start() {
        hub = HubDaemon.start(HubConfig.defaults(dir.resolve("a")));
        env = new HashMap<>(Map.of("HUBCTL_CONFIG", dir.resolve("hubctl.json").toString()));
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    private String url() {
        return TestTls.url(hub);
    }

    private Cli.Run hubctl(String... args) {
        return Cli.runWith(env, args);
    }

    private Path tokenFile() throws Exception {
        return Files.writeString(dir.resolve("admin.token"), hub.adminToken());
    }

    @Test
    void withoutATrustedCaCommandsAreRefusedWithWhatToDo() {
        Cli.Run r = hubctl("--hub", url(), "--token", hub.adminToken(), "status");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).startsWith("hubctl: cannot talk to the hub at " + url() + "/ securely:")
                .contains("hubctl login --hub").contains("--ca-file").doesNotContain("\n");
        // The same hub over plain HTTP: it says what the hub speaks.
        Cli.Run plain = hubctl("--hub", "http://127.0.0.1:" + hub.httpPort(), "--token", hub.adminToken(), "status");
        assertThat(plain.code()).isEqualTo(1);
        assertThat(plain.err()).contains("serves HTTPS: use https://127.0.0.1:" + hub.httpPort());
        // --ca-file, or HUB_CA, for one run.
        assertThat(hubctl("--hub", url(), "--token", hub.adminToken(), "--ca-file", TestTls.caFile(hub).toString(),
                "status").code()).isZero();
        env.put("HUB_CA", TestTls.caFile(hub).toString());
        assertThat(hubctl("--hub", url(), "--token", hub.adminToken(), "status").code()).isZero();
    }

    @Test
    void loginWithThePinSavesTheCaAndLaterRunsNeedNothingElse() throws Exception {
        String pin = hub.tls().caPin();
        Cli.Run wrong = hubctl("--hub", url(), "login", "--token-file", tokenFile().toString(),
                "--ca-pin", "sha256:" + "00".repeat(32));
        assertThat(wrong.code()).isEqualTo(1);
        assertThat(wrong.err()).contains("presents no certificate with pin").contains(pin);
        assertThat(Files.exists(dir.resolve("hubctl.json"))).isFalse();

        Cli.Run r = hubctl("--hub", url(), "login", "--token-file", tokenFile().toString(), "--ca-pin", pin);
        assertThat(r.code()).as(r.err()).isZero();
        String saved = Files.readString(dir.resolve("hubctl.json"));
        assertThat(saved).contains("\"caPin\" : \"" + pin + "\"").contains("BEGIN CERTIFICATE");
        Cli.Run status = hubctl("status");
        assertThat(status.code()).as(status.err()).isZero();
        assertThat(status.out()).contains("TLS:      generated certificate").contains(pin);
    }

    @Test
    void withNoTerminalAndNoPinLoginRefusesAndShowsThePin() throws Exception {
        Cli.Run r = hubctl("--hub", url(), "login", "--token-file", tokenFile().toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains(hub.tls().caPin()).contains("--ca-pin");
        env.put("CI", "true");
        Cli.Run ci = hubctl("--hub", url(), "login", "--token-file", tokenFile().toString(), "-y");
        assertThat(ci.code()).isEqualTo(2);
        assertThat(ci.err()).contains("refused in CI");
        env.remove("CI");
        Cli.Run yes = hubctl("--hub", url(), "login", "--token-file", tokenFile().toString(), "-y");
        assertThat(yes.code()).as(yes.err()).isZero();
        assertThat(yes.err()).contains(hub.tls().caPin()).contains("Trusted (-y)");
    }

    @Test
    void loginAsksAtTheTerminalShowingThePin() throws Exception {
        Path home = dir.resolve("home");
        try (ShellSession s = new ShellSession(home, new HubctlCommand.Session(null, null, null, false, null)).start()) {
            s.type("login --hub " + url() + " --name lab --token-file " + tokenFile() + "\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.screen().contains("[y/N]"));
            assertThat(s.screen()).contains("pin:         " + hub.tls().caPin())
                    .contains("Compare the pin with what the hub's admin sees ('hubd ca show' on the hub)");
            s.type("y\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.screen().contains("context 'lab' is current"));
            s.type("status\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.screen().contains("TLS:      generated"));
            // Saying no saves nothing.
            s.type("login --hub " + url() + " --name other --token-file " + tokenFile() + "\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.screen().split("\\[y/N]", -1).length == 3);
            s.type("n\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.screen().contains("not trusted; nothing saved"));
        }
        String saved = Files.readString(home.resolve("config/hubctl/config"));
        assertThat(saved).contains("\"lab\"").doesNotContain("\"other\"");
    }

    @Test
    void aHubThatPresentsAnotherCaIsRefusedNeverReTrustedSilently() throws Exception {
        assertThat(hubctl("--hub", url(), "login", "--name", "prod", "--token-file", tokenFile().toString(),
                "--ca-pin", hub.tls().caPin()).code()).isZero();
        int port = hub.httpPort();
        String oldPin = hub.tls().caPin();
        hub.close();
        // Another hub, with its own CA, on the same address.
        hub = HubDaemon.start(HubConfig.defaults(dir.resolve("b")).withListeners(port, 0, null));
        String newPin = hub.tls().caPin();
        assertThat(newPin).isNotEqualTo(oldPin);

        Cli.Run status = hubctl("status");
        assertThat(status.code()).isEqualTo(1);
        assertThat(status.err()).contains("presents a certificate from a different CA (" + newPin + ")")
                .contains("context 'prod' trusts (" + oldPin + ")").contains("--ca-pin");
        Cli.Run again = hubctl("--hub", url(), "login", "--name", "prod", "--token-file", tokenFile().toString());
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("trusts CA " + oldPin).contains("now presents " + newPin);
        assertThat(hubctl("--hub", url(), "login", "--name", "prod", "--token-file", tokenFile().toString(), "-y")
                .code()).as("-y does not override a remembered CA").isEqualTo(1);
        // Only the new pin, given on purpose, moves the context to the new CA.
        Cli.Run moved = hubctl("--hub", url(), "login", "--name", "prod", "--token-file", tokenFile().toString(),
                "--ca-pin", newPin);
        assertThat(moved.code()).as(moved.err()).isZero();
        assertThat(hubctl("status").code()).isZero();
    }

    @Test
    void aPlainTextHubIsShownAsSuch() {
        try (HubDaemon plain = HubDaemon.start(HubConfig.defaults(dir.resolve("plain"))
                .withTls(HubConfig.Tls.insecurePlaintext()))) {
            Cli.Run status = hubctl("--hub", "http://127.0.0.1:" + plain.httpPort(), "--token", plain.adminToken(),
                    "status");
            assertThat(status.code()).as(status.err()).isZero();
            assertThat(status.out()).contains("TLS:      OFF (--insecure-plaintext)");
            Cli.Run token = hubctl("--hub", "http://127.0.0.1:" + plain.httpPort(), "--token", plain.adminToken(),
                    "tokens", "create");
            assertThat(token.err()).contains("--insecure-plaintext --join-token");
        }
    }
}

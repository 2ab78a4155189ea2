package hub.hubd;

import static org.assertj.core.api.Assertions.assertThat;

import hub.hubd.config.HubConfig;
import hub.tls.Pem;
import hub.tls.Pins;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code hubd ca show}: the CA and its pin, read from the data dir, as kubeadm computes pins. */
class CaCommandTest {
    @TempDir
    Path dir;

    private String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new HubdCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void printsTheCaAndItsPinAfterTheFirstStart() throws Exception {
        Path data = dir.resolve("data");
        String[] none = run("ca", "show", "--data-dir", data.toString());
        assertThat(none[0]).isEqualTo("1");
        assertThat(none[2]).contains("no hub CA in").contains("first start");

        String pin;
        java.security.cert.X509Certificate ca;
        try (HubDaemon hub = HubDaemon.start(HubConfig.defaults(data))) {
            pin = hub.tls().caPin();
            ca = hub.tls().caCertificate();
        }
        String[] shown = run("ca", "show", "--data-dir", data.toString());
        assertThat(shown[0]).isEqualTo("0");
        assertThat(Pem.certificates(shown[1])).containsExactly(ca);
        assertThat(shown[1]).contains("# pin: " + pin);
        // The pin is sha256 of the DER SubjectPublicKeyInfo, as RFC 7469 and kubeadm.
        byte[] spki = ca.getPublicKey().getEncoded();
        String expected = "sha256:" + HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(spki));
        assertThat(pin).isEqualTo(expected).isEqualTo(Pins.of(ca));
        String[] pinOnly = run("ca", "show", "--data-dir", data.toString(), "--pin");
        assertThat(pinOnly[1].strip()).isEqualTo(pin);
    }
}

package hub.hubd;

import hub.hubd.tls.HubTls;
import hub.tls.Pem;
import hub.tls.Pins;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code hubd ca show}: the certificate agents and hubctl trust this hub by, and its pin. */
@Command(name = "ca", mixinStandardHelpOptions = true, description = "The hub's CA.",
        subcommands = {CaCommand.Show.class})
final class CaCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code hubd ca show [--data-dir DIR] [--pin]}. */
    @Command(name = "show", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Print the CA certificate (PEM) agents and hubctl verify this hub with, and its pin",
                "(sha256: and the hex SHA-256 of its public key, as kubeadm and RFC 7469): what",
                "'hub-agent --ca-pin' and 'hubctl login --ca-pin' take. Reads the files only: hubd need not run."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:printed", "1:no CA yet (hubd makes it on first start), or it cannot be read"})
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "./hub-data",
                description = "The hub's data dir (its CA is in DIR/tls). Default: ${DEFAULT-VALUE}")
        Path dataDir;

        @Option(names = "--tls-cert", paramLabel = "FILE",
                description = "When hubd serves this chain (--tls-cert), show its last certificate instead.")
        Path tlsCert;

        @Option(names = "--pin", description = "Print only the pin.")
        boolean pinOnly;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            X509Certificate ca;
            try {
                if (tlsCert != null) {
                    List<X509Certificate> chain = Pem.certificates(tlsCert);
                    ca = chain.get(chain.size() - 1);
                } else {
                    ca = HubTls.readCa(dataDir.resolve("tls"));
                }
            } catch (RuntimeException e) {
                spec.commandLine().getErr().println("hubd: " + e.getMessage());
                spec.commandLine().getErr().flush();
                return 1;
            }
            if (pinOnly) {
                out.println(Pins.of(ca));
            } else {
                out.print(Pem.certificate(ca));
                out.println("# subject: " + ca.getSubjectX500Principal().getName());
                out.println("# valid until: " + ca.getNotAfter().toInstant());
                out.println("# pin: " + Pins.of(ca));
            }
            out.flush();
            return 0;
        }
    }
}

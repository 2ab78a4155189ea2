package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import hub.tls.HubTrust;
import hub.tls.Pem;
import hub.tls.Pins;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hubctl login}: decides whether to trust the hub, as ssh does a new host: it shows the pin of
 * the CA the hub presents and asks (or takes {@code --ca-pin}/{@code --ca-file}); then checks the API
 * token against the hub and saves hub, token and CA as a named context, made current. A context
 * that trusts one CA never silently moves to another: a hub presenting a different one is refused
 * unless the new pin is given.
 */
@Command(name = "login", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trust a hub, check an API token against it, and save both as a context made current.",
            "Over https it shows the pin of the CA the hub presents and asks whether to trust it, as ssh",
            "asks about a new host; --ca-pin or --ca-file answer that instead. The token is read from --token,",
            "--token-file, HUB_TOKEN, a prompt, or one line on stdin."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:logged in", "1:the hub refused the token, presented another CA than the context trusts, "
                + "or could not be reached", "2:usage error, or the CA was not trusted"})
final class LoginCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--name", paramLabel = "NAME",
            description = "The context's name. Default: the hub's host, with its port if not 80/443.")
    String name;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "Read the token from this file (e.g. a hub's admin.token).")
    Path tokenFile;

    @Option(names = "--ca-pin", paramLabel = "sha256:HEX",
            description = "Trust the certificate with this pin in the hub's chain (as 'hubd ca show' prints it), "
                    + "without asking.")
    String caPin;

    @Option(names = {"-y", "--yes"},
            description = "Trust the CA the hub presents without asking (its pin is printed). Refused when CI is "
                    + "set: give --ca-pin there.")
    boolean yes;

    @Override
    public Integer call() throws IOException {
        HubctlCommand root = HubctlCommand.root(spec);
        String hubUrl = root.hub != null ? root.hub : root.env.getOrDefault("HUB_URL", HubctlCommand.DEFAULT_HUB);
        URI hub = HubctlCommand.hubUri(hubUrl);
        String ctxName = name != null ? name : defaultName(hub);
        Contexts contexts = root.contexts();
        Contexts.Context existing = contexts.get(ctxName).orElse(null);
        X509Certificate ca = null;
        SSLContext tls = null;
        if ("https".equals(hub.getScheme())) {
            Path caFile = Trust.file(root.caFile != null ? root.caFile : root.env.get("HUB_CA"));
            ca = chooseCa(root, hub, caFile, existing);
            if (ca != null) {
                tls = HubTrust.context(HubTrust.anchoredTo(List.of(ca)), null);
            }
        } else if (caPin != null) {
            throw HubctlException.usage("--ca-pin needs an https:// hub");
        }
        String token = readToken(root);
        JsonNode status = new HubClient(hub, token, root.mapper(), tls).get("api/v1/status");
        contexts.put(new Contexts.Context(ctxName, hub.toString().replaceAll("/$", ""), token,
                ca == null ? null : Pem.certificate(ca), ca == null ? null : Pins.of(ca)));
        contexts.use(ctxName);
        contexts.save();
        root.done(spec, "logged in to " + hub + " as " + status.path("user").asText() + " ("
                + status.path("role").asText() + "); context '" + ctxName + "' is current, saved in "
                + contexts.file());
        if (root.structured()) {
            var o = root.mapper().createObjectNode().put("context", ctxName)
                    .put("hub", hub.toString()).put("user", status.path("user").asText())
                    .put("role", status.path("role").asText());
            if (ca != null) {
                o.put("caPin", Pins.of(ca));
            }
            root.printJson(spec.commandLine().getOut(), o);
        }
        return 0;
    }

    /**
     * The CA to save for {@code hub}, or null when the system's trust store verifies it (a public
     * certificate, nothing to remember).
     */
    private X509Certificate chooseCa(HubctlCommand root, URI hub, Path caFile, Contexts.Context existing) {
        if (caPin != null && caFile != null) {
            throw HubctlException.usage("give --ca-pin or --ca-file, not both");
        }
        List<X509Certificate> chain = presentedChain(hub);
        if (caFile != null) {
            List<X509Certificate> cas;
            try {
                cas = Pem.certificates(caFile);
            } catch (RuntimeException e) {
                throw HubctlException.usage("--ca-file/HUB_CA: " + e.getMessage());
            }
            return anchorIn(cas, chain);
        }
        if (caPin != null) {
            String pin;
            try {
                pin = Pins.parse(caPin);
            } catch (IllegalArgumentException e) {
                throw HubctlException.usage(e.getMessage());
            }
            for (X509Certificate c : chain) {
                if (Pins.of(c).equals(pin)) {
                    return c;
                }
            }
            throw HubctlException.hub("the hub at " + hub + " presents no certificate with pin " + pin + " (it "
                    + "presents " + HubTrust.describe(chain.toArray(X509Certificate[]::new)) + "); is it the right hub?");
        }
        X509Certificate top = chain.get(chain.size() - 1);
        if (existing != null && existing.ca() != null) {
            X509Certificate trusted = Trust.parse(existing.ca(), existing.name());
            if (chain.stream().anyMatch(c -> Pins.of(c).equals(Pins.of(trusted)))) {
                return trusted; // the CA this context already trusts
            }
            throw HubctlException.hub("context '" + existing.name() + "' trusts CA " + Pins.of(trusted) + ", but the "
                    + "hub at " + hub + " now presents " + Pins.of(top) + "; refusing to trust another CA silently. If "
                    + "the hub's CA was replaced on purpose, check the new pin with its admin ('hubd ca show') and "
                    + "run this again with --ca-pin " + Pins.of(top));
        }
        if (systemTrusts(chain)) {
            return null;
        }
        PrintWriter err = spec.commandLine().getErr();
        String about = "The hub at " + hub + " presents a certificate from a CA hubctl does not know:\n"
                + "  CA:          " + top.getSubjectX500Principal().getName() + "\n"
                + "  valid until: " + top.getNotAfter().toInstant() + "\n"
                + "  pin:         " + Pins.of(top) + "\n"
                + "Compare the pin with what the hub's admin sees ('hubd ca show' on the hub).";
        if (yes) {
            String ci = root.env.get("CI");
            if (ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false")) {
                throw HubctlException.usage("-y without a pin is refused in CI: give --ca-pin " + Pins.of(top)
                        + " (check it with 'hubd ca show' on the hub)");
            }
            err.println(about);
            err.println("Trusted (-y).");
            err.flush();
            return top;
        }
        Prompter p = root.prompter();
        if (p == null) {
            throw HubctlException.usage("the hub's CA (pin " + Pins.of(top) + ") is not trusted yet and there is no "
                    + "terminal to ask: check the pin with 'hubd ca show' on the hub and give --ca-pin");
        }
        err.println(about);
        err.flush();
        String answer = p.readLine("Trust this CA for " + hub + "? [y/N] ");
        if (answer == null || !List.of("y", "yes").contains(answer.strip().toLowerCase(Locale.ROOT))) {
            throw HubctlException.usage("not trusted; nothing saved");
        }
        return top;
    }

    /** The CA of {@code cas} the hub's chain leads to (the chain itself is verified by the token check). */
    private static X509Certificate anchorIn(List<X509Certificate> cas, List<X509Certificate> chain) {
        for (X509Certificate ca : cas) {
            for (X509Certificate c : chain) {
                if (Pins.of(c).equals(Pins.of(ca)) || c.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
                    return ca;
                }
            }
        }
        throw HubctlException.hub("no CA in --ca-file/HUB_CA signed the hub's certificate (it presents "
                + HubTrust.describe(chain.toArray(X509Certificate[]::new)) + ")");
    }

    /** Whether the JDK's trust store verifies the chain (a publicly trusted hub). */
    private static boolean systemTrusts(List<X509Certificate> chain) {
        try {
            HubTrust.system().checkServerTrusted(chain.toArray(X509Certificate[]::new),
                    chain.get(0).getPublicKey().getAlgorithm().equals("RSA") ? "RSA" : "ECDHE_ECDSA");
            return true;
        } catch (java.security.cert.CertificateException | RuntimeException e) {
            return false;
        }
    }

    /** The chain the hub presents, read with a handshake that trusts nothing and sends nothing. */
    private static List<X509Certificate> presentedChain(URI hub) {
        HubTrust.Recorder recorder = new HubTrust.Recorder();
        SSLContext ctx = HubTrust.context(recorder, null);
        int port = hub.getPort() == -1 ? 443 : hub.getPort();
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
            s.connect(new java.net.InetSocketAddress(hub.getHost(), port), 5000);
            s.setSoTimeout(10_000);
            s.startHandshake();
        } catch (java.net.ConnectException e) {
            throw HubctlException.unreachable("cannot reach the hub at " + hub + " (connection refused); is hubd "
                    + "running? (--hub or HUB_URL)");
        } catch (IOException e) {
            if (recorder.chain().isEmpty()) {
                throw HubClient.tlsFailure(hub, e);
            }
        }
        if (recorder.chain().isEmpty()) {
            throw HubctlException.hub("the hub at " + hub + " presented no certificate");
        }
        return recorder.chain();
    }

    private String readToken(HubctlCommand root) throws IOException {
        if (root.token != null && tokenFile != null) {
            throw HubctlException.usage("give --token or --token-file, not both");
        }
        if (root.token != null) {
            return root.token.strip();
        }
        if (tokenFile != null) {
            try {
                return nonEmpty(Files.readString(tokenFile).strip(), tokenFile.toString());
            } catch (IOException e) {
                throw HubctlException.usage("cannot read --token-file " + tokenFile + ": " + e.getMessage());
            }
        }
        String env = root.env.get("HUB_TOKEN");
        if (env != null && !env.isBlank()) {
            return env.strip();
        }
        Prompter p = root.prompter();
        if (p != null) {
            char[] typed = p.readPassword("API token for " + (root.hub != null ? root.hub : "the hub") + ": ");
            return nonEmpty(typed == null ? "" : new String(typed).strip(), "the prompt");
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line = in.readLine();
        return nonEmpty(line == null ? "" : line.strip(), "stdin");
    }

    private static String nonEmpty(String token, String from) {
        if (token.isEmpty()) {
            throw HubctlException.usage("no token in " + from);
        }
        return token;
    }

    static String defaultName(URI hub) {
        int port = hub.getPort();
        boolean standard = port == -1 || port == 80 && "http".equals(hub.getScheme())
                || port == 443 && "https".equals(hub.getScheme());
        return standard ? hub.getHost() : hub.getHost() + ":" + port;
    }
}

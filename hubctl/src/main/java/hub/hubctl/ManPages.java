package hub.hubctl;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.UsageMessageSpec;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/**
 * Build tool, not part of hubctl's runtime: writes hubctl's man pages (AsciiDoc, one per command and
 * subcommand) from the same command model the CLI runs, so they cannot drift from it. Every page has
 * EXIT STATUS and EXAMPLES sections ({@link Docs}); hubctl(1) has ENVIRONMENT too. The packaging
 * build runs it ({@code exec:java}, with picocli-codegen on its classpath) and renders the pages to
 * roff. Usage: {@code ManPages OUTDIR}.
 */
public final class ManPages {
    private static final String FOOTER_TAG = "// tag::picocli-generated-man-section-footer[]";

    private ManPages() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: ManPages OUTDIR");
        }
        File out = new File(args[0]);
        if (!out.isDirectory() && !out.mkdirs()) {
            throw new IOException("cannot create " + out);
        }
        CommandLine cli = HubctlMain.commandLine();
        headings(cli);
        // The root's help footer is its examples, then "Environment:" and its lines: a section of its own here.
        UsageMessageSpec root = cli.getCommandSpec().usageMessage();
        List<String> footer = Arrays.asList(root.footer());
        int env = footer.indexOf("Environment:");
        List<String> environment = env < 0 ? List.of() : footer.subList(env + 1, footer.size());
        if (env >= 0) {
            root.footer(footer.subList(0, env > 0 && footer.get(env - 1).isEmpty() ? env - 1 : env)
                    .toArray(String[]::new));
        }
        int code = ManPageGenerator.generateManPage(out, null, new boolean[0], true, cli.getCommandSpec());
        if (code != 0) {
            throw new IOException("picocli's man page generator failed with exit code " + code);
        }
        if (!environment.isEmpty()) {
            Path page = out.toPath().resolve("hubctl.adoc");
            String text = Files.readString(page, StandardCharsets.UTF_8);
            if (!text.contains(FOOTER_TAG)) {
                throw new IOException(page + " has no footer section to put ENVIRONMENT before");
            }
            StringBuilder section = new StringBuilder("== Environment\n\n[%hardbreaks]\n");
            environment.forEach(l -> section.append(l).append('\n'));
            Files.writeString(page, text.replace(FOOTER_TAG, section + "\n" + FOOTER_TAG), StandardCharsets.UTF_8);
        }
    }

    /** Section headings as man pages have them: "EXIT STATUS", not --help's "Exit status:". */
    private static void headings(CommandLine cli) {
        UsageMessageSpec u = cli.getCommandSpec().usageMessage();
        u.exitCodeListHeading(u.exitCodeListHeading().replace(":%n", "%n"));
        u.footerHeading(u.footerHeading().replace(":%n", "%n"));
        cli.getSubcommands().values().stream().distinct().forEach(ManPages::headings);
    }
}

package hub.hubctl;

import java.io.File;
import java.io.IOException;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/**
 * Build tool, not part of hubctl's runtime: writes hubctl's man pages (AsciiDoc, one per command and
 * subcommand) from the same command model the CLI runs, so they cannot drift from it. The packaging
 * build runs it ({@code exec:java}, with picocli-codegen on its classpath) and renders the pages to
 * roff. Usage: {@code ManPages OUTDIR}.
 */
public final class ManPages {
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
        int code = ManPageGenerator.generateManPage(out, null, new boolean[0], true,
                HubctlMain.commandLine().getCommandSpec());
        if (code != 0) {
            throw new IOException("picocli's man page generator failed with exit code " + code);
        }
    }
}

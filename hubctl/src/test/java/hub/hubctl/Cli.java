package hub.hubctl;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

/** Runs hubctl in-process against a hub, capturing stdout, stderr and the exit code. */
final class Cli {
    private Cli() {
    }

    /** One run's outcome. */
    record Run(int code, String out, String err) {
        com.fasterxml.jackson.databind.JsonNode json() throws java.io.IOException {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(out);
        }
    }

    static Run run(String url, String token, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cli = HubctlMain.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        List<String> all = new ArrayList<>(List.of("--hub", url, "--token", token));
        all.addAll(List.of(args));
        return new Run(cli.execute(all.toArray(String[]::new)), out.toString(), err.toString());
    }
}

package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hubctl audit [--since D] [--user U] [--node N] [-f]}: the hub's audit log (admins), oldest
 * first; {@code -f} then prints new entries as they are recorded, riding through hub restarts.
 */
@Command(name = "audit", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Show the audit log (admins): every change and command made through the hub, who made it, "
            + "from where, on what, and its result.",
            "Without --since, the latest --limit entries."})
final class AuditCommand implements Callable<Integer> {
    static final long POLL_MS = 1000;

    @Spec
    CommandSpec spec;

    @Option(names = "--since", paramLabel = "DURATION|TIME", description = "Only entries this recent (24h, 7d) or "
            + "since this RFC 3339 time.")
    String since;

    @Option(names = "--user", paramLabel = "USER", completionCandidates = LiveValues.Users.class,
            description = "Only entries made by this user name.")
    String user;

    @Option(names = "--node", paramLabel = "NODE", completionCandidates = LiveValues.Nodes.class,
            description = "Only entries about this node (id or name; a removed node by its id).")
    String node;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
            description = "At most this many entries (1-1000). Default: ${DEFAULT-VALUE}")
    int limit;

    @Option(names = {"-f", "--follow"}, description = "Then print new entries as they come, until interrupted.")
    boolean follow;

    @Override
    public Integer call() throws InterruptedException {
        if (limit < 1 || limit > 1000) {
            throw HubctlException.usage("--limit must be between 1 and 1000");
        }
        HubctlCommand root = HubctlCommand.root(spec);
        HubClient client = root.client();
        PrintWriter out = spec.commandLine().getOut();
        boolean json = root.output() == HubctlCommand.Output.json;
        JsonNode page = client.get("api/v1/audit?" + query(null));
        long next = page.path("next").asLong();
        List<JsonNode> rows = new ArrayList<>();
        page.path("items").forEach(rows::add);
        if (json && !follow) {
            root.printJson(out, page);
            return 0;
        }
        if (!follow) {
            Table t = new Table(HEADERS);
            rows.forEach(r -> t.row(cells(r)));
            t.styled(root).print(out);
            return 0;
        }
        Table.Aligned aligned = new Table.Aligned(HEADERS, out, root.colors());
        print(rows, json, aligned, out);
        ExecCommand.RideThrough outage = new ExecCommand.RideThrough(spec.commandLine().getErr());
        while (!Thread.currentThread().isInterrupted()) {
            Thread.sleep(POLL_MS);
            try {
                page = client.get("api/v1/audit?" + query(next));
                outage.recovered();
            } catch (HubctlException e) {
                if (e.exitCode() == ExitCodes.INTERRUPTED) {
                    return 0;
                }
                if (!e.isTransient()) {
                    throw e;
                }
                outage.failed(e);
                continue;
            }
            rows.clear();
            page.path("items").forEach(rows::add);
            next = page.path("next").asLong(next);
            print(rows, json, aligned, out);
        }
        return 0;
    }

    private String query(Long after) {
        List<String> q = new ArrayList<>();
        q.add("limit=" + limit);
        if (after != null) {
            q.add("after=" + after);
        }
        if (since != null) {
            q.add("since=" + HubClient.enc(since));
        }
        if (user != null) {
            q.add("user=" + HubClient.enc(user));
        }
        if (node != null) {
            q.add("node=" + HubClient.enc(node));
        }
        return String.join("&", q);
    }

    static final List<String> HEADERS = List.of("SEQ", "TIME", "USER", "FROM", "ACTION", "TARGET", "RESULT", "DETAIL");

    private static List<String> cells(JsonNode r) {
        return List.of(Format.text(r, "seq"), Format.text(r, "at"), Format.text(r, "userName"),
                Format.text(r, "remoteAddr"), Format.text(r, "action"), Format.text(r, "target"),
                Format.text(r, "result") + " " + Format.text(r, "status"), Format.text(r, "detail"));
    }

    /** While following: rows as they come, or one JSON object per line. */
    private static void print(List<JsonNode> rows, boolean json, Table.Aligned aligned, PrintWriter out) {
        if (json) {
            rows.forEach(r -> out.println(r.toString()));
            out.flush();
            return;
        }
        rows.forEach(r -> aligned.print(cells(r)));
    }
}

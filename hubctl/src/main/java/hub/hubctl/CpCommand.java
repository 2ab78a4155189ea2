package hub.hubctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hubctl cp SRC DST}: copies files between this machine and nodes through the hub, as scp
 * does: {@code ./file NODE:/path}, {@code NODE:/path ./file}, directories with {@code -r}, to or
 * from every node a selector matches with {@code -l} (the remote side written {@code :/path}),
 * {@code --parallel} at a time. Every file is SHA-256 checked end to end and resumed after a
 * dropped connection or a hub restart ({@link FileCopier}).
 */
@Command(name = "cp", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Copy files to or from nodes, through the hub (no inbound port on the node).",
            "SRC and DST: a local path, or NODE:/ABSOLUTE/PATH. To a directory that exists on the node the "
                    + "file goes inside it under its name, as cp does. With -r, DST is the copy of the "
                    + "directory (its contents merged into one that exists); a DST ending in / gets the "
                    + "directory inside it. With -l or --all the remote side is :/PATH and the copy goes to "
                    + "(or comes from: into DST/NODE/) every node matched, --parallel at a time; one file to "
                    + "many nodes is a run ('hubctl runs show ID').",
            "Each file is checked by SHA-256 end to end and written under a temporary name, then renamed: "
                    + "a reader never sees half a file. A dropped connection or a hub restart is retried "
                    + "for --retry-for and resumes where it stopped. Needs operator on the node."})
final class CpCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SRC", description = "./local/path or NODE:/path (:/path with -l).")
    String source;

    @Parameters(index = "1", paramLabel = "DST", description = "./local/path or NODE:/path (:/path with -l).")
    String destination;

    @Option(names = {"-r", "--recursive"}, description = "Copy directories, with everything in them.")
    boolean recursive;

    @Option(names = {"-p", "--preserve"}, description = "Keep each file's mode, time, owner and group (owner "
            + "and group by name; on this machine only when hubctl runs as root). Without it a new file gets "
            + "the source's mode less group and other write.")
    boolean preserve;

    @Option(names = {"-u", "--user"}, paramLabel = "USER",
            description = "Read and write as this local user on the node (the agent's default otherwise; the "
                    + "node's agent.conf decides which it allows, as for exec). With it, -p keeps mode and time.")
    String user;

    @Option(names = {"-l", "--label"}, paramLabel = "SELECTOR", completionCandidates = LiveValues.Labels.class,
            description = "Copy to (or from) every node whose labels match: " + Selectors.HELP)
    List<String> labels;

    @Option(names = "--all", description = "Copy to (or from) every node you may copy to.")
    boolean all;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "10",
            description = "With -l or --all: copy to this many nodes at once. Default: ${DEFAULT-VALUE}")
    int parallel;

    @Option(names = "--max-errors", paramLabel = "N|P%",
            description = "With -l or --all: start no further node once more than this many (or this share) "
                    + "failed; the rest are skipped. Default: no limit.")
    String maxErrors;

    @Option(names = "--retry-for", paramLabel = "DURATION", defaultValue = "2m",
            description = "Keep retrying (and resuming) a copy this long while the hub or node is unreachable, "
                    + "e.g. 30s, 5m; 0 never retries. Default: ${DEFAULT-VALUE}")
    String retryFor;

    @Option(names = {"-q", "--quiet"}, description = "No progress on stderr.")
    boolean quiet;

    /** One side of the copy. */
    record Side(String node, String path) {
        boolean remote() {
            return node != null;
        }

        /** NODE:/path (NODE may be empty: -l) is remote; anything with a / before its first : is local. */
        static Side parse(String s) {
            int colon = s.indexOf(':');
            int slash = s.indexOf('/');
            if (colon < 0 || slash >= 0 && slash < colon) {
                return new Side(null, s);
            }
            return new Side(s.substring(0, colon), s.substring(colon + 1));
        }
    }

    @Override
    public Integer call() throws Exception {
        Side src = Side.parse(source);
        Side dst = Side.parse(destination);
        if (src.remote() == dst.remote()) {
            throw HubctlException.usage(src.remote() ? "copy between two nodes is not supported: copy to here, "
                    + "then to the other node" : "one of SRC and DST must be a node's path: NODE:/path");
        }
        Side remote = src.remote() ? src : dst;
        String selector = labels == null ? null : Selectors.join(labels);
        boolean fleet = selector != null || all;
        if (selector != null && all) {
            throw HubctlException.usage("give -l SELECTOR or --all, not both");
        }
        if (fleet != remote.node().isEmpty()) {
            throw HubctlException.usage(fleet ? "with -l or --all, write the node's side as :/PATH (no node name)"
                    : "no node before ':' in '" + (src.remote() ? source : destination) + "' (NODE:/PATH)");
        }
        if (!remote.path().startsWith("/")) {
            throw HubctlException.usage("the node's path must be absolute: " + remote.node() + ":/"
                    + remote.path());
        }
        if (parallel < 1) {
            throw HubctlException.usage("--parallel must be at least 1");
        }
        Duration retry = duration(retryFor);
        HubctlCommand root = HubctlCommand.root(spec);
        PrintWriter err = spec.commandLine().getErr();
        FileCopier copier = new FileCopier(root.client(), root.mapper(), retry, user,
                why -> err.println("hubctl: " + why + "; retrying"));
        Path local = Path.of(src.remote() ? dst.path() : src.path());
        if (!src.remote()) {
            if (!Files.exists(local)) {
                throw HubctlException.usage("no such file or directory: " + local);
            }
            if (Files.isDirectory(local) && !recursive) {
                throw HubctlException.usage(local + " is a directory (copy it with -r)");
            }
        }
        if (!fleet) {
            Progress progress = quiet || System.console() == null ? Progress.NONE : new Progress(err);
            String summary = copy(copier, remote.node(), src.remote(), local, remote.path(), progress);
            progress.done();
            if (!quiet && progress != Progress.NONE) {
                err.println(summary);
            }
            return ExitCodes.OK;
        }
        return fleet(root, copier, selector, src.remote(), local, remote.path(), err);
    }

    /** Copies for one node; a line that says what was copied. */
    private String copy(FileCopier copier, String node, boolean pull, Path local, String remote,
            Progress progress) throws IOException {
        if (pull) {
            return recursive ? pullTree(copier, node, remote, local, progress) : pullFile(copier, node, remote, local,
                    progress);
        }
        if (Files.isDirectory(local)) {
            return pushTree(copier, node, local, remote, progress);
        }
        copier.check(node, remote, local.getFileName().toString(), Files.size(local));
        return pushFile(copier, node, local, FileCopier.sha256(local), remote, progress);
    }

    private String pushFile(FileCopier copier, String node, Path local, String sha, String remote,
            Progress progress) throws IOException {
        FileCopier.Meta meta = FileCopier.Meta.of(local);
        progress.start(local.getFileName().toString(), meta.size());
        FileCopier.Copied c = copier.push(node, local, sha, meta, remote, preserve, progress);
        return describe(node + ":" + c.path(), c);
    }

    private String pullFile(FileCopier copier, String node, String remote, Path local, Progress progress) {
        Path target = Files.isDirectory(local) ? local.resolve(baseName(remote)) : local;
        if (target.getParent() != null && !Files.isDirectory(target.toAbsolutePath().getParent())) {
            throw HubctlException.usage("no directory " + target.toAbsolutePath().getParent() + " here");
        }
        progress.start(baseName(remote), -1);
        FileCopier.Copied c = copier.pull(node, remote, target, preserve, progress);
        return describe(c.path(), c);
    }

    private String pushTree(FileCopier copier, String node, Path top, String remote, Progress progress)
            throws IOException {
        String base = remote.endsWith("/") ? remote + top.toAbsolutePath().normalize().getFileName() : remote;
        long[] totals = new long[2];
        Files.walkFileTree(top, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                FileCopier.Meta m = FileCopier.Meta.of(dir);
                copier.mkdir(node, join(base, top.relativize(dir)), preserve ? m.mode() : m.mode() & 0755,
                        preserve ? m.owner() : null, m.group());
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (!attrs.isRegularFile()) {
                    spec.commandLine().getErr().println("hubctl: skipped " + file + " (not a regular file)");
                    return FileVisitResult.CONTINUE;
                }
                FileCopier.Meta m = FileCopier.Meta.of(file);
                progress.start(top.relativize(file).toString(), m.size());
                copier.push(node, file, FileCopier.sha256(file), m, join(base, top.relativize(file)), preserve,
                        progress);
                totals[0]++;
                totals[1] += m.size();
                return FileVisitResult.CONTINUE;
            }
        });
        return node + ":" + base + ": " + totals[0] + " files, " + bytes(totals[1]);
    }

    private String pullTree(FileCopier copier, String node, String remote, Path local, Progress progress)
            throws IOException {
        String name = baseName(remote);
        Path top = destination.endsWith("/") && !name.isEmpty() ? local.resolve(name) : local;
        Files.createDirectories(top);
        long files = 0;
        long total = 0;
        String from = remote.endsWith("/") && remote.length() > 1 ? remote.substring(0, remote.length() - 1) : remote;
        for (FileCopier.Entry e : copier.tree(node, from)) {
            Path p = top.resolve(e.path());
            switch (e.type()) {
                case "directory" -> {
                    Files.createDirectories(p);
                    if (preserve) {
                        Files.setPosixFilePermissions(p, FileCopier.permissions(e.mode()));
                    }
                }
                case "file" -> {
                    progress.start(e.path(), e.size());
                    copier.pull(node, from + "/" + e.path(), p, preserve, progress);
                    files++;
                    total += e.size();
                }
                default -> spec.commandLine().getErr().println("hubctl: skipped " + node + ":" + from + "/"
                        + e.path() + " (" + e.type() + ")");
            }
        }
        return top + ": " + files + " files, " + bytes(total);
    }

    /** To or from many nodes: one line per node on stdout, a summary on stderr; exit 1 if any failed. */
    private int fleet(HubctlCommand root, FileCopier copier, String selector, boolean pull, Path local,
            String remote, PrintWriter err) throws InterruptedException {
        if (pull && (!Files.isDirectory(local))) {
            throw HubctlException.usage("from several nodes, DST must be a directory here: each node's copy goes "
                    + "into DST/NODE/");
        }
        if (maxErrors != null) {
            count(maxErrors, 1, "--max-errors"); // its form, before anything is sent
        }
        if (!pull && Files.isRegularFile(local)) {
            return copyRun(root, copier, selector, local, remote, err);
        }
        JsonNode list = root.client().get("api/v1/nodes" + (selector == null ? "" : "?label="
                + HubClient.enc(selector)));
        List<JsonNode> nodes = new ArrayList<>();
        list.path("items").forEach(nodes::add);
        if (nodes.isEmpty()) {
            throw HubctlException.hub(selector == null ? "no nodes" : "no nodes match " + selector);
        }
        String sha = null;
        if (!pull && Files.isRegularFile(local)) {
            try {
                sha = FileCopier.sha256(local); // once, for every node
            } catch (IOException e) {
                throw HubctlException.hub("cannot read " + local + ": " + e.getMessage());
            }
        }
        String fileSha = sha;
        PrintWriter out = spec.commandLine().getOut();
        int allowed = maxErrors == null ? Integer.MAX_VALUE : count(maxErrors, nodes.size(), "--max-errors");
        java.util.concurrent.atomic.AtomicInteger failedSoFar = new java.util.concurrent.atomic.AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallel, nodes.size()));
        var done = new java.util.concurrent.ExecutorCompletionService<String>(pool);
        Map<Future<String>, String> names = new java.util.HashMap<>();
        for (JsonNode n : nodes) {
            String name = n.path("name").asText();
            String id = n.path("id").asText();
            boolean online = "online".equals(n.path("status").asText());
            names.put(done.submit(() -> {
                if (failedSoFar.get() > allowed) {
                    throw new Skipped();
                }
                try {
                    return copyTo(copier, name, id, online, fileSha, pull, local, remote);
                } catch (RuntimeException | IOException e) {
                    failedSoFar.incrementAndGet();
                    throw e;
                }
            }), name);
        }
        pool.shutdown();
        int failed = 0;
        int skipped = 0;
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            Future<String> f = done.take();
            String name = names.get(f);
            String line;
            try {
                line = name + ": ok " + f.get();
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof Skipped) {
                    skipped++;
                    line = name + ": skipped (more than " + maxErrors + " failed)";
                } else {
                    failed++;
                    failures.add(name);
                    line = name + ": failed: " + (e.getCause() instanceof HubctlException he ? he.getMessage()
                            : String.valueOf(e.getCause()));
                }
            }
            out.println(line);
            out.flush();
        }
        java.util.Collections.sort(failures);
        err.println("copied " + (pull ? "from " : "to ") + (nodes.size() - failed - skipped) + " of " + nodes.size()
                + " nodes" + (failed == 0 ? "" : "; failed: " + String.join(", ", failures))
                + (skipped == 0 ? "" : "; skipped: " + skipped));
        return failed == 0 && skipped == 0 ? ExitCodes.OK : ExitCodes.HUB_ERROR;
    }

    /**
     * One file to many nodes, as a run: the hub resolves the nodes, records each node's outcome from
     * the transfer it relays, enforces --parallel and stops the run past --max-errors ({@code hubctl
     * runs show ID}); hubctl sends the file to each node in turn.
     */
    private int copyRun(HubctlCommand root, FileCopier copier, String selector, Path local, String remote,
            PrintWriter err) throws InterruptedException {
        String sha;
        FileCopier.Meta meta;
        try {
            meta = FileCopier.Meta.of(local);
            sha = FileCopier.sha256(local); // once, for every node
        } catch (IOException e) {
            throw HubctlException.hub("cannot read " + local + ": " + e.getMessage());
        }
        Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("copy", Map.of("path", remote, "name", local.getFileName().toString(), "size", meta.size(),
                "sha256", sha));
        if (selector != null) {
            body.put("selector", selector);
        } else {
            body.put("all", true);
        }
        body.put("parallel", Integer.toString(parallel));
        body.put("maxErrors", maxErrors == null ? "100%" : maxErrors);
        if (user != null) {
            body.put("user", user);
        }
        JsonNode run = root.client().post("api/v1/runs", body);
        String id = run.path("id").asText();
        List<JsonNode> nodes = new ArrayList<>();
        run.path("nodes").forEach(nodes::add);
        err.println("hubctl: run " + id + ": copying " + local.getFileName() + " to " + nodes.size() + " node(s)");
        err.flush();
        PrintWriter out = spec.commandLine().getOut();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallel, Math.max(1, nodes.size())));
        var done = new java.util.concurrent.ExecutorCompletionService<String>(pool);
        int submitted = 0;
        for (JsonNode n : nodes) {
            String name = n.path("name").asText();
            String nodeId = n.path("node").asText();
            if (!"pending".equals(n.path("outcome").asText())) {
                out.println(name + ": " + n.path("outcome").asText());
                continue;
            }
            submitted++;
            done.submit(() -> {
                try {
                    FileCopier.Copied c = copier.push(nodeId, local, sha, meta, remote, preserve, Progress.NONE, id);
                    return name + ": ok " + describe(name + ":" + c.path(), c);
                } catch (HubctlException e) {
                    return name + (e.status() == 409 && e.getMessage().contains("copies to no more nodes")
                            ? ": skipped (" + e.getMessage() + ")" : ": failed: " + e.getMessage());
                }
            });
        }
        pool.shutdown();
        try {
            for (int i = 0; i < submitted; i++) {
                out.println(done.take().get());
                out.flush();
            }
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        }
        JsonNode end = root.client().get("api/v1/runs/" + HubClient.enc(id));
        if ("running".equals(end.path("state").asText())) {
            // nodes left pending (a copy that stayed unreachable): the run ends with them skipped
            end = root.client().post("api/v1/runs/" + HubClient.enc(id) + "/cancel", Map.of());
        }
        JsonNode counts = end.path("counts");
        int ok = counts.path("ok").asInt();
        List<String> failed = new ArrayList<>();
        end.path("nodes").forEach(n -> {
            if ("failed".equals(n.path("outcome").asText())) {
                failed.add(n.path("name").asText());
            }
        });
        java.util.Collections.sort(failed);
        StringBuilder summary = new StringBuilder("run " + id + " " + end.path("state").asText() + ": copied to "
                + ok + " of " + nodes.size() + " nodes");
        if (!failed.isEmpty()) {
            summary.append("; failed: ").append(String.join(", ", failed));
        }
        for (String o : List.of("skipped", "offline", "pending", "running", "cancelled")) {
            if (counts.path(o).asInt() > 0) {
                summary.append("; ").append(o).append(": ").append(counts.path(o).asInt());
            }
        }
        err.println(summary);
        return ok == nodes.size() ? ExitCodes.OK : ExitCodes.HUB_ERROR;
    }

    /** A node not started because too many had failed. */
    private static final class Skipped extends RuntimeException {
        Skipped() {
            super(null, null, false, false);
        }
    }

    /** N, or P% of {@code total} (rounded down). */
    static int count(String v, int total, String option) {
        var m = java.util.regex.Pattern.compile("([0-9]{1,6})(%?)").matcher(v.strip());
        if (!m.matches() || m.group(2).equals("%") && Integer.parseInt(m.group(1)) > 100) {
            throw HubctlException.usage(option + " must be a count or a percentage (5, 10%), not '" + v + "'");
        }
        int n = Integer.parseInt(m.group(1));
        return m.group(2).isEmpty() ? n : total * n / 100;
    }

    /** One node of a copy to or from several: a line that says what was copied. */
    private String copyTo(FileCopier copier, String name, String id, boolean online, String fileSha, boolean pull,
            Path local, String remote) throws IOException {
        if (!online) {
            throw HubctlException.hub("offline");
        }
        if (fileSha != null) {
            return pushFile(copier, id, local, fileSha, remote, Progress.NONE).replace(id + ":", name + ":");
        }
        if (pull) {
            Path into = local.resolve(name);
            Files.createDirectories(into);
            return recursive ? pullTree(copier, id, remote, into, Progress.NONE)
                    : pullFile(copier, id, remote, into, Progress.NONE);
        }
        return pushTree(copier, id, local, remote, Progress.NONE).replace(id + ":", name + ":");
    }

    private static String describe(String where, FileCopier.Copied c) {
        return where + " (" + bytes(c.size()) + ", sha256 " + c.sha256().substring(0, Math.min(16,
                c.sha256().length())) + (c.resumedAt() > 0 ? ", resumed at " + bytes(c.resumedAt()) : "") + ")";
    }

    private static String join(String base, Path rel) {
        String r = rel.toString();
        if (r.isEmpty()) {
            return base;
        }
        return (base.endsWith("/") ? base : base + "/") + r.replace('\\', '/');
    }

    private static String baseName(String remote) {
        String r = remote.endsWith("/") && remote.length() > 1 ? remote.substring(0, remote.length() - 1) : remote;
        return r.substring(r.lastIndexOf('/') + 1);
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] u = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int i = -1;
        while (v >= 1024 && i < u.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, u[i]);
    }

    /** 90s, 5m, 1h, 0. */
    static Duration duration(String s) {
        var m = java.util.regex.Pattern.compile("(\\d{1,9})(ms|s|m|h)?").matcher(s.strip());
        if (!m.matches()) {
            throw HubctlException.usage("--retry-for must be a duration such as 30s, 5m or 1h, not '" + s + "'");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
        };
    }

    /** A progress line on stderr for one copy at a time (a terminal only), at most four times a second. */
    static class Progress implements FileCopier.Progress {
        static final Progress NONE = new Progress(null);
        private final PrintWriter err;
        private String name;
        private long size;
        private long startNanos;
        private final AtomicLong lastPrint = new AtomicLong();

        Progress(PrintWriter err) {
            this.err = err;
        }

        @Override
        public void size(long bytes) {
            this.size = bytes;
        }

        void start(String name, long size) {
            this.name = name;
            this.size = size;
            this.startNanos = System.nanoTime();
        }

        @Override
        public void accept(long pos) {
            if (err == null) {
                return;
            }
            long now = System.nanoTime();
            if (now - lastPrint.get() < 250_000_000L) {
                return;
            }
            lastPrint.set(now);
            double secs = Math.max(1e-3, (now - startNanos) / 1e9);
            err.print("\r" + name + "  " + bytes(pos) + (size > 0 ? String.format(Locale.ROOT, "  %3d%%",
                    pos * 100 / size) : "") + "  " + bytes((long) (pos / secs)) + "/s\033[K");
            err.flush();
        }

        void done() {
            if (err != null) {
                err.print("\r\033[K");
                err.flush();
            }
        }
    }
}

package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.agent.AgentConnection;
import hub.agent.AgentIdentity;
import hub.agent.Backoff;
import hub.agent.CredentialStore;
import hub.agent.IdentityStore;
import hub.hubd.HubDaemon;
import hub.hubd.TestTls;
import hub.hubd.config.HubConfig;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hubctl cp} against a real hub and real agents (TLS, loopback): files of 1 byte, 10 MiB
 * and 1 GiB (sparse) both ways with equal hashes, directories with -r and -p, the errors a user
 * meets, 50 nodes at once, and a copy that resumes after the hub restarts in the middle of it.
 */
class CpTest {
    private static Path random(Path dir, String name, int size, long seed) throws Exception {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return Files.write(dir.resolve(name), b);
    }

    /** A sparse file of {@code size} with a few random blocks in it, so it is not all zeros. */
    private static Path sparse(Path dir, String name, long size) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
            Random r = new Random(7);
            for (long at : new long[] {0, size / 3, size / 2 + 12345, size - 4096}) {
                byte[] b = new byte[4096];
                r.nextBytes(b);
                f.seek(at);
                f.write(b);
            }
        }
        return p;
    }

    @Test
    void roundTripsFilesOfOneByteTenMibAndOneGibWithEqualHashes(@TempDir Path dir) throws Exception {
        try (TestHub hub = new TestHub(dir)) {
            hub.agent("n1");
            Path remote = Files.createDirectories(dir.resolve("on-node"));
            Path back = Files.createDirectories(dir.resolve("back"));
            List<Path> files = List.of(random(dir, "one", 1, 1), random(dir, "ten", 10 << 20, 2),
                    sparse(dir, "gib", 1L << 30), random(dir, "empty", 0, 3));
            for (Path f : files) {
                Cli.Run up = Cli.run(hub.url, hub.token, "cp", f.toString(), "n1:" + remote + "/");
                assertThat(up.code()).as(up.err()).isZero();
                Path there = remote.resolve(f.getFileName());
                assertThat(FileCopier.sha256(there)).isEqualTo(FileCopier.sha256(f));

                Cli.Run down = Cli.run(hub.url, hub.token, "cp", "n1:" + there, back.toString());
                assertThat(down.code()).as(down.err()).isZero();
                Path got = back.resolve(f.getFileName());
                assertThat(Files.size(got)).isEqualTo(Files.size(f));
                assertThat(FileCopier.sha256(got)).isEqualTo(FileCopier.sha256(f));
            }
            try (Stream<Path> left = Files.list(remote)) {
                assertThat(left.map(p -> p.getFileName().toString())).as("no partial files left behind")
                        .noneMatch(n -> n.contains("hubpart"));
            }
            // Named target, over an existing file, and what the audit kept.
            Path named = remote.resolve("renamed.bin");
            Files.writeString(named, "old contents");
            assertThat(Cli.run(hub.url, hub.token, "cp", files.get(1).toString(), "n1:" + named).code()).isZero();
            assertThat(FileCopier.sha256(named)).isEqualTo(FileCopier.sha256(files.get(1)));
            Cli.Run audit = Cli.run(hub.url, hub.token, "audit", "-o", "json");
            assertThat(audit.out()).contains("write " + named);
            assertThat(Cli.run(hub.url, hub.token, "audit", "-o", "json").out())
                    .contains("read " + remote.resolve("ten"));
        }
    }

    @Test
    void copiesDirectoriesWithModesAndTimesAndSaysWhatWentWrong(@TempDir Path dir) throws Exception {
        try (TestHub hub = new TestHub(dir)) {
            hub.agent("n1");
            Path src = Files.createDirectories(dir.resolve("site/css/deep"));
            src = dir.resolve("site");
            random(src, "index.html", 5000, 4);
            Path script = random(src.resolve("css"), "run.sh", 300, 5);
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-x---"));
            Files.setLastModifiedTime(script, FileTime.fromMillis(1_600_000_000_000L));
            random(src.resolve("css/deep"), "x.css", 70_000, 6);
            Path remote = dir.resolve("srv/www");
            Files.createDirectories(remote.getParent());

            Cli.Run r = Cli.run(hub.url, hub.token, "cp", "-r", "-p", src.toString(), "n1:" + remote);
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(FileCopier.sha256(remote.resolve("css/deep/x.css")))
                    .isEqualTo(FileCopier.sha256(src.resolve("css/deep/x.css")));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(remote.resolve("css/run.sh"))))
                    .isEqualTo("rwxr-x---");
            assertThat(Files.getLastModifiedTime(remote.resolve("css/run.sh")).toMillis()).isEqualTo(1_600_000_000_000L);

            Path back = dir.resolve("back");
            Files.createDirectories(back);
            Cli.Run down = Cli.run(hub.url, hub.token, "cp", "-r", "-p", "n1:" + remote, back + "/");
            assertThat(down.code()).as(down.err()).isZero();
            assertThat(FileCopier.sha256(back.resolve("www/index.html")))
                    .isEqualTo(FileCopier.sha256(src.resolve("index.html")));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(back.resolve("www/css/run.sh"))))
                    .isEqualTo("rwxr-x---");

            // What a user gets wrong, and what the node refuses: one line, a documented code.
            Cli.Run noDir = Cli.run(hub.url, hub.token, "cp", src.toString(), "n1:/tmp/");
            assertThat(noDir.code()).isEqualTo(ExitCodes.USAGE);
            assertThat(noDir.err()).contains("is a directory (copy it with -r)");
            Cli.Run missingLocal = Cli.run(hub.url, hub.token, "cp", dir.resolve("nope").toString(), "n1:/tmp/");
            assertThat(missingLocal.code()).isEqualTo(ExitCodes.USAGE);
            assertThat(missingLocal.err()).contains("no such file or directory");
            Cli.Run missingRemote = Cli.run(hub.url, hub.token, "cp", "n1:" + dir.resolve("nope"), back.toString());
            assertThat(missingRemote.code()).isEqualTo(ExitCodes.HUB_ERROR);
            assertThat(missingRemote.err()).contains("no such file or directory: " + dir.resolve("nope"));
            Cli.Run noParent = Cli.run(hub.url, hub.token, "cp", script.toString(), "n1:" + dir.resolve("a/b/c"));
            assertThat(noParent.code()).isEqualTo(ExitCodes.HUB_ERROR);
            assertThat(noParent.err()).contains("no directory " + dir.resolve("a/b"));
            Cli.Run denied = Cli.run(hub.url, hub.token, "cp", script.toString(), "n1:/sys/hub-cp-test");
            assertThat(denied.code()).isEqualTo(ExitCodes.HUB_ERROR);
            assertThat(denied.err()).contains("permission denied: /sys/hub-cp-test");
            Path huge = sparse(dir, "huge", 1L << 43); // 8 TiB: more than this disk has (ext4 takes up to 16)
            Cli.Run full = Cli.run(hub.url, hub.token, "cp", huge.toString(), "n1:" + dir.resolve("on-node-huge"));
            assertThat(full.code()).isEqualTo(ExitCodes.HUB_ERROR);
            assertThat(full.err()).contains("not enough space on the node").contains("8.0 TiB to write");
            Cli.Run relative = Cli.run(hub.url, hub.token, "cp", script.toString(), "n1:tmp/x");
            assertThat(relative.code()).isEqualTo(ExitCodes.USAGE);
            assertThat(relative.err()).contains("must be absolute");
            Cli.Run twoNodes = Cli.run(hub.url, hub.token, "cp", "n1:/etc/hostname", "n2:/tmp/x");
            assertThat(twoNodes.code()).isEqualTo(ExitCodes.USAGE);
            Cli.Run unknown = Cli.run(hub.url, hub.token, "cp", script.toString(), "nobody:/tmp/x");
            assertThat(unknown.code()).isEqualTo(ExitCodes.HUB_ERROR);
            assertThat(unknown.err()).contains("nobody");
        }
    }

    @Test
    void copiesAsAnotherLocalUserWithThatUsersRights(@TempDir Path dir) throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (TestHub hub = new TestHub(dir)) {
            hub.agent("n1");
            Path shared = Files.createDirectories(dir.resolve("shared"));
            Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
            Path f = random(dir, "report.bin", 2 << 20, 11);
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
            Cli.Run up = Cli.run(hub.url, hub.token, "cp", "-u", "nobody", "-p", f.toString(), "n1:" + shared + "/");
            if (!"root".equals(System.getProperty("user.name"))) {
                assertThat(up.code()).isEqualTo(ExitCodes.HUB_ERROR);
                assertThat(up.err()).contains("cannot run tasks as nobody");
                return;
            }
            assertThat(up.code()).as(up.err()).isZero();
            Path there = shared.resolve("report.bin");
            assertThat(Files.getOwner(there).getName()).isEqualTo("nobody");
            assertThat(FileCopier.sha256(there)).isEqualTo(FileCopier.sha256(f));
            assertThat(Files.getLastModifiedTime(there).toMillis() / 1000)
                    .isEqualTo(Files.getLastModifiedTime(f).toMillis() / 1000);

            // The kernel decides, as for that user's own commands.
            Path closed = Files.createDirectories(dir.resolve("closed"));
            Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
            Cli.Run refused = Cli.run(hub.url, hub.token, "cp", "-u", "nobody", f.toString(), "n1:" + closed + "/");
            assertThat(refused.code()).isEqualTo(ExitCodes.HUB_ERROR);
            assertThat(refused.err()).contains("permission denied").contains("(as nobody)");
            Path secret = Files.writeString(dir.resolve("secret"), "root only\n");
            Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
            Path back = Files.createDirectories(dir.resolve("back"));
            Cli.Run unreadable = Cli.run(hub.url, hub.token, "cp", "-u", "nobody", "n1:" + secret, back.toString());
            assertThat(unreadable.code()).isEqualTo(ExitCodes.HUB_ERROR);
            assertThat(unreadable.err()).contains("permission denied: " + secret + " (as nobody)");
            assertThat(back.resolve("secret")).doesNotExist();

            Cli.Run down = Cli.run(hub.url, hub.token, "cp", "-u", "nobody", "-r", "n1:" + shared, back + "/");
            assertThat(down.code()).as(down.err()).isZero();
            assertThat(FileCopier.sha256(back.resolve("shared/report.bin"))).isEqualTo(FileCopier.sha256(f));
            assertThat(Cli.run(hub.url, hub.token, "audit", "-o", "json").out()).contains("as nobody: write " + shared);
        }
    }

    @Test
    void copiesToAndFromFiftyNodesAtOnce(@TempDir Path dir) throws Exception {
        ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
        List<AgentConnection> agents = new ArrayList<>();
        try (TestHub hub = new TestHub(dir)) {
            String token = Cli.run(hub.url, hub.token, "tokens", "create", "--uses", "50", "-l", "fleet=sim").out()
                    .strip();
            for (int i = 0; i < 50; i++) {
                Path root = Files.createDirectories(dir.resolve("roots/sim-" + i + "/etc/app"));
                AgentConnection a = new AgentConnection(new AgentIdentity("host-sim-" + i, "Linux", "amd64", "t",
                        "sim-" + i, Map.of()), TestTls.link(hub.hub), IdentityStore.memory(), CredentialStore.memory(),
                        token, scheduler, new Backoff(Duration.ofMillis(50), Duration.ofMillis(200)),
                        new AgentConnection.Listener() { });
                a.fileRoot(dir.resolve("roots/sim-" + i));
                a.start();
                agents.add(a);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> agents.stream().allMatch(AgentConnection::connected));
            Path f = random(dir, "app.conf", 3 << 20, 9);

            Cli.Run r = Cli.run(hub.url, hub.token, "cp", "-l", "fleet=sim", "--parallel", "16", f.toString(),
                    ":/etc/app/");
            assertThat(r.code()).as(r.out() + r.err()).isZero();
            assertThat(r.err()).contains("copied to 50 of 50 nodes");
            assertThat(r.out().lines()).hasSize(50).allMatch(l -> l.matches("sim-\\d+: ok sim-\\d+:/etc/app/app.conf .*"));
            String sha = FileCopier.sha256(f);
            for (int i = 0; i < 50; i++) {
                assertThat(FileCopier.sha256(dir.resolve("roots/sim-" + i + "/etc/app/app.conf"))).isEqualTo(sha);
            }

            Path confs = Files.createDirectories(dir.resolve("confs"));
            Cli.Run back = Cli.run(hub.url, hub.token, "cp", "-l", "fleet=sim", ":/etc/app/app.conf", confs.toString());
            assertThat(back.code()).as(back.out() + back.err()).isZero();
            assertThat(FileCopier.sha256(confs.resolve("sim-17/app.conf"))).isEqualTo(sha);

            // One node that cannot take it fails alone, and says so.
            Files.delete(dir.resolve("roots/sim-3/etc/app/app.conf"));
            Files.delete(dir.resolve("roots/sim-3/etc/app"));
            Cli.Run partly = Cli.run(hub.url, hub.token, "cp", "-l", "fleet=sim", f.toString(), ":/etc/app/");
            assertThat(partly.code()).isEqualTo(ExitCodes.HUB_ERROR);
            assertThat(partly.err()).contains("copied to 49 of 50 nodes; failed: sim-3");
            assertThat(partly.out()).contains("sim-3: failed: no directory /etc/app on the node");
            // One at a time, no failure allowed: the nodes after it are not started.
            Cli.Run stopped = Cli.run(hub.url, hub.token, "cp", "-l", "fleet=sim", "--parallel", "1", "--max-errors",
                    "0", f.toString(), ":/etc/app/");
            assertThat(stopped.code()).isEqualTo(ExitCodes.HUB_ERROR);
            assertThat(stopped.err()).contains("failed: sim-3").contains("skipped: ");
            assertThat(stopped.out()).contains(": skipped (run ");
            // Each fan-out of a file is a run the hub recorded from the transfers it relayed.
            String runId = stopped.err().lines().filter(l -> l.startsWith("hubctl: run ")).findFirst().orElseThrow()
                    .split(" ")[2].replace(":", "");
            Cli.Run show = Cli.run(hub.url, hub.token, "runs", "show", runId, "-o", "json");
            assertThat(show.out()).contains("\"state\" : \"stopped\"").contains("\"sha256\" : \"" + sha + "\"")
                    .contains("no directory /etc/app on the node");
            assertThat(Cli.run(hub.url, hub.token, "runs", "ls").out()).contains("cp app.conf /etc/app/");
            assertThat(Cli.run(hub.url, hub.token, "cp", "-l", "fleet=sim", "--max-errors", "lots", f.toString(),
                    ":/etc/app/").code()).isEqualTo(ExitCodes.USAGE);
        } finally {
            agents.forEach(AgentConnection::close);
            scheduler.shutdownNow();
        }
    }

    @Test
    void resumesWhereItStoppedWhenTheHubRestartsMidCopy(@TempDir Path dir) throws Exception {
        HubConfig config = HubConfig.defaults(dir.resolve("data"));
        HubDaemon first = HubDaemon.start(config);
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        HubDaemon second = null;
        AgentConnection agent = null;
        try {
            String url = Cli.url(first);
            String admin = first.adminToken();
            String join = Cli.run(url, admin, "tokens", "create").out().strip();
            agent = Agents.start(first, "n1", join, scheduler);
            Path big = sparse(dir, "big.img", 1L << 30);
            Path remote = Files.createDirectories(dir.resolve("on-node"));

            Cli.Background copy = new Cli.Background(url, admin, "cp", "--retry-for", "60s", big.toString(),
                    "n1:" + remote + "/");
            // Restart the hub once part of the file is on the node.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5)).until(() -> {
                try (Stream<Path> s = Files.list(remote)) {
                    return s.anyMatch(p -> p.getFileName().toString().contains("hubpart") && sizeOf(p) > (64L << 20));
                }
            });
            int http = first.httpPort();
            int grpc = first.grpcPort();
            first.close();
            second = HubDaemon.start(config.withListeners(http, grpc, config.dbUrl()));
            await().atMost(Duration.ofSeconds(120)).until(() -> copy.code() != -1);
            assertThat(copy.code()).as(copy.err()).isZero();
            assertThat(copy.err()).contains("retrying");
            assertThat(FileCopier.sha256(remote.resolve("big.img"))).isEqualTo(FileCopier.sha256(big));
            assertThat(Cli.run(url, admin, "audit", "-o", "json").out())
                    .containsPattern("resumed at [1-9]");
        } finally {
            if (agent != null) {
                agent.close();
            }
            scheduler.shutdownNow();
            if (second != null) {
                second.close();
            }
            first.close();
        }
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}

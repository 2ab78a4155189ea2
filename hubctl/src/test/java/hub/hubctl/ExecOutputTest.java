package hub.hubctl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import hub.hubd.TestTls;
import hub.hubd.config.HubConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hubctl exec}'s output is whole and exact, whatever the hub's history caps. */
class ExecOutputTest {

    @Test
    void twoHundredThousandLinesArriveWholeThroughHistoryCapsOfAThousand(@TempDir Path dir) {
        HubConfig small = HubConfig.defaults(dir.resolve("data")).withHistory(HubConfig.HistoryStoreKind.SQLITE, null,
                1000, 64 * 1024);
        try (TestHub hub = new TestHub(small)) {
            hub.agent("big-1");
            Cli.Run r = Cli.run(hub.url, hub.token, "exec", "big-1", "--", "seq 1 200000");
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.err()).isEmpty();
            String[] lines = r.out().split("\n");
            assertThat(lines).hasSize(200_000);
            for (int i = 0; i < lines.length; i++) {
                if (!lines[i].equals(Integer.toString(i + 1))) {
                    throw new AssertionError("line " + (i + 1) + " is '" + lines[i] + "'");
                }
            }
        }
    }

    @Test
    void rawRoundTripsRandomBytesAndTextModeStripsEscapes(@TempDir Path dir) throws Exception {
        try (TestHub hub = new TestHub(dir)) {
            hub.agent("bin-1");
            byte[] random = new byte[3 * 1024 * 1024 + 17];
            new Random(42).nextBytes(random);
            Path file = dir.resolve("random.bin");
            Files.write(file, random);
            Cli.Bytes b = Cli.runBytes(hub.url, hub.token, new byte[0], "exec", "bin-1", "--raw", "--", "cat " + file
                    + "; printf 'e\\r\\033[1m\\n' >&2");
            assertThat(b.code()).as(b.err()).isZero();
            assertThat(sha256(b.stdout())).isEqualTo(sha256(random));
            assertThat(b.stderr()).containsExactly('e', '\r', 0x1b, '[', '1', 'm', '\n');
            assertThat(b.out()).as("nothing went through the text writer").isEmpty();

            Cli.Run text = Cli.run(hub.url, hub.token, "exec", "bin-1", "--", "printf '10%%\\r100%%\\n\\033[31mred\\033[0m\\n'");
            assertThat(text.out()).isEqualTo("100%\nred\n");

            Cli.Run fleet = Cli.run(hub.url, hub.token, "exec", "--all", "--raw", "--", "true");
            assertThat(fleet.code()).isEqualTo(ExitCodes.USAGE);
            assertThat(fleet.err()).contains("--raw is for one NODE");
        }
    }

    @Test
    void outputTheHubCouldNotKeepWholeFailsWith255AndSaysSo(@TempDir Path dir) throws Exception {
        HubConfig bounded = HubConfig.defaults(dir.resolve("data"))
                .withTaskOutput(new HubConfig.TaskOutput(Duration.ofHours(1), 64 * 1024));
        try (TestHub hub = new TestHub(bounded)) {
            hub.agent("full-1");
            // a task nobody reads (made through the API) fills the node's 64 KiB of unread raw output
            var http = java.net.http.HttpClient.newBuilder().sslContext(TestTls.https(hub.hub)).build();
            var create = java.net.http.HttpRequest.newBuilder(java.net.URI.create(hub.url
                    + "/api/v1/nodes/full-1/tasks")).header("Authorization", "Bearer " + hub.token)
                    .header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                            "{\"command\": \"head -c 70000 /dev/zero | tr '\\\\0' x\"}")).build();
            String id = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                    http.send(create, java.net.http.HttpResponse.BodyHandlers.ofString()).body()).get("id").asText();
            await().atMost(Duration.ofSeconds(20)).until(() -> Cli.run(hub.url, hub.token, "tasks", "show", id)
                    .out().contains("exited"));

            // the filler stopped being kept at its first chunk past the bound, so at most one chunk's
            // room (64 KiB, the agent's largest chunk) is left: 100,000 bytes cannot all be kept
            Cli.Run r = Cli.run(hub.url, hub.token, "exec", "full-1", "--", "echo one; head -c 100000 /dev/zero "
                    + "| tr '\\0' y | fold -w 1000; echo; echo two");
            assertThat(r.code()).as(r.out() + r.err()).isEqualTo(255);
            assertThat(r.err()).contains("history text only").contains("--task-output-max-bytes")
                    .contains("exit code 0").contains("not all of it");
            // the history has it: nothing is lost, the reader is told where to look
            assertThat(Cli.run(hub.url, hub.token, "history", "full-1", "--tail", "102").out())
                    .contains("one\n" + ("y".repeat(1000) + "\n").repeat(100) + "two");
        }
    }

    @Test
    void stdinIsStreamedToTheRemoteCommandAndToEveryNodeOfARun(@TempDir Path dir) throws Exception {
        try (TestHub hub = new TestHub(dir)) {
            hub.agent("in-1");
            hub.agent("in-2");
            Cli.Bytes hi = Cli.runBytes(hub.url, hub.token, "hi\n".getBytes(), "exec", "in-1", "--", "cat");
            assertThat(hi.code()).as(hi.err()).isZero();
            assertThat(hi.out()).isEqualTo("hi\n");

            // 5 MiB of random bytes in, through cat, out: the same bytes (many chunks, each taken in turn)
            byte[] random = new byte[5 * 1024 * 1024];
            new Random(7).nextBytes(random);
            Cli.Bytes big = Cli.runBytes(hub.url, hub.token, random, "exec", "in-1", "--raw", "--", "cat");
            assertThat(big.code()).as(big.err()).isZero();
            assertThat(sha256(big.stdout())).isEqualTo(sha256(random));

            // a command that reads nothing still ends, and EOF is what a reader of an empty stdin sees
            assertThat(Cli.runBytes(hub.url, hub.token, new byte[0], "exec", "in-1", "--", "wc -c").out().strip())
                    .isEqualTo("0");
            Cli.Bytes closed = Cli.runBytes(hub.url, hub.token, random, "exec", "in-1", "--", "head -c 3 >/dev/null; "
                    + "echo done");
            assertThat(closed.code()).as(closed.err()).isZero();
            assertThat(closed.out()).isEqualTo("done\n");
            // -n: /dev/null
            assertThat(Cli.runBytes(hub.url, hub.token, "x".getBytes(), "exec", "in-1", "-n", "--", "wc -c").out()
                    .strip()).isEqualTo("0");

            // a run: stdin read once, every node gets all of it; --stdin-file too
            Cli.Bytes run = Cli.runBytes(hub.url, hub.token, "abc\n".getBytes(), "exec", "in-1", "in-2", "--",
                    "cat");
            assertThat(run.code()).as(run.err()).isZero();
            assertThat(run.out().lines()).containsExactlyInAnyOrder("in-1 | abc", "in-2 | abc");
            Path file = dir.resolve("in.txt");
            Files.writeString(file, "from a file\n");
            Cli.Bytes fromFile = Cli.runBytes(hub.url, hub.token, new byte[0], "exec", "in-2", "--stdin-file",
                    file.toString(), "--", "cat");
            assertThat(fromFile.out()).isEqualTo("from a file\n");
        }
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}

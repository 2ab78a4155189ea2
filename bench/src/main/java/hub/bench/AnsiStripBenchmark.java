package hub.bench;

import hub.text.AnsiStripper;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The ingest ANSI stripper against the audited hub's approach (decode each chunk, then a
 * {@code java.util.regex} replace with the well-known ANSI pattern), on 4 MiB of terminal-like
 * output fed in 4 KiB chunks. One operation = the whole corpus; bytes/s = ops/s × 4 MiB.
 *
 * <p>{@code corpus=escapes}: coloured log lines, SGR sequences make about 20 % of the bytes.
 * {@code corpus=clean}: the same text without escapes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(2)
public class AnsiStripBenchmark {
    static final int SIZE = 4 * 1024 * 1024;
    static final int CHUNK = 4096;
    /** The audited hub's pattern, as commonly written for Python's re. */
    static final Pattern AUDITED = Pattern.compile("\u001B(?:[@-Z\\\\-_]|\\[[0-?]*[ -/]*[@-~])");

    @Param({"escapes", "clean"})
    String corpus;

    byte[] input;
    double escapeShare;

    @Setup(Level.Trial)
    public void makeCorpus() {
        input = corpus(corpus.equals("escapes"), SIZE);
        int esc = 0;
        String s = new String(input, StandardCharsets.UTF_8);
        String stripped = AUDITED.matcher(s).replaceAll("");
        esc = s.length() - stripped.length();
        escapeShare = (double) esc / s.length();
    }

    /** Deterministic coloured log output, about 20 % escape bytes when {@code colour}. */
    static byte[] corpus(boolean colour, int size) {
        Random r = new Random(7);
        String[] words = {"GET", "/api/v1/nodes", "200", "ok", "INFO", "worker", "started", "in", "ms",
            "request", "id=4f1c", "user=admin", "latency", "12.5", "bytes=1024", "cache", "hit", "miss"};
        String[] colours = {"\u001b[32m", "\u001b[1;31m", "\u001b[38;5;208m", "\u001b[0m", "\u001b[36m",
            "\u001b[38;2;255;128;0m", "\u001b[K"};
        StringBuilder sb = new StringBuilder(size + 256);
        while (sb.length() < size) {
            int n = 6 + r.nextInt(10);
            for (int i = 0; i < n; i++) {
                if (colour && r.nextInt(100) < 18) {
                    sb.append(colours[r.nextInt(colours.length)]);
                }
                sb.append(words[r.nextInt(words.length)]).append(' ');
            }
            if (colour) {
                sb.append("\u001b[0m");
            }
            sb.append('\n');
        }
        sb.setLength(size);
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    @Benchmark
    public void scanner(Blackhole bh) {
        feedAll(new AnsiStripper(64 * 1024, (line, off, n) -> bh.consume(n)));
    }

    /** The scanner with each line decoded to a String, as a consumer wanting text would. */
    @Benchmark
    public void scannerToStrings(Blackhole bh) {
        feedAll(new AnsiStripper(64 * 1024, AnsiStripper.strings(bh::consume)));
    }

    private void feedAll(AnsiStripper s) {
        byte[] in = input;
        for (int off = 0; off < in.length; off += CHUNK) {
            s.feed(in, off, Math.min(CHUNK, in.length - off));
        }
        s.finish();
    }

    @Benchmark
    public void auditedRegex(Blackhole bh) {
        byte[] in = input;
        for (int off = 0; off < in.length; off += CHUNK) {
            String chunk = new String(in, off, Math.min(CHUNK, in.length - off), StandardCharsets.UTF_8);
            bh.consume(AUDITED.matcher(chunk).replaceAll(""));
        }
    }

    /** Prints the escape share of each corpus (for the benchmark report). */
    public static void main(String[] args) {
        for (boolean c : new boolean[] {true, false}) {
            byte[] b = corpus(c, SIZE);
            String s = new String(b, StandardCharsets.US_ASCII);
            double share = 1.0 - (double) AUDITED.matcher(s).replaceAll("").length() / s.length();
            System.out.printf("corpus=%s bytes=%d escape share=%.1f%%%n", c ? "escapes" : "clean", b.length,
                    100 * share);
        }
    }
}

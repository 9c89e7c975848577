package jllm.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Every kernel compiles in C1, HotSpot's first JIT tier, as well as in C2.
 *
 * <p>Why it matters: the Vector API is fast only in C2 (C1 calls the Java fallbacks, ~300x slower).
 * When C2's queue is long, a hot method is first compiled by C1 at tier 2 (no profiling); if C1 then
 * fails to compile it at tier 3 ("out of virtual registers in linear scan", which C1 reports as
 * "retry at different tier"), the method is marked not C1-compilable and can stay in its tier-2
 * code for the rest of the run. A 2425-bytecode Q5_K kernel did exactly that in about two runs of
 * three (0.1 against 35 Gw/s; AMD EPYC, JDK 25, docs/quantization-and-speed.md, sixteenth round).
 * This runs every format's decode and prefill in child JVMs held at C1 ({@code
 * -XX:TieredStopAtLevel=3}, low thresholds, synchronous compiles) and fails on any of our methods
 * that C1 skipped. (About 20 s: C1's vector code is that slow.)
 */
class C1CompileTest {
    @Test
    void everyKernelCompilesInC1() throws IOException, InterruptedException {
        // two children at once: one where the normal compiles come first, one where OSR compiles do
        // (a method can fail in one and not the other: a 2127-bytecode Q4_0 kernel failed only as OSR)
        List<String> normal = List.of("-XX:CompileThresholdScaling=0.05");
        List<String> osr = List.of("-XX:Tier3InvocationThreshold=100000", "-XX:Tier3MinInvocationThreshold=100000",
                "-XX:Tier3CompileThreshold=100000", "-XX:Tier3BackEdgeThreshold=300");
        Path dir = Files.createTempDirectory("jllm-c1");
        List<Process> ps = new ArrayList<>();
        List<Path> outs = new ArrayList<>();
        for (List<String> thresholds : List.of(normal, osr)) {
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                    "-Xmx1g", "-XX:TieredStopAtLevel=3", "-XX:-BackgroundCompilation", "-XX:+PrintCompilation"));
            cmd.addAll(thresholds);
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Probe.class.getName()));
            Path out = dir.resolve("c1-" + outs.size() + ".txt");
            outs.add(out);
            ps.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start());
        }
        try {
            for (int i = 0; i < ps.size(); i++) {
                assertTrue(ps.get(i).waitFor(5, TimeUnit.MINUTES), "the C1 probe finished");
                String out = Files.readString(outs.get(i), StandardCharsets.UTF_8);
                assertEquals(0, ps.get(i).exitValue(), out.lines().filter(l -> !l.matches("^\\s*\\d+ .*")).limit(40).reduce("", (x, y) -> x + "\n" + y));
                assertTrue(out.contains("probe done"), "the probe ran to its end");
                List<String> skipped = out.lines().filter(l -> l.contains("jllm.") && l.contains("COMPILE SKIPPED") && !l.contains("concurrent class loading")).toList();
                assertTrue(skipped.isEmpty(), "C1 could not compile:\n" + String.join("\n", skipped));
            }
        } finally {
            for (Process p : ps) p.destroyForcibly();
            for (Path out : outs) Files.deleteIfExists(out);
            Files.deleteIfExists(dir);
        }
    }

    /** Every format's kernels, decode and prefill, fast and exact, long enough for C1's OSR compiles. */
    public static final class Probe {
        public static void main(String[] args) {
            Random r = new Random(3);
            int rows = Panels.P, cols = 1024;
            float[] w = new float[rows * cols];
            for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.02f;
            float[] x = new float[16 * cols], y = new float[16 * rows];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            for (GgmlType t : new GgmlType[] {GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0,
                    GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
                Tensor m = Quantizer.quantize(t, w, rows, cols);
                for (boolean exact : new boolean[] {false, true}) {
                    CpuBackend be = new CpuBackend(1, exact);
                    for (int k = 0; k < 12; k++) be.matmul(m, x, y, 1, null);
                    for (int k = 0; k < 3; k++) be.matmul(m, x, y, 16, null);
                }
            }
            System.out.println("probe done");
        }
    }
}

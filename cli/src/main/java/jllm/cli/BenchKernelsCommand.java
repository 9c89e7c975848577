package jllm.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import jllm.tensor.CpuBackend;
import jllm.tensor.Gemm;
import jllm.tensor.GgmlType;
import jllm.tensor.Parallel;
import jllm.tensor.Quantizer;
import jllm.tensor.Roofline;
import jllm.tensor.Tensor;
import jllm.tensor.Tensors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Kernel speed per weight format against the machine's own ceilings, all measured in one run: decode
 * (one token: a matrix-vector product over weights that do not fit in cache) as a share of the
 * read bandwidth timed in alternation with it, prefill (many tokens) as a share of the measured fp32
 * FMA peak.
 */
@Command(name = "kernels", mixinStandardHelpOptions = true,
        description = {"Measure matmul kernels per weight type against the measured memory bandwidth and fp32 FMA peak.",
                "The last line is always: read_gb_s=<float> fma_gmac_s=<float>"})
final class BenchKernelsCommand implements Callable<Integer> {
    @Option(names = "--threads", description = "Worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--types", split = ",", defaultValue = "f16,q8_0,q4_0,q4_1,q5_0,q5_1,q4_k,q5_k,q6_k",
            description = "Weight types, spelled as for convert and init (q4_k_m measures its main kernel, q4_k) (default ${DEFAULT-VALUE})")
    List<String> types;

    @Option(names = "--rows", defaultValue = "8192", description = "Output features of the matrix (default ${DEFAULT-VALUE})")
    int rows;

    @Option(names = "--cols", defaultValue = "2048", description = "Input features (default ${DEFAULT-VALUE}; a multiple of 256)")
    int cols;

    @Option(names = "--tokens", defaultValue = "128", description = "Tokens for the prefill measurement (default ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--seconds", defaultValue = "1", description = "Time per measurement window (default ${DEFAULT-VALUE}); windows repeat while the JIT still speeds a kernel up")
    double seconds;

    @Option(names = "--exact", description = Models.EXACT)
    boolean exact;

    @Option(names = "--rounds", defaultValue = "1",
            description = "Decode measured this many times per type, each round's share of the probe timed beside it; the table "
                    + "shows the median round and the range of the shares (default ${DEFAULT-VALUE}; on a shared machine one "
                    + "round's share can move by ten points)")
    int rounds;

    @Option(names = "--stream-mib",
            description = "MiB streamed per decode pass and by the bandwidth probe: well above the caches (default 512, or four "
                    + "times the largest cache where that is more)")
    Long streamMibOption;

    private long streamMib;

    /**
     * 512 MiB, or four times the largest cache where that is more: a stream a little larger than a
     * cache is partly read from it (Intel Xeon with a 480 MiB L3, 512 MiB streams: F16 decode at
     * 122-124% of the probe's "bandwidth", thirty-eighth round). At most an eighth of the memory: a run
     * holds three streams at once (the read probe, one type's copies, the overlap probe).
     */
    static long defaultStreamMib(long cacheBytes, long memoryBytes) {
        long mib = Math.max(512, Math.min(1 << 16, 4 * ((cacheBytes + (1 << 20) - 1) >> 20)));
        return memoryBytes > 0 ? Math.max(1, Math.min(mib, (memoryBytes >> 20) / 8)) : mib;
    }

    /** Physical memory in bytes, or 0 where the JVM does not say. */
    static long memoryBytes() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getTotalMemorySize() : 0;
    }

    @Option(names = "--cpu-time", description = "Rates per CPU-second of jllm's threads instead of per wall-clock second: on a machine "
            + "busy with other work the wall clock mostly shows how much of the cores jllm got (best with --threads 1)")
    boolean cpuTime;

    private java.util.function.LongSupplier clock = Roofline.WALL;

    @Override
    public Integer call() {
        long memory = memoryBytes();
        streamMib = streamMibOption != null ? streamMibOption : defaultStreamMib(jllm.tensor.CpuInfo.largestCacheBytes(), memory);
        if (memory > 0 && 3 * (streamMib << 20) > memory * 3 / 4)
            throw new IllegalArgumentException("--stream-mib " + streamMib + ": a run holds three streams at once, " + 3 * streamMib
                    + " MiB, more than three quarters of this machine's " + (memory >> 20) + " MiB of memory");
        if (rows < 1 || cols < 256 || cols % 256 != 0 || tokens < 1 || !(seconds > 0 && seconds <= 600) || streamMib < 1 || streamMib > 1 << 16
                || rounds < 1 || rounds > 100)
            throw new IllegalArgumentException("--rows >= 1, --cols a positive multiple of 256, --tokens >= 1, --seconds in (0, 600], --stream-mib 1..65536, --rounds 1..100");
        // fp32 copies of the matrix and of the activations are Java arrays: keep them well inside an array's reach
        long limit = 1L << 28;
        if ((long) rows * cols > limit || (long) tokens * cols > limit || (long) tokens * rows > limit)
            throw new IllegalArgumentException("--rows x --cols, --tokens x --cols and --tokens x --rows must each stay below " + limit + " values");
        List<GgmlType> kinds = new ArrayList<>();
        for (String name : types) {
            try {
                kinds.add(WeightTypes.kernel(name));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--types: " + e.getMessage());
            }
        }
        int n = Threads.resolve(threads);
        Parallel par = Parallel.shared(n);
        CpuBackend be = new CpuBackend(n, exact);
        if (cpuTime) clock = Roofline.CPU;
        try (Roofline.ReadProbe probe = new Roofline.ReadProbe(par, streamMib << 20)) {
            return measure(par, be, kinds, probe);
        }
    }

    private int measure(Parallel par, CpuBackend be, List<GgmlType> kinds, Roofline.ReadProbe probe) {
        int n = par.threads();
        double bw = probe.gbs(seconds, clock), peak = Roofline.fmaGmacs(par, seconds, clock);
        System.out.println("cpu " + jllm.tensor.CpuInfo.describe());
        System.out.printf(Locale.ROOT, "%d threads: read bandwidth %.1f GB/s at the start, fp32 FMA peak %.1f GMAC/s%s%n", n, bw, peak,
                cpuTime ? " (per CPU-second: all rates below are per CPU-second of jllm's threads)" : "");
        System.out.printf(Locale.ROOT, "matrix [%d, %d]; decode over >= %d MiB of weights, prefill with %d tokens%n",
                rows, cols, streamMib, tokens);
        System.out.println("decode's share: of the read bandwidth timed in alternation with it (\"read GB/s\", the same minutes)");
        System.out.printf(Locale.ROOT, "%-6s %12s %10s %10s %14s %14s %12s%n", "type", "decode Gw/s", "GB/s", "read GB/s", "% of bandwidth", "prefill GMAC/s", "% of peak");
        Random rnd = new Random(1);
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        warmUp(be, kinds, x, rnd);
        List<Tensor> firsts = new ArrayList<>();
        for (GgmlType type : kinds) firsts.add(Quantizer.quantize(type, weights(rows, rnd), rows, cols));
        float[] y = new float[tokens * rows];
        for (int k = 0; k < kinds.size(); k++) {
            double[] decode = new double[rounds], read = new double[rounds];
            // One set of copies per type for all its rounds: copies made afresh per type and round
            // piled up past a 24 GiB machine's memory (nine types, five rounds), as native memory does
            // not prompt the collector. They stay in automatic arenas, as the file's weights are: in a
            // shared arena (freed at once on close) the F16 kernel, which reads its weights in place,
            // ran at 26% of the bandwidth against 78-87%, its loads now seeing two kinds of segment.
            List<Tensor> copies = copies(kinds.get(k), firsts.get(k));
            for (int round = 0; round < rounds; round++) {
                double[] r = {0};
                decode[round] = rate(() -> { for (Tensor w : copies) be.matmul(w, x, y, 1, null); }, (double) rows * cols * copies.size(), probe, r);
                read[round] = r[0];
            }
            double prefill = rate(() -> be.matmul(copies.get(0), x, y, tokens, null), (double) rows * cols * tokens, null, null);
            printRow(k, kinds.get(k), decode, read, prefill, peak);
            copies.clear();
            release();
        }
        backward(par, firsts, x, rnd, peak);
        Roofline.Overlap o = Roofline.overlap(par, streamMib << 20, seconds, clock);
        System.out.printf(Locale.ROOT, "stream and arithmetic: read %.1f GB/s alone, its arithmetic %.1f in cache, both %.1f: overlap %.2f "
                + "(1 hides the faster, 0 adds the times); Q5_K/Q6_K decode kernels for serial reads: %s (-Djllm.serialreads=on|off)%n",
                o.stream(), o.arithmetic(), o.together(), o.share(), jllm.tensor.CpuInfo.serialReads() ? "yes" : "no");
        System.out.printf(Locale.ROOT, "read_gb_s=%.2f fma_gmac_s=%.2f%n", bw, peak);
        return 0;
    }

    /**
     * One type's line: with one round its decode, the probe beside it and the share; with several the
     * round of the median share, and the range of the shares after the prefill columns.
     */
    private void printRow(int k, GgmlType type, double[] decode, double[] read, double prefill, double peak) {
        double perWeight = type.bytes(new long[] {rows, cols}) / ((double) rows * cols);
        int n = decode.length;
        double[] share = new double[n];
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            share[i] = decode[i] * perWeight / read[i];
            order[i] = i;
        }
        java.util.Arrays.sort(order, java.util.Comparator.comparingDouble(i -> share[i]));
        int mid = order[(n - 1) / 2];
        String range = n == 1 ? "" : String.format(Locale.ROOT, "   shares %.0f-%.0f%% over %d rounds", 100 * share[order[0]], 100 * share[order[n - 1]], n);
        System.out.printf(Locale.ROOT, "%-6s %12.2f %10.1f %10.1f %13.0f%% %14.1f %11.0f%%%s%n",
                types.get(k), decode[mid], decode[mid] * perWeight, read[mid], 100 * share[mid], prefill, 100 * prefill / peak, range);
    }

    /**
     * The training products with {@code tokens} tokens: the input gradient {@code dX = dY W} per format
     * (W decoded on the fly) and the fp32 weight gradient {@code dW = dY^T X}, as shares of the FMA peak.
     */
    private void backward(Parallel par, List<Tensor> weights, float[] x, Random rnd, double peak) {
        float[] dy = new float[tokens * rows], dx = new float[tokens * cols];
        for (int i = 0; i < dy.length; i++) dy[i] = (float) rnd.nextGaussian();
        System.out.printf(Locale.ROOT, "backward with %d tokens:%n%-6s %14s %12s%n", tokens, "type", "dX=dY·W GMAC/s", "% of peak");
        double macs = (double) rows * cols * tokens;
        for (Tensor w : weights) {
            double g = rate(() -> Gemm.dyW(par, w, dy, tokens, dx, false), macs, null, null);
            System.out.printf(Locale.ROOT, "%-6s %14.1f %11.0f%%%n", w.dtype().name().toLowerCase(Locale.ROOT), g, 100 * g / peak);
        }
        float[] dw = new float[rows * cols];
        double g = rate(() -> Gemm.dyTx(par, dy, x, tokens, rows, cols, dw, false), macs, null, null);
        System.out.printf(Locale.ROOT, "%-6s %14.1f %11.0f%%  (dW=dY^T·X, fp32)%n", "f32", g, 100 * g / peak);
    }

    /**
     * Every type's decode and prefill on a small matrix before any is timed: code that all formats
     * share (the activations' int8 quantizer) is compiled by C2 for the branches its profile has seen,
     * and a type measured first would leave the next one to hit the others, be sent back to the
     * interpreter and wait seconds for C2 again (on 2 cores q8_0, q4_0, q4_k and q6_k then measured
     * 4-28% of the bandwidth in a whole run; AMD EPYC). A model mixes formats, and so sees them all
     * from its first token.
     */
    private void warmUp(CpuBackend be, List<GgmlType> kinds, float[] x, Random rnd) {
        int r = 256;
        float[] w = weights(r, rnd), y = new float[tokens * r];
        List<Tensor> small = new ArrayList<>();
        for (GgmlType type : kinds) small.add(Quantizer.quantize(type, w, r, cols));
        for (int round = 0; round < 50; round++)
            for (Tensor m : small) {
                be.matmul(m, x, y, 1, null);
                if (round % 10 == 0) be.matmul(m, x, y, Math.min(tokens, 16), null);
            }
    }

    /** A random {@code [r, cols]} weight matrix, N(0, 0.02^2). */
    private float[] weights(int r, Random rnd) {
        float[] w = new float[r * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian() * 0.02f;
        return w;
    }

    /**
     * Frees the last type's copies before the next type's are made: their automatic arenas go only
     * when the collector finds them unreachable, and native memory does not prompt it, so with streams
     * of four times a 480 MiB L3 nine types' copies (17 GiB) ended in the OOM killer on a 24 GiB machine.
     */
    private static void release() {
        System.gc();
        try {
            Thread.sleep(200); // the arenas' cleaner runs on its own thread once the collector has queued them
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code first} and enough copies of it to exceed every cache (copied bytes, quantized once). */
    private List<Tensor> copies(GgmlType type, Tensor first) {
        long bytes = first.segment().byteSize();
        List<Tensor> out = new ArrayList<>();
        out.add(first);
        for (long total = bytes; total < streamMib << 20; total += bytes) {
            MemorySegment s = Arena.ofAuto().allocate(bytes, 64);
            s.copyFrom(first.segment());
            out.add(Tensors.of(type, s, rows, cols));
        }
        return out;
    }

    /**
     * Units per second (G) of the fastest run ({@link Roofline#bestPass}): warms up, then repeats
     * {@code body} in windows of the configured time. With a {@code probe}, each window follows one of
     * half its length on the read probe, and {@code read[0]} gets the probe's best GB/s over them: the
     * decode and the bandwidth it is a share of are then timed in the same minutes. Measured once at the
     * start instead, the shares of one run moved with the host (Intel Xeon, thirty-second round: the
     * probe read 25.9 GB/s in one run and 18.0 in the next, and the same kernels 68-80% against 80-97%).
     */
    private double rate(Runnable body, double unitsPerRun, Roofline.ReadProbe probe, double[] read) {
        long w0 = System.nanoTime();
        do body.run(); while (System.nanoTime() - w0 < seconds * 0.5e9);
        // Windows of `seconds` until one no longer beats the best before it by 5% (at most 10): a
        // kernel's C2 code can arrive seconds after its first run, with one C2 thread and a long
        // queue (2 cores), and a single window then timed C1's code, which runs the Vector API's
        // Java fallbacks (q4_0 at 1.7 Gw/s against 26 in the next run; AMD EPYC).
        long best = Long.MAX_VALUE;
        for (int window = 0; window < 10; window++) {
            if (probe != null) read[0] = Math.max(read[0], probe.gbs(seconds / 2, clock));
            long inWindow = Roofline.bestPass(body, seconds, clock);
            boolean better = inWindow < 0.95 * best;
            best = Math.min(best, inWindow);
            if (!better) break;
        }
        return unitsPerRun / best;
    }
}

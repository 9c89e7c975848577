package jllm.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import jllm.model.Config;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.model.Presets;
import jllm.model.RandomWeights;
import jllm.model.gguf.GgufConverter;
import jllm.tensor.Backend;
import jllm.tensor.CpuBackend;
import jllm.train.bench.PhaseTimer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {BenchTokenizerCommand.class, BenchKernelsCommand.class, BenchTrainCommand.class},
        description = {"Measure prefill (pp) and decode (tg) speed of a model, or of random weights of a preset geometry;",
                "`jllm bench tokenizer` measures tokenizer encoding speed; `jllm bench kernels` matmul kernels against the machine's bandwidth and FMA peak; `jllm bench train` training steps.",
                "The last line is always: pp_tok_s=<float> tg_tok_s=<float> (of the deepest --depth)"})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Model directory or llama2.c .bin")
    Path model;

    @Option(names = "--preset", description = "Random weights of a published geometry instead of --model: ${COMPLETION-CANDIDATES}",
            completionCandidates = PresetNames.class)
    String preset;

    @Option(names = "--type", defaultValue = "q8_0", converter = WeightTypes.Converter.class,
            description = "Weight type for --preset, as `init --type` would write it: " + WeightTypes.LIST + " (default ${DEFAULT-VALUE})")
    GgufConverter.FileType type;

    @Option(names = "--threads", description = "Worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--exact", description = Models.EXACT)
    boolean exact;

    @Option(names = "--prompt", defaultValue = "128", description = "Prompt tokens to prefill (default ${DEFAULT-VALUE})")
    int prompt;

    @Option(names = "--gen", defaultValue = "32", description = "Tokens to decode after the prompt (default ${DEFAULT-VALUE})")
    int gen;

    @Option(names = "--depth", defaultValue = "0", split = ",",
            description = "Tokens of context already in the KV cache before the timed prompt and decode, as llama-bench's -d; several (0,1024,4096) run one after another on one growing context (default ${DEFAULT-VALUE})")
    int[] depths;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed runs of the whole test first (prefill and every decode step), so the JIT has compiled the code each context length takes (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--reps", defaultValue = "3", description = "Timed repetitions; the table shows the best and the median (default ${DEFAULT-VALUE})")
    int reps;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of random weights and prompt")
    long seed;

    @picocli.CommandLine.Mixin
    KvCacheOption kv;

    @Option(names = "--breakdown", description = "Also time every backend call of the timed prefill and decode steps and print, per depth, the share of"
            + " weight matmuls, LM head, attention (+ RoPE, KV store) and the rest (norms, element-wise)")
    boolean breakdown;

    static final class PresetNames implements Iterable<String> {
        @Override public java.util.Iterator<String> iterator() { return Presets.names().iterator(); }
    }

    @Override
    public Integer call() {
        if ((model == null) == (preset == null)) throw new IllegalArgumentException("give exactly one of --model or --preset");
        if (prompt < 1) throw new IllegalArgumentException("--prompt must be >= 1, got " + prompt);
        if (gen < 0) throw new IllegalArgumentException("--gen must be >= 0, got " + gen);
        if (warmup < 0 || warmup > 100) throw new IllegalArgumentException("--warmup must be in 0..100, got " + warmup);
        if (reps < 1 || reps > 1000) throw new IllegalArgumentException("--reps must be in 1..1000, got " + reps);
        int[] ds = depths.clone();
        java.util.Arrays.sort(ds);
        if (ds.length > 16) throw new IllegalArgumentException("--depth: at most 16 depths, got " + ds.length);
        if (ds[0] < 0) throw new IllegalArgumentException("--depth must be >= 0, got " + ds[0]);
        kv.type();
        int n = Threads.resolve(threads);
        long t0 = System.nanoTime();
        Model m;
        String what;
        java.util.concurrent.atomic.AtomicReference<jllm.tensor.Tensor> head = new java.util.concurrent.atomic.AtomicReference<>();
        PhaseTimer timer = breakdown ? new PhaseTimer(new CpuBackend(n, exact), head::get) : null;
        Backend be = timer != null ? timer : new CpuBackend(n, exact);
        if (preset != null) {
            Config c = Presets.config(preset);
            RandomWeights rw = new RandomWeights(c, GgufConverter.matrixTypes(c, type), WeightTypes.name(type), seed, n);
            // The weights live in memory (no file to map): refuse up front what cannot fit.
            MemoryCheck.requireNative(rw.bytes(), "--preset " + preset + " --type " + WeightTypes.name(type));
            m = ModelLoader.build(c, rw, be, null);
            what = preset + " (random " + WeightTypes.name(type) + ")";
        } else {
            m = ModelLoader.load(model, be, System.err::println);
            what = model.toString();
        }
        head.set(m.weights.lmHead);
        // The repack into the kernels' layouts counts as loading, as llama.cpp's does at its load.
        m.prepare();
        double loadS = (System.nanoTime() - t0) / 1e9;
        kv.apply(m);
        int deepest = ds[ds.length - 1];
        if ((long) deepest + prompt + gen > m.spec.maxPositions)
            throw new IllegalArgumentException("--depth + --prompt + --gen exceeds the model's context " + m.spec.maxPositions);
        java.util.Random rnd = new java.util.Random(seed);
        int[] ids = new int[prompt], ctx = new int[deepest];
        for (int i = 0; i < prompt; i++) ids[i] = rnd.nextInt(m.spec.vocab);
        for (int i = 0; i < deepest; i++) ctx[i] = rnd.nextInt(m.spec.vocab);
        System.out.printf(Locale.ROOT, "model     %s%ncpu       %s%nthreads   %d%nkv cache  %s%nload      %.2f s%n", what, jllm.tensor.CpuInfo.describe(), n, m.kvType(), loadS);
        System.out.printf(Locale.ROOT, "%-16s %8s %10s %12s %12s%n", "test", "tokens", "best s", "best tok/s", "median tok/s");
        // The context is filled once per depth (untimed, continuing the last one); every run truncates back to it, as llama-bench -d does.
        Model.State st = m.newState();
        st.ensure(deepest + prompt + gen);
        double pp = 0, tg = 0;
        int filled = 0;
        for (int depth : ds) {
            st.truncate(filled);
            long f0 = System.nanoTime();
            for (int from = filled; from < depth; from += FILL_STEP)
                m.forward(st, java.util.Arrays.copyOfRange(ctx, from, Math.min(depth, from + FILL_STEP)), false, null);
            if (depth > filled)
                System.out.printf(Locale.ROOT, "%-16s %8d %10.3f %12.2f %12s%n", "fill " + filled + ".." + depth, depth - filled,
                        (System.nanoTime() - f0) / 1e9, (depth - filled) / ((System.nanoTime() - f0) / 1e9), "");
            filled = depth;
            // The whole test, not a few steps: attention's code recompiles as the context grows (C2's
            // speculations on a branch and on loop bounds trap at longer contexts: unstable_if,
            // profile_predicate, loop_limit_check), and those compiles block the calling thread for
            // 5-45 ms each; after a 4-step warm-up they fell inside the timed steps (1B
            // Q4_K_M, 64 steps: attention 1.4 ms a step on average against a median of 0.3; AMD EPYC
            // Zen 4, docs/quantization-and-speed.md, fortieth round).
            for (int w = 0; w < warmup; w++) run(m, st, depth, ids, gen, null, null, null);
            // Best of several runs: on a shared machine other processes only ever slow a run down.
            double[] ppS = new double[reps], tgS = new double[reps], phases = new double[PhaseTimer.Phase.values().length];
            double[] prePhases = new double[phases.length];
            for (int i = 0; i < reps; i++) {
                double[] r = run(m, st, depth, ids, gen, timer, prePhases, phases);
                ppS[i] = r[0];
                tgS[i] = r[1];
            }
            java.util.Arrays.sort(ppS);
            java.util.Arrays.sort(tgS);
            pp = prompt / ppS[0];
            tg = gen == 0 ? 0 : gen / tgS[0];
            String at = depth > 0 ? " @ d" + depth : "";
            System.out.printf(Locale.ROOT, "%-16s %8d %10.3f %12.2f %12.2f%n", "pp" + prompt + at, prompt, ppS[0], pp, prompt / ppS[reps / 2]);
            if (gen > 0) System.out.printf(Locale.ROOT, "%-16s %8d %10.3f %12.2f %12.2f%n", "tg" + gen + at, gen, tgS[0], tg, gen / tgS[reps / 2]);
            if (timer != null) printBreakdown("prefill", prePhases, java.util.Arrays.stream(ppS).sum());
            if (timer != null && gen > 0) printBreakdown("decode", phases, java.util.Arrays.stream(tgS).sum());
        }
        System.out.printf(Locale.ROOT, "peak RSS  %.0f MiB%n", peakRssKb() / 1024.0);
        System.out.printf(Locale.ROOT, "pp_tok_s=%.2f tg_tok_s=%.2f%n", pp, tg);
        return 0;
    }

    /** Tokens per forward call when filling the context (llama.cpp's default micro-batch). */
    private static final int FILL_STEP = 512;

    /**
     * Prefill seconds and decode seconds (greedy continuation of the prompt) after the first
     * {@code depth} cached tokens; with a timer, adds the prefill's and the decode steps' seconds per
     * phase to {@code prePhases} and {@code phases}.
     */
    private static double[] run(Model m, Model.State st, int depth, int[] ids, int gen, PhaseTimer timer, double[] prePhases, double[] phases) {
        st.truncate(depth);
        if (timer != null) timer.reset();
        long a = System.nanoTime();
        float[] logits = m.forward(st, ids, false, null);
        if (timer != null) {
            for (PhaseTimer.Phase p : PhaseTimer.Phase.values()) prePhases[p.ordinal()] += timer.seconds(p);
            timer.reset();
        }
        long b = System.nanoTime();
        for (int i = 0; i < gen; i++) logits = m.forward(st, new int[] {argmax(logits)}, false, null);
        long c = System.nanoTime();
        if (timer != null)
            for (PhaseTimer.Phase p : PhaseTimer.Phase.values()) phases[p.ordinal()] += timer.seconds(p);
        return new double[] {(b - a) / 1e9, (c - b) / 1e9};
    }

    /** Where the prefill's or the decode steps' time went (inference runs only forward phases; the remainder is host work between calls). */
    private static void printBreakdown(String what, double[] phases, double total) {
        double gemm = phases[PhaseTimer.Phase.FWD_GEMM.ordinal()], headS = phases[PhaseTimer.Phase.HEAD_FWD.ordinal()];
        double attn = phases[PhaseTimer.Phase.FWD_ATTN.ordinal()], other = phases[PhaseTimer.Phase.FWD_OTHER.ordinal()];
        System.out.printf(Locale.ROOT, "  %s time: matmuls %.1f%%, LM head %.1f%%, attention+RoPE+KV store %.1f%%, norms/element-wise %.1f%%, between calls %.1f%%%n",
                what, 100 * gemm / total, 100 * headS / total, 100 * attn / total, 100 * other / total, 100 * (total - gemm - headS - attn - other) / total);
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /** VmHWM of /proc/self/status in KiB (0 where there is no procfs). */
    static long peakRssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status")))
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        } catch (Exception e) {
            // not Linux: no figure
        }
        return 0;
    }
}

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
import jllm.tensor.CpuBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {BenchTokenizerCommand.class, BenchKernelsCommand.class, BenchTrainCommand.class},
        description = {"Measure prefill (pp) and decode (tg) speed of a model, or of random weights of a preset geometry;",
                "`jllm bench tokenizer` measures tokenizer encoding speed; `jllm bench kernels` matmul kernels against the machine's bandwidth and FMA peak; `jllm bench train` training steps.",
                "The last line is always: pp_tok_s=<float> tg_tok_s=<float>"})
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

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed runs first, so the JIT has compiled the kernels (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--reps", defaultValue = "3", description = "Timed repetitions; the table shows the best and the median (default ${DEFAULT-VALUE})")
    int reps;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of random weights and prompt")
    long seed;

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
        int n = Threads.resolve(threads);
        long t0 = System.nanoTime();
        Model m;
        String what;
        if (preset != null) {
            Config c = Presets.config(preset);
            RandomWeights rw = new RandomWeights(c, GgufConverter.matrixTypes(c, type), WeightTypes.name(type), seed, n);
            // The weights live in memory (no file to map): refuse up front what cannot fit.
            MemoryCheck.requireNative(rw.bytes(), "--preset " + preset + " --type " + WeightTypes.name(type));
            m = ModelLoader.build(c, rw, new CpuBackend(n, exact), null);
            what = preset + " (random " + WeightTypes.name(type) + ")";
        } else {
            m = Models.load(model, n, exact);
            what = model.toString();
        }
        double loadS = (System.nanoTime() - t0) / 1e9;
        if ((long) prompt + gen > m.spec.maxPositions) throw new IllegalArgumentException("--prompt + --gen exceeds the model's context " + m.spec.maxPositions);
        java.util.Random rnd = new java.util.Random(seed);
        int[] ids = new int[prompt];
        for (int i = 0; i < prompt; i++) ids[i] = rnd.nextInt(m.spec.vocab);
        for (int w = 0; w < warmup; w++) run(m, ids, Math.min(gen, 4));
        // Best of several runs: on a shared machine other processes only ever slow a run down.
        double[] ppS = new double[reps], tgS = new double[reps];
        for (int i = 0; i < reps; i++) {
            double[] r = run(m, ids, gen);
            ppS[i] = r[0];
            tgS[i] = r[1];
        }
        java.util.Arrays.sort(ppS);
        java.util.Arrays.sort(tgS);
        double pp = prompt / ppS[0], tg = gen == 0 ? 0 : gen / tgS[0];
        System.out.printf(Locale.ROOT, "model     %s%nthreads   %d%nload      %.2f s%n", what, n, loadS);
        System.out.printf(Locale.ROOT, "%-10s %8s %10s %12s %12s%n", "test", "tokens", "best s", "best tok/s", "median tok/s");
        System.out.printf(Locale.ROOT, "%-10s %8d %10.3f %12.2f %12.2f%n", "pp" + prompt, prompt, ppS[0], pp, prompt / ppS[reps / 2]);
        if (gen > 0) System.out.printf(Locale.ROOT, "%-10s %8d %10.3f %12.2f %12.2f%n", "tg" + gen, gen, tgS[0], tg, gen / tgS[reps / 2]);
        System.out.printf(Locale.ROOT, "peak RSS  %.0f MiB%n", peakRssKb() / 1024.0);
        System.out.printf(Locale.ROOT, "pp_tok_s=%.2f tg_tok_s=%.2f%n", pp, tg);
        return 0;
    }

    /** Prefill seconds and decode seconds (greedy continuation of the prompt). */
    private static double[] run(Model m, int[] ids, int gen) {
        Model.State st = m.newState();
        long a = System.nanoTime();
        float[] logits = m.forward(st, ids, false, null);
        long b = System.nanoTime();
        for (int i = 0; i < gen; i++) logits = m.forward(st, new int[] {argmax(logits)}, false, null);
        long c = System.nanoTime();
        return new double[] {(b - a) / 1e9, (c - b) / 1e9};
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

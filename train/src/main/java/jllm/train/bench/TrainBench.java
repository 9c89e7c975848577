package jllm.train.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Consumer;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.model.Positions;
import jllm.model.Presets;
import jllm.model.RandomWeights;
import jllm.model.Weights;
import jllm.tensor.CpuBackend;
import jllm.tensor.GgmlType;
import jllm.tensor.Parallel;
import jllm.tensor.Roofline;
import jllm.tensor.Tensor;
import jllm.train.Trainable;
import jllm.train.TrainStep;
import jllm.train.lora.BaseQuantization;
import jllm.train.lora.LoraConfig;
import jllm.train.optim.LrSchedule;

/**
 * {@code jllm bench train}: training steps on random tokens, as {@code ../shared/tools/torch_lora_bench.py}
 * runs them in PyTorch (B rows of T tokens, each predicting the next of T + 1 ids; AdamW), timed per
 * step and per phase ({@link PhaseTimer}), against the fp32 FMA peak measured in the same process.
 */
public final class TrainBench {
    private TrainBench() { }

    /** The benchmark's settings; {@code baseType} null = as stored ({@code --model}) or bf16 (preset). */
    public record Options(String preset, Path model, int seq, int batch, boolean full, LoraConfig lora, int threads, boolean checkpointing,
                          int steps, int warmup, String baseType, long seed, double peakSeconds, long checkpointKeepMib) {
        public Options {
            if ((preset == null) == (model == null)) throw new IllegalArgumentException("give exactly one of --model or --preset");
            if (seq < 2) throw new IllegalArgumentException("--seq must be >= 2, got " + seq);
            if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
            if ((long) seq * batch > 1 << 20) throw new IllegalArgumentException("--seq x --batch must be at most 1048576 tokens, got " + (long) seq * batch);
            if (threads < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
            if (steps < 1 || warmup < 0) throw new IllegalArgumentException("--steps must be >= 1 and --warmup >= 0");
            if (!full && lora == null) throw new IllegalArgumentException("give LoRA settings or --full");
            if (checkpointKeepMib < 0) throw new IllegalArgumentException("--checkpoint-keep must be >= 0 MiB, got " + checkpointKeepMib);
        }
    }

    /** What a run measured. */
    public record Report(double bestSeconds, double medianSeconds, double tokensPerSecond, double peakGmacs, double gemmShareOfPeak,
                         long peakRssMb, double lastLoss) { }

    public static Report run(Options o, PrintStream out, Consumer<String> warn) {
        Model[] holder = new Model[1];
        PhaseTimer timer = new PhaseTimer(CpuBackend.reproducible(o.threads), () -> holder[0] == null ? null : holder[0].weights.lmHead);
        long t0 = System.nanoTime();
        Model m;
        String what;
        if (o.preset != null) {
            GgmlType type = o.baseType == null ? GgmlType.BF16 : BaseQuantization.parseType(o.baseType);
            m = RandomWeights.model(Presets.config(o.preset), type, o.seed, timer);
            what = o.preset + " (random weights, frozen base " + type.name().toLowerCase(Locale.ROOT) + ")";
        } else {
            if (!Files.exists(o.model)) throw new IllegalArgumentException(o.model + ": no such file or directory");
            m = ModelLoader.load(o.model, timer, warn);
            what = o.model.toString();
            if (o.baseType != null) {
                GgmlType type = BaseQuantization.parseType(o.baseType);
                Parallel par = Parallel.shared(o.threads);
                for (Weights.Entry e : List.copyOf(m.weights.params))
                    if (e.key() instanceof Tensor w && w.rank() == 2) m.weights.replace(w, BaseQuantization.convert(w, type, par));
                what += " (frozen base as " + type.name().toLowerCase(Locale.ROOT) + ")";
            }
        }
        holder[0] = m;
        m.checkpointKeepBytes(o.checkpointKeepMib << 20);
        long params = 0;
        for (Weights.Entry e : m.weights.params) params += Arrays.stream(e.shape()).reduce(1, (a, b) -> a * b);
        Trainable t = o.full ? Trainable.full(m, n -> true) : Trainable.lora(m, o.lora, o.seed);
        if (t.lora() != null) timer.wrapAdapters(m.weights, o.lora.r());
        TrainStep ts = TrainStep.builder(m, t, LrSchedule.constant(1e-4, 0)).checkpointing(o.checkpointing).seed(o.seed).build();
        double loadS = (System.nanoTime() - t0) / 1e9;

        int T = o.seq, B = o.batch, V = m.spec.vocab;
        Random rnd = new Random(o.seed);
        int[] tokens = new int[B * T], targets = new int[B * T];
        for (int b = 0; b < B; b++) {
            int[] ids = new int[T + 1];
            for (int i = 0; i <= T; i++) ids[i] = rnd.nextInt(V);
            System.arraycopy(ids, 0, tokens, b * T, T);
            System.arraycopy(ids, 1, targets, b * T, T);
        }
        List<TrainStep.Batch> batch = List.of(new TrainStep.Batch(tokens, Positions.batch(B, T), targets));

        Parallel par = Parallel.shared(o.threads);
        double peak = Roofline.fmaGmacs(par, o.peakSeconds);
        out.printf(Locale.ROOT, "model      %s, %.1fM parameters%n", what, params / 1e6);
        out.printf(Locale.ROOT, "training   %s, %.2fM trainable; checkpointing %s; AdamW, clip 1.0%n",
                o.full ? "full fine-tuning" : "LoRA r " + o.lora.r() + " alpha " + fmt(o.lora.alpha()) + " on " + t.lora().pairs.size() + " modules ("
                        + String.join(",", o.lora.targetModules()) + ")", t.parameterCount() / 1e6, ts.checkpointing() ? "on" : "off");
        out.printf(Locale.ROOT, "batch      %d x %d tokens; %d threads; fp32 FMA peak %.1f GMAC/s (measured now); load %.1f s%n", B, T, o.threads, peak, loadS);

        out.printf(Locale.ROOT, "memory     after load: rss %d MiB, peak %d MiB%n", statusKb("VmRSS:") / 1024, peakRssKb() / 1024);
        if (ts.checkpointing()) {
            int kept = m.trainForward(tokens, Positions.batch(B, T), true).layersKeepingProjections();
            out.printf(Locale.ROOT, "checkpoint %d of %d layers keep their q/k/v/gate/up outputs (budget %d MiB), the others recompute them%n",
                    kept, m.spec.layers, o.checkpointKeepMib);
        }
        for (int w = 0; w < o.warmup; w++) ts.step(batch);
        double[] secs = new double[o.steps], cpus = new double[o.steps];
        double best = Double.MAX_VALUE, loss = 0;
        double[] bestPhases = null, bestMacs = null;
        for (int s = 0; s < o.steps; s++) {
            timer.reset();
            long a = System.nanoTime(), ca = processCpuNanos();
            TrainStep.Result r = ts.step(batch);
            secs[s] = (System.nanoTime() - a) / 1e9;
            cpus[s] = (processCpuNanos() - ca) / 1e9;
            loss = r.loss();
            timer.add(PhaseTimer.Phase.UPDATE, r.updateSeconds());
            double timed = 0;
            for (PhaseTimer.Phase p : PhaseTimer.Phase.values()) timed += timer.seconds(p);
            timer.add(PhaseTimer.Phase.HOST, Math.max(0, secs[s] - timed));
            out.printf(Locale.ROOT, "step %d     %.3f s  (cpu %.3f s)  loss %.4f  grad norm %.3f  rss %d MiB%n", r.step(), secs[s], cpus[s], r.loss(), r.gradNorm(),
                    statusKb("VmRSS:") / 1024);
            if (secs[s] < best) {
                best = secs[s];
                bestPhases = snapshot(timer, false);
                bestMacs = snapshot(timer, true);
            }
        }
        double[] sorted = secs.clone();
        Arrays.sort(sorted);
        double median = sorted[sorted.length / 2], tokS = B * T / best;

        out.printf(Locale.ROOT, "%nwhere the best step's %.3f s go:%n", best);
        out.printf(Locale.ROOT, "  %-48s %8s %6s %8s %8s %7s%n", "phase", "s", "share", "GMAC", "GMAC/s", "% peak");
        double gemmS = 0, gemmM = 0, allM = 0;
        for (PhaseTimer.Phase p : PhaseTimer.Phase.values()) {
            double s = bestPhases[p.ordinal()], mc = bestMacs[p.ordinal()] / 1e9;
            if (s == 0 && mc == 0) continue;
            allM += mc;
            if (p.gemm()) { gemmS += s; gemmM += mc; }
            if (mc > 0) out.printf(Locale.ROOT, "  %-48s %8.3f %5.1f%% %8.1f %8.1f %6.0f%%%n", p.label, s, 100 * s / best, mc, mc / s, 100 * mc / s / peak);
            else out.printf(Locale.ROOT, "  %-48s %8.3f %5.1f%%%n", p.label, s, 100 * s / best);
        }
        double share = gemmS > 0 ? gemmM / gemmS / peak : 0;
        out.printf(Locale.ROOT, "GEMMs: %.1f GMAC in %.3f s = %.1f GMAC/s, %.0f%% of the fp32 FMA peak; %.0f%% of the step%n",
                gemmM, gemmS, gemmM / gemmS, 100 * share, 100 * gemmS / best);
        out.printf(Locale.ROOT, "whole step: %.1f GMAC (incl. LoRA) in %.3f s = %.0f%% of the fp32 FMA peak%n", allM, best, 100 * allM / best / peak);
        out.printf(Locale.ROOT, "step       best %.3f s, median %.3f s: %.1f tok/s best, %.1f tok/s median%n", best, median, tokS, B * T / median);
        double[] cpuSorted = cpus.clone();
        Arrays.sort(cpuSorted);
        // CPU time is what a step costs whatever else runs on the machine (wall time on a shared box is not):
        // tokens per CPU-second x threads is the wall-clock rate the step would have with its cores to itself.
        out.printf(Locale.ROOT, "cpu        least %.3f s, median %.3f s per step (all threads): %.1f tokens per CPU-second x %d threads = %.1f tok/s unshared%n",
                cpuSorted[0], cpuSorted[cpuSorted.length / 2], B * T / cpuSorted[0], o.threads, o.threads * B * T / cpuSorted[0]);
        long rss = peakRssKb() / 1024;
        out.printf(Locale.ROOT, "peak RSS   %d MiB%n", rss);
        out.printf(Locale.ROOT, "train_tok_s=%.2f peak_rss_mb=%d%n", tokS, rss);
        return new Report(best, median, tokS, peak, share, rss, loss);
    }

    private static double[] snapshot(PhaseTimer t, boolean macs) {
        double[] out = new double[PhaseTimer.Phase.values().length];
        for (PhaseTimer.Phase p : PhaseTimer.Phase.values()) out[p.ordinal()] = macs ? t.macs(p) : t.seconds(p);
        return out;
    }

    private static String fmt(double v) { return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v); }

    /** CPU time of this process, every thread (JIT and GC included), in nanoseconds; 0 where the JVM cannot tell. */
    private static long processCpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? Math.max(0, os.getProcessCpuTime()) : 0;
    }

    /** VmHWM of /proc/self/status in KiB (0 where there is no procfs). */
    public static long peakRssKb() { return statusKb("VmHWM:"); }

    private static long statusKb(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status")))
                if (line.startsWith(key)) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        } catch (Exception e) {
            // not Linux: no figure
        }
        return 0;
    }

    /** Every LoRA setting the command line names; errors are LoraConfig's one-liners. */
    public static LoraConfig lora(int r, double alpha, double dropout, String targets) {
        return new LoraConfig(r, alpha, dropout, false, LoraConfig.parseTargets(targets));
    }
}

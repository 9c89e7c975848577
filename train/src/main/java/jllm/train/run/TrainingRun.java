package jllm.train.run;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import jllm.train.TrainStep;

/**
 * The loop of {@code jllm finetune} and {@code jllm train}: steps of {@code gradAccum} micro-batches of
 * {@code batchSize} units each through {@link TrainStep}, an evaluation of the validation set every
 * {@code evalEvery} steps (and at the start and the end), a checkpoint every {@code saveEvery} steps
 * (and when asked to stop), a line of {@code metrics.jsonl} for each.
 *
 * <p>The data of step k (0-based) is a pure function of k: epoch {@code k / stepsPerEpoch}, units
 * {@code [j·B·A, (j+1)·B·A)} of that epoch's seeded order with {@code j = k mod stepsPerEpoch} (the last
 * step of an epoch takes what is left). So a checkpoint's step number is the whole data position,
 * and a run resumed from step k sees exactly the batches the uninterrupted run saw from k on; with the
 * optimizer state, the trained values and the seeded dropout masks restored by {@link TrainStep}, it
 * reaches the same losses bit for bit (same thread count).
 */
public final class TrainingRun {
    /**
     * @param evalTokens tokens of the validation set the evaluations during the run look at (its first
     *                   micro-batches, the same every time; 0: all); the final evaluation sees all of it
     */
    public record Settings(int epochs, long maxSteps, int batchSize, int gradAccum, int evalEvery, int saveEvery, long evalTokens) {
        public Settings(int epochs, long maxSteps, int batchSize, int gradAccum, int evalEvery, int saveEvery) {
            this(epochs, maxSteps, batchSize, gradAccum, evalEvery, saveEvery, 0);
        }

        public Settings {
            if (evalTokens < 0) throw new IllegalArgumentException("--eval-tokens must be >= 0 (0: all), not " + evalTokens);
            if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be at least 1, not " + batchSize);
            if (gradAccum < 1) throw new IllegalArgumentException("--grad-accum must be at least 1, not " + gradAccum);
            if (maxSteps < 0) throw new IllegalArgumentException("--max-steps must be >= 1 (or 0 for --epochs), not " + maxSteps);
            if (maxSteps == 0 && epochs < 1) throw new IllegalArgumentException("--epochs must be at least 1, not " + epochs);
            if (evalEvery < 0) throw new IllegalArgumentException("--eval-every must be >= 0 (0: only at the start and the end), not " + evalEvery);
            if (saveEvery < 0) throw new IllegalArgumentException("--save-every must be >= 0 (0: only when stopped), not " + saveEvery);
        }

        public int unitsPerStep() { return batchSize * gradAccum; }

        public long stepsPerEpoch(int units) { return (units + unitsPerStep() - 1) / unitsPerStep(); }

        /** {@code maxSteps} when given, else {@code epochs} passes over the data. */
        public long totalSteps(int units) { return maxSteps > 0 ? maxSteps : epochs * stepsPerEpoch(units); }
    }

    /** One training step's figures. */
    public record StepInfo(TrainStep.Result result, long total, double epoch, double tokensPerSecond, double elapsedSeconds, double etaSeconds) { }

    /** One evaluation: mean loss per target token, its perplexity, and loss per character when the source knows its characters. */
    public record EvalInfo(long step, double loss, long targets, double natsPerChar) {
        public double perplexity() { return Math.exp(loss); }
    }

    public interface Listener {
        default void step(StepInfo s) { }

        default void eval(EvalInfo e) { }

        default void checkpoint(long step, Path dir) { }
    }

    public enum Outcome { FINISHED, STOPPED }

    private final TrainStep ts;
    private final BatchSource src;
    private final Settings s;
    private final Checkpoints checkpoints;
    private final MetricsLog metrics;
    private final Listener listener;
    private final Consumer<Path> checkpointExtra;
    private final List<EvalInfo> evals = new ArrayList<>();

    /** @param checkpointExtra writes anything else a checkpoint should hold (e.g. the adapter in PEFT's layout) */
    public TrainingRun(TrainStep ts, BatchSource src, Settings s, Checkpoints checkpoints, MetricsLog metrics, Listener listener,
                       Consumer<Path> checkpointExtra) {
        this.ts = ts;
        this.src = src;
        this.s = s;
        this.checkpoints = checkpoints;
        this.metrics = metrics;
        this.listener = listener;
        this.checkpointExtra = checkpointExtra;
        if (src.size() == 0) throw new IllegalArgumentException("no training data");
    }

    public long totalSteps() { return s.totalSteps(src.size()); }

    /** The data position of step k (0-based): epoch and index of its first unit. */
    public Checkpoints.Position position(long step) {
        long per = s.stepsPerEpoch(src.size());
        return new Checkpoints.Position(step, (int) (step / per), (int) (step % per) * s.unitsPerStep());
    }

    /** The micro-batches of step k (0-based). */
    public List<TrainStep.Batch> batches(long step) {
        Checkpoints.Position p = position(step);
        int end = Math.min(src.size(), p.index() + s.unitsPerStep());
        List<TrainStep.Batch> out = new ArrayList<>();
        for (int from = p.index(); from < end; from += s.batchSize()) out.add(src.batch(p.epoch(), from, Math.min(end, from + s.batchSize())));
        return out;
    }

    /**
     * Runs from the optimizer's current step (0, or a restored checkpoint's) to {@link #totalSteps()},
     * or until {@code stop} says so after a step (then a checkpoint is written and {@link Outcome#STOPPED}
     * returned).
     */
    public Outcome run(BooleanSupplier stop) {
        long total = totalSteps(), first = ts.steps();
        List<TrainStep.Batch> val = src.validation(s.batchSize()), partial = prefix(val, s.evalTokens());
        if (first == 0) evaluate(partial);
        long t0 = System.nanoTime(), tokens = 0;
        for (long k = first; k < total; k++) {
            TrainStep.Result r = ts.step(batches(k));
            tokens += r.tokens();
            double elapsed = (System.nanoTime() - t0) / 1e9;
            double perStep = elapsed / (k + 1 - first);
            StepInfo info = new StepInfo(r, total, epochOf(k + 1), tokens / elapsed, elapsed, perStep * (total - k - 1));
            ObjectNode line = MetricsLog.line().put("step", r.step()).put("epoch", round(info.epoch(), 4)).put("loss", r.loss())
                    .put("lr", r.lr()).put("grad_norm", r.gradNorm()).put("tokens", r.tokens()).put("targets", r.targetTokens())
                    .put("seconds", round(r.seconds(), 4));
            metrics.append(line);
            listener.step(info);
            long done = k + 1;
            boolean last = done == total;
            if (!val.isEmpty() && (last || (s.evalEvery() > 0 && done % s.evalEvery() == 0))) evaluate(last ? val : partial);
            boolean stopping = !last && stop.getAsBoolean();
            if (stopping || (!last && s.saveEvery() > 0 && done % s.saveEvery() == 0)) save(done);
            if (stopping) return Outcome.STOPPED;
        }
        return Outcome.FINISHED;
    }

    /** The first micro-batches holding about {@code tokens} tokens (all when 0). */
    static List<TrainStep.Batch> prefix(List<TrainStep.Batch> val, long tokens) {
        if (tokens <= 0) return val;
        long n = 0;
        for (int i = 0; i < val.size(); i++) {
            n += val.get(i).tokens().length;
            if (n >= tokens) return val.subList(0, i + 1);
        }
        return val;
    }

    private double epochOf(long stepsDone) {
        long per = s.stepsPerEpoch(src.size());
        return (double) stepsDone / per;
    }

    /** Writes a checkpoint after {@code stepsDone} steps. */
    public Path save(long stepsDone) {
        Path dir = checkpoints.save(position(stepsDone), d -> {
            ts.save(d);
            if (checkpointExtra != null) checkpointExtra.accept(d);
        });
        listener.checkpoint(stepsDone, dir);
        return dir;
    }

    /** Evaluates the validation set now (logged and told to the listener). */
    public EvalInfo evaluate(List<TrainStep.Batch> val) {
        if (val.isEmpty()) return null;
        double[] lt = ts.evaluate(val);
        long chars = src.validationChars();
        long all = 0;
        for (TrainStep.Batch b : val) all += b.targetCount();
        // Loss per character only over the whole validation text (a prefix's characters are not known).
        EvalInfo e = new EvalInfo(ts.steps(), lt[0], (long) lt[1], chars > 0 && all == totalValTargets() ? lt[0] * lt[1] / chars : Double.NaN);
        ObjectNode line = MetricsLog.line().put("step", e.step()).put("val_loss", e.loss()).put("val_ppl", e.perplexity()).put("val_targets", e.targets());
        if (!Double.isNaN(e.natsPerChar())) line.put("val_nats_per_char", e.natsPerChar());
        metrics.append(line);
        evals.add(e);
        listener.eval(e);
        return e;
    }

    public List<EvalInfo> evals() { return List.copyOf(evals); }

    private long totalValTargets = -1;

    private long totalValTargets() {
        if (totalValTargets < 0) {
            totalValTargets = 0;
            for (TrainStep.Batch b : src.validation(s.batchSize())) totalValTargets += b.targetCount();
        }
        return totalValTargets;
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
}

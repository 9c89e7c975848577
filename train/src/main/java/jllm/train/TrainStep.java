package jllm.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import jllm.formats.FormatException;
import jllm.formats.io.OutputFile;
import jllm.formats.safetensors.SafetensorsFile;
import jllm.formats.safetensors.SafetensorsWriter;
import jllm.model.Model;
import jllm.model.Positions;
import jllm.tensor.Backend;
import jllm.tensor.CpuBackend;
import jllm.tensor.DType;
import jllm.tensor.Parallel;
import jllm.train.data.PackedRow;
import jllm.train.optim.AdamW;
import jllm.train.optim.GradClip;
import jllm.train.optim.LrSchedule;
import jllm.train.optim.NonFiniteException;
import jllm.train.optim.Optimizer;
import jllm.train.optim.OptimizerState;
import jllm.train.optim.Sgd;

/**
 * One optimizer step of training, and everything it needs between steps: the model with what is
 * trained on it ({@link Trainable}: LoRA adapters and/or weights in full), the optimizer, the
 * learning-rate schedule, gradient clipping, gradient checkpointing and the run's seed.
 *
 * <pre>
 *   TrainStep ts = TrainStep.builder(model, Trainable.lora(model, LoraConfig.defaults(), seed),
 *                                    LrSchedule.cosine(2e-4, 10, totalSteps)).seed(seed).build();
 *   TrainStep.Result r = ts.step(List.of(TrainStep.Batch.of(row1), TrainStep.Batch.of(row2)));
 *   r.loss(); r.targetTokens(); r.gradNorm(); r.lr();
 * </pre>
 *
 * <p>{@link #step} takes the step's micro-batches (gradient accumulation) and
 * <ol>
 *   <li>counts the target tokens of all of them first;</li>
 *   <li>runs forward, the fused LM head + cross-entropy, and backward on each in turn, the summed loss's
 *       gradient scaled by 1 / (that total), so micro-batches of any lengths add up to exactly the
 *       gradient of one batch of the same examples (the 2024 accumulation bug: a mean of
 *       per-micro-batch means is not the mean);</li>
 *   <li>clips the gradients by their global norm, and steps the optimizer with the schedule's
 *       learning rate for this step.</li>
 * </ol>
 * A loss or gradient that is not finite stops the step with a {@link NonFiniteException} naming it,
 * before any weight changes.
 *
 * <p>Reproducible: the same model, seed, data and thread count give the same loss and weights to the
 * bit (build the model on {@link CpuBackend#reproducible}); LoRA dropout masks are functions of
 * (seed, step, micro-batch, module), so a resumed run ({@link #save} / {@link #restore}) continues
 * exactly as an uninterrupted one.
 */
public final class TrainStep {
    /**
     * One micro-batch: a row of packed examples. {@code targets[t]} is the token row {@code t} must
     * predict (already shifted: the label of token {@code t + 1} of the same example), or
     * {@link Positions#IGNORE}.
     */
    public record Batch(int[] tokens, Positions positions, int[] targets) {
        public Batch {
            Objects.requireNonNull(tokens, "tokens");
            Objects.requireNonNull(positions, "positions");
            Objects.requireNonNull(targets, "targets");
            if (tokens.length == 0) throw new IllegalArgumentException("a micro-batch needs at least one token");
            if (positions.rows != tokens.length || targets.length != tokens.length)
                throw new IllegalArgumentException("micro-batch of " + tokens.length + " tokens has " + positions.rows + " positions and "
                        + targets.length + " targets");
        }

        /** A packed row of the data pipeline (its shifted {@link PackedRow#targets()}, its segments as example boundaries). */
        public static Batch of(PackedRow row) {
            return new Batch(row.tokens(), Positions.segments(row.segments()), row.targets());
        }

        /** Plain language modelling: every token predicts the next one of its example. */
        public static Batch nextToken(int[] tokens, Positions p) {
            return new Batch(tokens, p, p.nextTokenLabels(tokens));
        }

        /**
         * Hugging Face style {@code labels} aligned with the tokens ({@link Positions#IGNORE} where there
         * is no loss): row t predicts {@code labels[t + 1]} when token t + 1 belongs to the same example.
         */
        public static Batch fromLabels(int[] tokens, Positions p, int[] labels) {
            if (labels.length != tokens.length) throw new IllegalArgumentException(labels.length + " labels for " + tokens.length + " tokens");
            int[] t = p.nextTokenLabels(labels);
            return new Batch(tokens, p, t);
        }

        /** Rows that carry a target. */
        public int targetCount() {
            int n = 0;
            for (int t : targets) if (t != Positions.IGNORE) n++;
            return n;
        }
    }

    /**
     * What one step did: its number (1-based), the mean loss over its target tokens (before the update),
     * the target and input token counts, the global gradient norm before clipping, the learning rate
     * used, and the wall time of the forward/backward passes and of the update (clipping + optimizer).
     */
    public record Result(long step, double loss, long targetTokens, long tokens, int microBatches, double gradNorm, double lr,
                         double forwardBackwardSeconds, double updateSeconds) {
        public double seconds() { return forwardBackwardSeconds + updateSeconds; }
    }

    private final Model model;
    private final Trainable trainable;
    private final Optimizer optimizer;
    private final LrSchedule schedule;
    private final double maxGradNorm;
    private final boolean checkpointing;
    private final long seed;
    private final Parallel par;

    private TrainStep(Builder b) {
        this.model = b.model;
        this.trainable = b.trainable;
        this.schedule = b.schedule;
        this.maxGradNorm = b.maxGradNorm;
        this.checkpointing = b.checkpointing != null ? b.checkpointing : b.trainable.lora() != null;
        this.seed = b.seed;
        Backend be = b.model.backend();
        this.par = be instanceof CpuBackend c ? c.parallel() : Parallel.shared(be.threads());
        List<Param> ps = b.trainable.params();
        this.optimizer = b.sgd != null ? new Sgd(ps, b.sgd, par) : new AdamW(ps, b.adamw, b.decays, par);
    }

    /** A step for {@code trainable} on {@code model}, with learning rates from {@code schedule}; defaults as {@link Builder} lists. */
    public static Builder builder(Model model, Trainable trainable, LrSchedule schedule) {
        return new Builder(model, trainable, schedule);
    }

    /**
     * Settings of a run. Defaults: AdamW with torch's betas/eps and weight decay 0.01 on every
     * parameter but biases and norm weights (Hugging Face Trainer's rule); clipping at global norm 1.0
     * (Trainer's {@code max_grad_norm}); gradient checkpointing on for LoRA, off for full fine-tuning;
     * seed 0.
     */
    public static final class Builder {
        private final Model model;
        private final Trainable trainable;
        private final LrSchedule schedule;
        private AdamW.Config adamw = AdamW.Config.DEFAULT;
        private Predicate<Param> decays = AdamW.noBiasOrNorm();
        private Sgd.Config sgd;
        private double maxGradNorm = 1.0;
        private Boolean checkpointing;
        private long seed;

        private Builder(Model model, Trainable trainable, LrSchedule schedule) {
            this.model = Objects.requireNonNull(model, "model");
            this.trainable = Objects.requireNonNull(trainable, "trainable");
            this.schedule = Objects.requireNonNull(schedule, "schedule");
        }

        /** AdamW with these settings; weight decay on the parameters {@code decays} accepts. */
        public Builder adamw(AdamW.Config cfg, Predicate<Param> decays) {
            this.adamw = Objects.requireNonNull(cfg);
            this.decays = Objects.requireNonNull(decays);
            this.sgd = null;
            return this;
        }

        /** SGD (with momentum, as configured) instead of AdamW. */
        public Builder sgd(Sgd.Config cfg) {
            this.sgd = Objects.requireNonNull(cfg);
            return this;
        }

        /** Clip gradients to this global L2 norm; {@code 0} turns clipping off (the norm is still reported). */
        public Builder maxGradNorm(double norm) {
            if (!(norm >= 0) || Double.isInfinite(norm))
                throw new IllegalArgumentException("gradient clipping: max norm must be a finite number >= 0 (0 = off), got " + norm);
            this.maxGradNorm = norm;
            return this;
        }

        /** Recompute each layer in backward instead of keeping its activations (bit-identical gradients either way). */
        public Builder checkpointing(boolean on) {
            this.checkpointing = on;
            return this;
        }

        /** The run's seed: LoRA dropout masks (adapters' init takes its own seed at {@link Trainable#lora}). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public TrainStep build() { return new TrainStep(this); }
    }

    // ---------------------------------------------------------------------------------------------

    /** One optimizer step over {@code microBatches} (gradient accumulation when more than one). */
    public Result step(List<Batch> microBatches) {
        long stepNo = optimizer.steps() + 1;
        long targets = check(microBatches, stepNo);
        long tokens = 0;
        long t0 = System.nanoTime();
        trainable.zeroGrads();
        float dScale = (float) (1.0 / targets);
        double sum = 0;
        for (int i = 0; i < microBatches.size(); i++) {
            Batch b = microBatches.get(i);
            tokens += b.tokens.length;
            if (trainable.lora() != null) trainable.lora().setStep(seed, stepNo, i);
            Model.Record r = model.trainForward(b.tokens, b.positions, checkpointing);
            double s = model.headLoss(r, b.targets, dScale, trainable.grads());
            if (!Double.isFinite(s)) throw NonFiniteException.loss(stepNo, s / b.targetCount());
            model.backward(r, trainable.grads());
            sum += s;
        }
        long t1 = System.nanoTime();
        double lr = schedule.lr(optimizer.steps());
        List<Param> ps = trainable.params();
        double norm = maxGradNorm > 0 ? GradClip.clip(ps, maxGradNorm, stepNo, par) : GradClip.norm(ps, par);
        if (!Double.isFinite(norm)) Optimizer.requireFiniteGrads(ps, stepNo);
        optimizer.step(lr);
        long t2 = System.nanoTime();
        return new Result(stepNo, sum / targets, targets, tokens, microBatches.size(), norm, lr, (t1 - t0) / 1e9, (t2 - t1) / 1e9);
    }

    /**
     * The mean cross-entropy over the target tokens of {@code batches}, without gradients or weight
     * changes (evaluation: adapters without dropout, no activations kept). Returns {@code [loss, targets]}.
     */
    public double[] evaluate(List<Batch> batches) {
        long targets = check(batches, optimizer.steps());
        double sum = 0;
        for (Batch b : batches) sum += model.loss(b.tokens, b.positions, b.targets);
        return new double[] {sum / targets, targets};
    }

    /** Target tokens over all micro-batches; refuses an empty step and targets outside the vocabulary. */
    private long check(List<Batch> batches, long stepNo) {
        if (batches == null || batches.isEmpty()) throw new IllegalArgumentException("step " + stepNo + ": no micro-batches");
        long n = 0;
        int vocab = model.spec.vocab;
        for (int i = 0; i < batches.size(); i++) {
            int[] t = batches.get(i).targets;
            for (int r = 0; r < t.length; r++) {
                if (t[r] == Positions.IGNORE) continue;
                if (t[r] < 0 || t[r] >= vocab)
                    throw new IllegalArgumentException("step " + stepNo + ", micro-batch " + (i + 1) + ": target " + t[r] + " at row " + r
                            + " is neither " + Positions.IGNORE + " nor a token id in [0, " + vocab + ")");
                n++;
            }
        }
        if (n == 0)
            throw new IllegalArgumentException("step " + stepNo + ": no target tokens in its " + batches.size()
                    + " micro-batch(es) (every label is " + Positions.IGNORE + "): nothing to learn from; check the label masking");
        return n;
    }

    // ---------------------------------------------------------------------------------------------

    public Model model() { return model; }

    public Trainable trainable() { return trainable; }

    public Optimizer optimizer() { return optimizer; }

    public LrSchedule schedule() { return schedule; }

    /** Optimizer steps taken (including those of a restored run). */
    public long steps() { return optimizer.steps(); }

    public long seed() { return seed; }

    public boolean checkpointing() { return checkpointing; }

    public double maxGradNorm() { return maxGradNorm; }

    // ---- resume ----------------------------------------------------------------------------------

    /** The trained values, exactly (F32), by parameter name. */
    public static final String PARAMS = "trainable.safetensors";
    /** The step count, seed and settings. */
    public static final String STATE = "train_step.json";
    private static final ObjectMapper OM = new ObjectMapper();

    /**
     * Writes everything a bit-exact resume needs into the existing directory {@code dir}: the trained
     * values ({@value #PARAMS}), the optimizer's state ({@link OptimizerState}) and the step count and
     * seed ({@value #STATE}; dropout masks are functions of seed and step, so nothing else is random).
     * The data order is the caller's to save.
     */
    public void save(Path dir) {
        if (!Files.isDirectory(dir)) throw new FormatException(dir + ": checkpoint directory does not exist");
        SafetensorsWriter w = new SafetensorsWriter().metadata("jllm.trainable", "fp32 master values");
        for (Param p : trainable.params()) {
            if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) w.add(p.name, DType.F32, p.shape(), MemorySegment.ofArray(p.value));
            else w.addF32(p.name, p.value, p.shape());
        }
        OutputFile.write(dir.resolve(PARAMS), true, List.of(), (OutputFile.StreamBody) w::write);
        OptimizerState.save(dir, optimizer, schedule);
        ObjectNode json = OM.createObjectNode();
        json.put("step", optimizer.steps());
        json.put("seed", seed);
        json.put("checkpointing", checkpointing);
        json.put("max_grad_norm", maxGradNorm);
        json.put("trainable", trainable.lora() != null ? (trainable.grads().all().isEmpty() ? "lora" : "lora+full") : "full");
        json.put("parameters", trainable.parameterCount());
        OutputFile.writeString(dir.resolve(STATE), true, json.toPrettyString() + "\n");
    }

    /**
     * Restores a {@link #save}d run into this step (same model, same trainable parameters, same
     * optimizer kind; refused by name otherwise, before anything changes). The saved seed must equal
     * this run's, else dropout masks would differ from the uninterrupted run.
     */
    public void restore(Path dir) {
        Path sp = dir.resolve(STATE), pp = dir.resolve(PARAMS);
        JsonNode json;
        try {
            json = OM.readTree(Files.readString(sp));
        } catch (IOException e) {
            throw new FormatException(sp + ": cannot read training state: " + OutputFile.describe(e), e);
        }
        if (json == null || !json.path("step").canConvertToLong() || !json.path("seed").canConvertToLong())
            throw new FormatException(sp + ": not a jllm training state (needs \"step\" and \"seed\")");
        if (json.get("seed").asLong() != seed)
            throw new IllegalArgumentException(sp + ": saved with seed " + json.get("seed").asLong() + ", this run uses " + seed
                    + " (give the same seed to resume exactly)");
        long step = json.get("step").asLong();
        JsonNode opt;
        try {
            opt = OM.readTree(Files.readString(dir.resolve(OptimizerState.JSON)));
        } catch (IOException e) {
            throw new FormatException(dir.resolve(OptimizerState.JSON) + ": cannot read optimizer state: " + OutputFile.describe(e), e);
        }
        if (opt == null || opt.path("step").asLong(-1) != step)
            throw new FormatException(sp + ": step " + step + " but " + OptimizerState.JSON + " is at step " + (opt == null ? "?" : opt.path("step").asText("?")));
        try (SafetensorsFile f = SafetensorsFile.open(pp)) {
            for (Param p : trainable.params()) {
                var e = f.entries().get(p.name);
                if (e == null) throw new FormatException(pp + ": missing parameter " + p.name);
                if (e.dtype() != DType.F32 || !Arrays.equals(e.shape(), p.shape()))
                    throw new FormatException(pp + ": " + p.name + " is " + e.dtype() + Arrays.toString(e.shape()) + ", expected F32" + Arrays.toString(p.shape()));
            }
            if (f.entries().size() != trainable.params().size())
                throw new FormatException(pp + ": holds " + f.entries().size() + " parameters, this run trains " + trainable.params().size());
            OptimizerState.load(dir, optimizer);
            ValueLayout.OfFloat le = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            for (Param p : trainable.params()) MemorySegment.copy(f.bytes(p.name), le, 0, p.value, 0, p.value.length);
        }
    }
}

package jllm.train.optim;

import java.util.List;

/**
 * Loss normalisation over gradient accumulation, done the way that makes {@code k} micro-batches train
 * exactly like one batch of the same examples: count the target tokens of all micro-batches of the
 * optimizer step first, run each micro-batch with a <em>sum</em>-reduced cross-entropy whose gradient
 * is scaled by {@link #lossScale()} = 1 / (total targets), and report {@link #meanLoss()} = (sum of the
 * sums) / (total targets).
 *
 * <p>Averaging per-micro-batch means instead (what transformers did before its 2024 fix) weighs a token
 * of a short micro-batch more than a token of a long one, so batch 1 x accumulation 16 differed from
 * batch 16 x accumulation 1.
 *
 * <p>Targets are the labels after the causal shift: position {@code t} predicts {@code labels[t + 1]};
 * {@value #IGNORE} (PyTorch's {@code ignore_index}) marks positions without a target.
 */
public final class GradAccumulation {
    /** Label of positions that have no target (prompt tokens, padding, document boundaries). */
    public static final int IGNORE = -100;

    private final long targets;
    private final int microBatches;
    private int added;
    private double lossSum;

    private GradAccumulation(long targets, int microBatches) {
        this.targets = targets;
        this.microBatches = microBatches;
    }

    /** Plans one optimizer step over micro-batches given by their shifted targets ({@link #targets}). */
    public static GradAccumulation of(List<int[]> shiftedTargets) {
        if (shiftedTargets.isEmpty()) throw new IllegalArgumentException("gradient accumulation: no micro-batches in this step");
        long n = 0;
        for (int[] t : shiftedTargets) n += count(t);
        if (n == 0)
            throw new IllegalArgumentException("gradient accumulation: no target tokens in this step's " + shiftedTargets.size()
                    + " micro-batch(es) (every label is " + IGNORE + "): nothing to learn from; check the label masking");
        return new GradAccumulation(n, shiftedTargets.size());
    }

    /** Target positions in {@code shiftedTargets} (entries other than {@value #IGNORE}). */
    public static long count(int[] shiftedTargets) {
        long n = 0;
        for (int t : shiftedTargets) if (t != IGNORE) n++;
        return n;
    }

    /**
     * The per-position targets of one sequence: {@code out[t] = labels[t + 1]}, {@value #IGNORE} for the
     * last position and for every position whose next token starts a new packed document
     * ({@code docStart[t + 1]}; null when the sequence holds one document).
     */
    public static int[] targets(int[] labels, boolean[] docStart) {
        if (docStart != null && docStart.length != labels.length)
            throw new IllegalArgumentException("document starts (" + docStart.length + ") and labels (" + labels.length + ") differ in length");
        int[] out = new int[labels.length];
        for (int t = 0; t < labels.length; t++) {
            boolean valid = t + 1 < labels.length && (docStart == null || !docStart[t + 1]);
            out[t] = valid ? labels[t + 1] : IGNORE;
        }
        return out;
    }

    /** Target tokens over all micro-batches of the step. */
    public long targetTokens() { return targets; }

    /** The factor on each micro-batch's sum-reduced loss gradient: {@code 1 / targetTokens()}. */
    public double lossScale() { return 1.0 / targets; }

    /** Records one micro-batch's sum-reduced loss (sum over its targets of {@code -log p}). */
    public void add(double sumLoss) {
        if (added == microBatches) throw new IllegalStateException("gradient accumulation: more than the " + microBatches + " planned micro-batches");
        lossSum += sumLoss;
        added++;
    }

    /** The step's loss, the mean over all its target tokens; once every micro-batch is added. */
    public double meanLoss() {
        if (added != microBatches) throw new IllegalStateException("gradient accumulation: " + added + " of " + microBatches + " micro-batches added");
        return lossSum / targets;
    }
}

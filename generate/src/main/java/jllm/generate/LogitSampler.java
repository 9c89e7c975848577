package jllm.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Sampling in transformers' order: logit bias and penalties on the raw logits, then temperature,
 * top-k, top-p (nucleus), min-p, and a draw from the renormalised distribution with a seeded
 * generator (same seed and inputs, same tokens). Temperature 0 is argmax after bias and penalties.
 */
public final class LogitSampler implements Sampler {
    private final SamplingParams p;
    private final SplittableRandom rnd;
    private int[] counts = new int[0];          // occurrences among generated tokens
    private boolean[] seen = new boolean[0];    // present anywhere in the context (prompt + generated)

    public LogitSampler(SamplingParams p) {
        this.p = p;
        this.rnd = new SplittableRandom(p.seed());
    }

    /** Tells the sampler about prompt tokens (for the repetition penalty). */
    public void observePrompt(int[] prompt) {
        for (int id : prompt) grow(id).seen[id] = true;
    }

    /** Tells the sampler a token was generated. */
    public void observeGenerated(int id) {
        grow(id);
        seen[id] = true;
        counts[id]++;
    }

    private LogitSampler grow(int id) {
        if (id >= seen.length) {
            int n = Math.max(id + 1, seen.length * 2);
            seen = Arrays.copyOf(seen, n);
            counts = Arrays.copyOf(counts, n);
        }
        return this;
    }

    /**
     * Checks the parameters that depend on the model: every biased token id must be in the vocabulary
     * (a bias on an id the model never produces would silently do nothing).
     */
    public void checkVocabulary(int vocab) {
        for (int id : p.logitBias().keySet())
            if (id < 0 || id >= vocab)
                throw new IllegalArgumentException("logit-bias: token id " + id + " is outside the vocabulary (0.." + (vocab - 1) + ")");
    }

    @Override
    public int sample(float[] logits, int off, int vocab) {
        float[] l = Arrays.copyOfRange(logits, off, off + vocab);
        p.logitBias().forEach((id, b) -> { if (id >= 0 && id < vocab) l[id] += b; });
        double rep = p.repetitionPenalty();
        for (int id = 0; id < Math.min(vocab, seen.length); id++) {
            if (seen[id] && rep != 1) l[id] = (float) (l[id] > 0 ? l[id] / rep : l[id] * rep);
            if (counts[id] > 0) l[id] -= (float) (counts[id] * p.frequencyPenalty() + p.presencePenalty());
        }
        // A NaN (a broken model, or infinities cancelling) can never be sampled; it must not win an argmax either.
        int best = -1;
        for (int i = 0; i < vocab; i++) {
            if (Float.isNaN(l[i])) l[i] = Float.NEGATIVE_INFINITY;
            if (best < 0 || l[i] > l[best]) best = i;
        }
        if (best < 0 || l[best] == Float.NEGATIVE_INFINITY)
            throw new IllegalArgumentException("no token can be sampled: every logit is -Infinity or NaN (are all tokens banned by a logit bias?)");
        if (p.greedy()) return best;

        double t = p.temperature();
        // Sort indices by logit once; every truncation below keeps a prefix of this order.
        int[] idx = sortedDescending(l);
        int keep = vocab;
        if (p.topK() > 0) keep = Math.min(keep, p.topK());
        // softmax(l / T) with the maximum subtracted before dividing, so that a tiny temperature
        // (1e-40) tends to argmax instead of overflowing to inf / inf; +Infinity logits share all the mass.
        double max = l[idx[0]];
        double[] prob = new double[keep];
        double sum = 0;
        for (int j = 0; j < keep; j++) {
            double v = l[idx[j]];
            sum += prob[j] = max == Double.POSITIVE_INFINITY ? (v == max ? 1 : 0) : Math.exp((v - max) / t);
        }
        for (int j = 0; j < keep; j++) prob[j] /= sum;
        if (p.topP() < 1) {
            double cum = 0;
            int j = 0;
            while (j < keep) { cum += prob[j++]; if (cum >= p.topP()) break; }
            keep = Math.max(1, j);
        }
        if (p.minP() > 0) {
            double floor = p.minP() * prob[0];
            int j = 1;
            while (j < keep && prob[j] >= floor) j++;
            keep = j;
        }
        double total = 0;
        for (int j = 0; j < keep; j++) total += prob[j];
        double r = rnd.nextDouble() * total;
        for (int j = 0; j < keep; j++) if ((r -= prob[j]) < 0) return idx[j];
        return idx[keep - 1];
    }

    /** Indices sorted by value, largest first, ties by lower index (stable). */
    static int[] sortedDescending(float[] v) {
        long[] packed = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            float f = Float.isNaN(v[i]) ? Float.NEGATIVE_INFINITY : v[i] + 0f; // -0 ties with 0, NaN sorts last
            int bits = Float.floatToIntBits(f);
            int key = bits >= 0 ? bits : bits ^ 0x7fffffff; // total order of floats as ints
            packed[i] = ((long) ~key << 32) | i;              // descending value, ascending index
        }
        Arrays.sort(packed);
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (int) packed[i];
        return out;
    }
}

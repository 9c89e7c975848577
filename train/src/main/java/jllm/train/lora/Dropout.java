package jllm.train.lora;

import jllm.tensor.Parallel;

/**
 * Inverted dropout as {@code torch.nn.Dropout} in training: each element is zeroed with probability
 * {@code p} and the rest are scaled by {@code 1 / (1 - p)}. The mask is a counter-based hash of
 * {@code (seed, index)}, not a stream: any element's keep/drop can be recomputed on any thread, so
 * backward regenerates the forward mask exactly instead of storing it, and the result does not depend on
 * the thread count.
 */
final class Dropout {
    private static final int CHUNK = 1 << 14;

    private Dropout() { }

    /** Whether element {@code i} survives: the top 24 bits of a SplitMix64 hash against {@code p * 2^24}. */
    static boolean keep(long seed, long i, int threshold) {
        long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (int) (z >>> 40) >= threshold;
    }

    static int threshold(float p) { return (int) Math.round(p * (double) (1 << 24)); }

    /** {@code y[i] = keep(i) ? x[i] / (1 - p) : 0} for {@code i < n}. */
    static void apply(Parallel par, float[] x, float[] y, int n, float p, long seed) {
        int th = threshold(p);
        float k = 1f / (1f - p);
        par.forRange(n, CHUNK, (a, b) -> {
            for (int i = a; i < b; i++) y[i] = keep(seed, i, th) ? x[i] * k : 0f;
        });
    }

    /** {@code dx[i] += keep(i) ? t[i] / (1 - p) : 0}: the gradient through the same mask. */
    static void addMasked(Parallel par, float[] t, float[] dx, int n, float p, long seed) {
        int th = threshold(p);
        float k = 1f / (1f - p);
        par.forRange(n, CHUNK, (a, b) -> {
            for (int i = a; i < b; i++) if (keep(seed, i, th)) dx[i] += t[i] * k;
        });
    }
}

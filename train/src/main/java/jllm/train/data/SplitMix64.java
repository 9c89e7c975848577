package jllm.train.data;

/**
 * SplitMix64 (Steele, Lea, Flood 2014): a tiny generator whose output is fixed by its published
 * definition, so a seed gives the same split and the same epoch order on every JDK and machine
 * ({@code java.util.Random}'s sequence is specified too, but is a weak 48-bit LCG; {@code
 * SplittableRandom}'s is not part of its contract).
 */
public final class SplitMix64 {
    private long state;

    public SplitMix64(long seed) { this.state = seed; }

    /** A generator for one purpose of one seed (e.g. the split, or epoch 3's order): streams never overlap in practice. */
    public static SplitMix64 of(long seed, long purpose) {
        return new SplitMix64(mix(seed ^ mix(purpose + 0x632BE59BD9B4E019L)));
    }

    public long nextLong() {
        return mix(state += 0x9E3779B97F4A7C15L);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, bound), without modulo bias (rejection sampling). */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive");
        long limit = Long.remainderUnsigned(-1L, bound);
        while (true) {
            long r = nextLong();
            if (Long.compareUnsigned(r, -1L - limit) <= 0 || limit == bound - 1) return (int) Long.remainderUnsigned(r, bound);
        }
    }

    /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
    public int[] permutation(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}

package jllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Activations quantized to 8 bits for the integer kernels ({@link QuantMatmul}), as llama.cpp quantizes
 * them for its quantized dot products: per token and block of 32 values, {@code d = max|x| / 127} and
 * {@code q = round(x / d)} in [-127, 127] (half away from zero).
 *
 * <p>Each code is stored twice in one int ({@code q} in the low and in the high 16 bits): a kernel
 * broadcasts it to every 16-bit lane with one 32-bit broadcast load, a pure load on x86, where a
 * 16-bit broadcast costs a shuffle-port op per use. Per block the sum of the codes is kept too: the
 * kernels use it to centre unsigned weight codes (see {@link Panels}) and for the mins of the
 * asymmetric formats.
 */
final class Int8Activations {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final int BLOCK = 32;

    int tokens, cols, blocks;
    /** {@code [tokens][cols]}: code {@code q} as {@code q & 0xffff | q << 16}. */
    int[] q2 = new int[0];
    /** {@code [tokens][blocks]}: the block scale. */
    float[] d = new float[0];
    /** {@code [tokens][blocks]}: the sum of the block's codes. */
    int[] sum = new int[0];
    /** {@code [tokens][cols / 8]}: sums of 8 consecutive codes (formats that widen every 8 columns centre with them). */
    int[] sum8 = new int[0];
    /**
     * {@code [tokens][cols / 2]}: per block and {@code j < 16}, the code {@code q[j + 16] - 16 q[j]}
     * (stored as in {@link #q2}). A kernel that multiplies a whole nibble byte {@code lo + 16 hi} by
     * {@code q[j]} and its high nibble by this gets {@code lo q[j] + hi q[j + 16]}: one mask fewer per
     * byte (Q4_0 decode, ~3% on the AMD EPYC). The 16-bit products wrap, but their sum over a block is
     * exact: the true sum fits in 16 bits.
     */
    int[] hi2 = new int[0];
    /**
     * {@code [tokens][cols]}: per run of 16 codes {@code x0..x15}, the multipliers of Q5_K's panel
     * kernel (three 5-bit codes per 16-bit lane), stored as in {@link #q2}: per lane k < 5
     * {@code x3k, x3k+1 - 32 x3k, x3k+2 - 32 x3k+1}, then {@code x15} (see Q5_KTensor.int8Block).
     * Made only when asked for ({@link QuantTensor#usesY5}).
     */
    int[] y5 = new int[0];
    private boolean withY5;

    private static final ThreadLocal<Int8Activations> SCRATCH = ThreadLocal.withInitial(Int8Activations::new);

    /**
     * {@code tokens} rows of {@code x [*, cols]} quantized into this thread's scratch (valid until its
     * next call), with {@link #y5} where {@code y5}.
     */
    static Int8Activations of(Parallel par, float[] x, int tokens, int cols, boolean y5) {
        Int8Activations a = SCRATCH.get();
        a.fill(par, x, tokens, cols, y5);
        return a;
    }

    /** As {@link #of}, into this object, with everything a kernel may read. */
    void fill(Parallel par, float[] x, int tokens, int cols) { fill(par, x, tokens, cols, true); }

    void fill(Parallel par, float[] x, int tokens, int cols, boolean withY5) {
        this.withY5 = withY5;
        if (cols % BLOCK != 0) throw new IllegalArgumentException("int8 activations need a multiple of " + BLOCK + " columns, got " + cols);
        this.tokens = tokens;
        this.cols = cols;
        this.blocks = cols / BLOCK;
        int n = tokens * cols, nb = tokens * blocks;
        if (q2.length < n) { q2 = new int[n]; hi2 = new int[n / 2]; }
        if (withY5 && y5.length < n) y5 = new int[n];
        if (d.length < nb) { d = new float[nb]; sum = new int[nb]; sum8 = new int[4 * nb]; }
        if (par == null || tokens == 1) {
            quantizeBlocks(x, 0, nb);
            return;
        }
        par.forRange(nb, 256, (b0, b1) -> quantizeBlocks(x, b0, b1));
    }

    /** Blocks {@code [b0, b1)} counted over all tokens (rows are whole blocks, so a block never spans two tokens). */
    private void quantizeBlocks(float[] x, int b0, int b1) {
        for (int b = b0; b < b1; b++) {
            int o = b * BLOCK;
            FloatVector m = FloatVector.zero(F);
            for (int j = 0; j < BLOCK; j += F.length()) m = m.max(FloatVector.fromArray(F, x, o + j).abs());
            float max = m.reduceLanes(VectorOperators.MAX);
            float scale = max / 127, inv = max == 0 ? 0 : 127 / max;
            for (int j = 0; j < BLOCK; j += F.length()) {
                FloatVector v = FloatVector.fromArray(F, x, o + j).mul(inv);
                // round half away from zero: add 0.5 with v's sign, then truncate (F2I)
                FloatVector half = v.reinterpretAsInts().and(0x80000000).or(0x3f000000).reinterpretAsFloats();
                IntVector q = (IntVector) v.add(half).convert(VectorOperators.F2I, 0);
                q.and(0xffff).or(q.lanewise(VectorOperators.LSHL, 16)).intoArray(q2, o + j);
            }
            d[b] = scale;
            for (int r = o; withY5 && r < o + BLOCK; r += 16) {
                for (int k = 0; k < 15; k += 3) {
                    int x0 = (short) q2[r + k], x1 = (short) q2[r + k + 1], x2 = (short) q2[r + k + 2];
                    y5[r + k] = Panels.twice(x0);
                    y5[r + k + 1] = Panels.twice(x1 - 32 * x0);
                    y5[r + k + 2] = Panels.twice(x2 - 32 * x1);
                }
                y5[r + 15] = q2[r + 15];
            }
            for (int j = 0; j < 16; j++) hi2[b * 16 + j] = Panels.twice((short) q2[o + j + 16] - 16 * (short) q2[o + j]);
            int total = 0;
            for (int e = 0; e < 4; e++) {
                int s8 = 0;
                for (int j = 0; j < 8; j++) s8 += (short) q2[o + 8 * e + j];
                sum8[4 * b + e] = s8;
                total += s8;
            }
            sum[b] = total;
        }
    }
}

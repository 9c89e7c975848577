package jllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Prefill matmul ({@code y = x W^T} for many tokens) for every weight format, as a packed fp32 GEMM.
 *
 * <p>Each worker decodes a block of weight rows to fp32 once and interleaves them in groups of
 * {@value #ROWS} rows ({@code w[k][ROWS]}): F16 and BF16 widen four rows straight into that layout
 * ({@link Tensor#readInterleaved}), the other formats decode with their own vectorised {@link
 * Tensor#read} and {@link #interleave} follows. The block is reused for every token; the tokens are packed once per call into groups of {@link #TOKENS}
 * laid out k-major ({@code xp[group][k][TOKENS]}). The micro-kernel keeps a {@value #ROWS} rows x
 * {@code TOKENS} tokens block of outputs in 8 vector registers and, per k, loads two token vectors
 * and broadcasts four weights from one stream into 8 FMAs: an outer product, with no horizontal
 * reductions (at 512 bits two such blocks per call, {@link #PAIRS}). On the 2-core AMD EPYC (one thread, [2048, 2048] x 128 tokens) it runs at 48-50 GMAC/s
 * at 512 bits (of a 58.5 GMAC/s fp32 FMA peak) and 44-46 at 256 bits; it serves the float types
 * (F16, BF16, F32), the quantized ones having their own panel kernels ({@link QuantMatmul}).
 *
 * <p>Results differ from the per-row dot kernels only in fp32 summation order.
 */
final class PanelMatmul {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /**
     * Output rows per micro-kernel call: 4 rows x 2 token vectors are 8 accumulators, 14 vector
     * registers with the two token vectors and the four broadcasts C2 issues ahead of the FMAs, so the
     * same kernel fits the 16 registers of AVX2. Measured (F16 and BF16 [2048, 2048] x 128 tokens,
     * one thread, AMD EPYC, ninth round): the eighth round's kernels broadcast from row streams
     * ({@code w[row][k]}, an address register and a range check per row) at 46-47 GMAC/s (six rows,
     * 512 bits) and 34-35 (four rows, 256 bits); interleaved, 48-50 and 44-46. Five interleaved rows
     * spilled an accumulator at 256 bits (17 registers; 18.6 GMAC/s).
     */
    static final int ROWS = 4;
    /**
     * At 512 bits (32 vector registers) two row quads per kernel call ({@link #kernel2}): 16
     * accumulators, and each token vector loaded feeds 8 FMAs instead of 4. The Intel Xeon (family 6
     * model 207; two 512-bit FMA ports, latency 4) has no slack with 8 accumulators, and its loads of
     * the packed tokens come from L2 (a token group is 256 KiB at 2048 columns): one thread, 32 rows x
     * 128 tokens in L2, 46 GMAC/s with one quad per call against 70 with two (in=512, 1024), 39 against
     * 52 at 4096 columns, 30 against 39 at 8192; the 1B F16 model's prefill 55-72 against 76-95 tok/s
     * (2 threads, alternating runs, docs/quantization-and-speed.md, twenty-eighth round). AVX2 has 16
     * registers, where 16 accumulators would spill.
     */
    static final boolean PAIRS = L == 16;
    /** Tokens per micro-kernel call: two vectors. */
    static final int TOKENS = 2 * L;
    /** Fewer tokens than one full group go through the per-format kernels (measured: at 16 tokens the fused Q4_0 tiles are ~1.8x faster; from 32 tokens on the panel wins, by 1.2x (Q4_0) to 1.4x (F16)). */
    static final int MIN_TOKENS = TOKENS;
    /** Weight rows decoded per step: small enough to stay in L2 next to one token group. */
    private static final int ROW_BLOCK = 8 * ROWS;

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[3][]);

    private PanelMatmul() { }

    static boolean applies(Tensor w, int tokens) {
        return tokens >= MIN_TOKENS && w.rank() == 2 && w.dim(0) >= ROWS;
    }

    /** Tokens packed per pass: bounds the packed copy of x (8 MiB at 8192 columns) for long prompts. */
    private static final int SLAB = 8 * TOKENS;

    /** {@code y[t, r] = sum_k W[r, k] x[t, k] (+ bias[r])}, rows spread over {@code par}. */
    static void matmul(Parallel par, Tensor w, float[] x, float[] y, int tokens, float[] bias) {
        int out = w.dim(0), in = w.dim(1);
        for (int t0 = 0; t0 < tokens; t0 += SLAB) {
            int n = Math.min(SLAB, tokens - t0), first = t0;
            float[] xp = pack(par, x, t0, n, in);
            par.forRange(out, ROWS, ROWS, (r0, r1) -> rows(w, xp, first, n, in, out, y, bias, r0, r1));
        }
    }

    /**
     * Tokens {@code [t0, t0 + tokens)} of {@code x [*, in]} as zero-padded groups of TOKENS, each stored
     * k-major; groups spread over the threads (done by the caller alone it was ~4% of a 2-thread GEMM).
     */
    private static float[] pack(Parallel par, float[] x, int t0, int tokens, int in) {
        float[] xp = scratch(0, (tokens + TOKENS - 1) / TOKENS * TOKENS * in);
        OuterTile.packGroups(par, x, in, t0, tokens, 0, in, TOKENS, xp);
        return xp;
    }

    private static float[] scratch(int which, int n) {
        float[][] s = SCRATCH.get();
        if (s[which] == null || s[which].length < n) s[which] = new float[n];
        return s[which];
    }

    private static void rows(Tensor w, float[] xp, int first, int tokens, int in, int out, float[] y, float[] bias, int r0, int r1) {
        float[] wb = scratch(1, ROW_BLOCK * in), wt = scratch(2, ROW_BLOCK * in);
        float[] acc = new float[4 * ROWS * L];
        int groups = (tokens + TOKENS - 1) / TOKENS;
        for (int rb = r0; rb < r1; rb += ROW_BLOCK) {
            int n = Math.min(ROW_BLOCK, r1 - rb), padded = (n + ROWS - 1) / ROWS * ROWS;
            if (padded > n || !w.readInterleaved(rb, n, wt)) {
                w.read((long) rb * in, wb, 0, n * in);
                if (padded > n) java.util.Arrays.fill(wb, n * in, padded * in, 0f);
                interleave(wb, padded, in, wt);
            }
            for (int g = 0; g < groups; g++) {
                int t0 = g * TOKENS, valid = Math.min(TOKENS, tokens - t0);
                int yt = first + t0;
                int r = 0;
                if (PAIRS)
                    for (; r + 2 * ROWS <= padded; r += 2 * ROWS) {
                        kernel2(wt, r * in, in, xp, g * TOKENS * in, acc);
                        store(acc, 0, y, out, rb + r, Math.min(ROWS, n - r), yt, valid, bias);
                        store(acc, 2 * ROWS * L, y, out, rb + r + ROWS, Math.min(ROWS, n - r - ROWS), yt, valid, bias);
                    }
                for (; r < padded; r += ROWS) {
                    kernel(wt, r * in, in, xp, g * TOKENS * in, acc);
                    store(acc, 0, y, out, rb + r, Math.min(ROWS, n - r), yt, valid, bias);
                }
            }
        }
    }

    /**
     * Four interleaved rows ({@code w[w0 + 4 k + row]}, {@link #interleave}) against one packed token
     * group: {@code acc[(half * ROWS + row) * L + lane]} = output for token {@code half * L + lane}.
     */
    private static void kernel(float[] w, int w0, int in, float[] xp, int x0, float[] acc) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
        for (int k = 0, wo = w0, xo = x0; k < in; k++, wo += 4, xo += TOKENS) {
            FloatVector u = FloatVector.fromArray(F, xp, xo), v = FloatVector.fromArray(F, xp, xo + L), s;
            s = FloatVector.broadcast(F, w[wo]); a0 = u.fma(s, a0); b0 = v.fma(s, b0);
            s = FloatVector.broadcast(F, w[wo + 1]); a1 = u.fma(s, a1); b1 = v.fma(s, b1);
            s = FloatVector.broadcast(F, w[wo + 2]); a2 = u.fma(s, a2); b2 = v.fma(s, b2);
            s = FloatVector.broadcast(F, w[wo + 3]); a3 = u.fma(s, a3); b3 = v.fma(s, b3);
        }
        a0.intoArray(acc, 0); a1.intoArray(acc, L); a2.intoArray(acc, 2 * L); a3.intoArray(acc, 3 * L);
        b0.intoArray(acc, 4 * L); b1.intoArray(acc, 5 * L); b2.intoArray(acc, 6 * L); b3.intoArray(acc, 7 * L);
    }

    /** Two row quads at once ({@code w0} and the next, {@code 4 in} floats on), as {@link #kernel} each, the second quad's outputs from {@code acc[2 ROWS L]}. */
    private static void kernel2(float[] w, int w0, int in, float[] xp, int x0, float[] acc) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, d0 = z, d1 = z, d2 = z, d3 = z;
        for (int k = 0, wo = w0, wp = w0 + 4 * in, xo = x0; k < in; k++, wo += 4, wp += 4, xo += TOKENS) {
            FloatVector u = FloatVector.fromArray(F, xp, xo), v = FloatVector.fromArray(F, xp, xo + L), s;
            s = FloatVector.broadcast(F, w[wo]); a0 = u.fma(s, a0); b0 = v.fma(s, b0);
            s = FloatVector.broadcast(F, w[wo + 1]); a1 = u.fma(s, a1); b1 = v.fma(s, b1);
            s = FloatVector.broadcast(F, w[wo + 2]); a2 = u.fma(s, a2); b2 = v.fma(s, b2);
            s = FloatVector.broadcast(F, w[wo + 3]); a3 = u.fma(s, a3); b3 = v.fma(s, b3);
            s = FloatVector.broadcast(F, w[wp]); c0 = u.fma(s, c0); d0 = v.fma(s, d0);
            s = FloatVector.broadcast(F, w[wp + 1]); c1 = u.fma(s, c1); d1 = v.fma(s, d1);
            s = FloatVector.broadcast(F, w[wp + 2]); c2 = u.fma(s, c2); d2 = v.fma(s, d2);
            s = FloatVector.broadcast(F, w[wp + 3]); c3 = u.fma(s, c3); d3 = v.fma(s, d3);
        }
        a0.intoArray(acc, 0); a1.intoArray(acc, L); a2.intoArray(acc, 2 * L); a3.intoArray(acc, 3 * L);
        b0.intoArray(acc, 4 * L); b1.intoArray(acc, 5 * L); b2.intoArray(acc, 6 * L); b3.intoArray(acc, 7 * L);
        c0.intoArray(acc, 8 * L); c1.intoArray(acc, 9 * L); c2.intoArray(acc, 10 * L); c3.intoArray(acc, 11 * L);
        d0.intoArray(acc, 12 * L); d1.intoArray(acc, 13 * L); d2.intoArray(acc, 14 * L); d3.intoArray(acc, 15 * L);
    }

    /**
     * Rows {@code [0, rows)} of {@code wb [*, in]} (a multiple of four) into {@code wt}, in groups of
     * four rows with each column's four weights adjacent: per L columns a 4 x L transpose in registers
     * ({@link #storeQuads}). A scalar copy ran at ~2.1 G floats/s, 12-15% of the GEMM at 128 tokens
     * (and made interleaving lose at 512 bits); the two-vector shuffles that preceded storeQuads at ~11
     * (AMD EPYC Zen 4, 256 and 512 bits).
     */
    private static void interleave(float[] wb, int rows, int in, float[] wt) {
        for (int g = 0; g < rows; g += 4) {
            int o = g * in, k = 0, d = o;
            for (; k + L <= in; k += L, d += 4 * L) {
                FloatVector r0 = FloatVector.fromArray(F, wb, o + k), r1 = FloatVector.fromArray(F, wb, o + in + k);
                FloatVector r2 = FloatVector.fromArray(F, wb, o + 2 * in + k), r3 = FloatVector.fromArray(F, wb, o + 3 * in + k);
                storeQuads(r0, r1, r2, r3, wt, d);
            }
            for (; k < in; k++, d += 4) {
                wt[d] = wb[o + k];
                wt[d + 1] = wb[o + in + k];
                wt[d + 2] = wb[o + 2 * in + k];
                wt[d + 3] = wb[o + 3 * in + k];
            }
        }
    }

    /**
     * Four rows' values of L columns ({@code r0 .. r3}) stored as L column quads {@code r0_c r1_c r2_c
     * r3_c} at {@code wt[d .. d + 4 L)}. Row i is first rotated by i quarters of a vector, so that
     * each output vector's quarter of columns sits in a different quarter of each row's vector; three
     * blends then gather an output's 4 x L/4 values into one vector, and one permutation puts them in
     * quad order: 7 permutations and 12 blends per 4 x L values. The two-vector shuffles this replaced
     * (pairs of rows, then pairs of pairs) cost C2 two permutations and a blend each, 16 and 8, and the
     * widening and interleave of F16 rows ran at 2.3-2.9 G floats/s against 2.9-3.5 now (one thread,
     * rows in L2, AMD EPYC Zen 3, AVX2); widening alone, without any interleave, runs at 7.3.
     */
    static void storeQuads(FloatVector r0, FloatVector r1, FloatVector r2, FloatVector r3, float[] wt, int d) {
        FloatVector a = r1.rearrange(ROT1), b = r2.rearrange(ROT2), c = r3.rearrange(ROT3);
        r0.blend(a, QUARTER1).blend(b, QUARTER2).blend(c, QUARTER3).rearrange(QUADS0).intoArray(wt, d);
        r0.blend(a, QUARTER2).blend(b, QUARTER3).blend(c, QUARTER0).rearrange(QUADS1).intoArray(wt, d + L);
        r0.blend(a, QUARTER3).blend(b, QUARTER0).blend(c, QUARTER1).rearrange(QUADS2).intoArray(wt, d + 2 * L);
        r0.blend(a, QUARTER0).blend(b, QUARTER1).blend(c, QUARTER2).rearrange(QUADS3).intoArray(wt, d + 3 * L);
    }

    /** Rotation by i quarters: lane p of row i's vector moves to lane {@code (p + i L/4) mod L}. */
    private static final VectorShuffle<Float> ROT1 = rotation(1), ROT2 = rotation(2), ROT3 = rotation(3);
    private static final VectorMask<Float> QUARTER0 = quarter(0), QUARTER1 = quarter(1), QUARTER2 = quarter(2), QUARTER3 = quarter(3);
    /**
     * Output j holds columns {@code [j L/4, (j + 1) L/4)}; after the blends row i's value of column
     * {@code j L/4 + c} sits in quarter {@code (j + i) mod 4} at offset c, and goes to lane {@code 4 c + i}.
     */
    private static final VectorShuffle<Float> QUADS0 = quads(0), QUADS1 = quads(1), QUADS2 = quads(2), QUADS3 = quads(3);

    private static VectorMask<Float> quarter(int q) {
        boolean[] m = new boolean[L];
        java.util.Arrays.fill(m, q * L / 4, (q + 1) * L / 4, true);
        return VectorMask.fromArray(F, m, 0);
    }

    private static VectorShuffle<Float> quads(int j) {
        int[] at = new int[L];
        for (int c = 0; c < L / 4; c++)
            for (int i = 0; i < 4; i++) at[4 * c + i] = (j + i) % 4 * (L / 4) + c;
        return VectorShuffle.fromArray(F, at, 0);
    }

    private static VectorShuffle<Float> rotation(int i) {
        int[] at = new int[L];
        for (int p = 0; p < L; p++) at[p] = Math.floorMod(p - i * L / 4, L);
        return VectorShuffle.fromArray(F, at, 0);
    }

    /**
     * Token by token, so each token's outputs are written as one run of adjacent floats: row by row
     * (a stride of {@code out} floats per write) cost 15% of the whole GEMM (72% -> 83% of the FMA
     * peak, bf16 [3072, 1024] x 256 tokens, 1 thread, AMD EPYC Zen 4).
     */
    private static void store(float[] acc, int a0, float[] y, int out, int r0, int rows, int t0, int tokens, float[] bias) {
        for (int i = 0; i < tokens; i++) {
            int a = a0 + (i / L) * ROWS * L + i % L, o = (t0 + i) * out + r0;
            if (rows == ROWS && bias == null) {
                y[o] = acc[a]; y[o + 1] = acc[a + L]; y[o + 2] = acc[a + 2 * L]; y[o + 3] = acc[a + 3 * L];
            } else {
                for (int r = 0; r < rows; r++) y[o + r] = acc[a + r * L] + (bias == null ? 0f : bias[r0 + r]);
            }
        }
    }
}

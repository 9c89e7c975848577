package jllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Prefill matmul ({@code y = x W^T} for many tokens) for every weight format, as a packed fp32 GEMM.
 *
 * <p>Each worker decodes a block of weight rows to fp32 once (the format's own vectorised
 * {@link Tensor#read}) and reuses it for every token; the tokens are packed once per call into groups
 * of {@link #TOKENS} laid out k-major ({@code xp[group][k][TOKENS]}). The micro-kernel then keeps a
 * {@value #ROWS} rows x {@code TOKENS} tokens block of outputs in 12 vector registers and, per k,
 * loads two token vectors and broadcasts six weights into 12 FMAs: an outer product, so there are no
 * horizontal reductions and the loads stay a sixth of the FMAs. On the 2-core AVX-512 dev box this
 * runs at ~46 GMAC/s per core (79% of the measured 58.5 GMAC/s fp32 FMA peak; a per-row dot kernel
 * reaches 25-35) and serves types that have no fused prefill tile at all (F32, BF16, K-quants).
 *
 * <p>Results differ from the per-row dot kernels only in fp32 summation order.
 */
final class PanelMatmul {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /**
     * Output rows per micro-kernel call: 6 rows x 2 token vectors are 12 accumulators, 15 vector
     * registers with the two token vectors and a broadcast; with only 16 ({@link Panels#FEW_REGISTERS})
     * 4 rows (11 registers): the 6-row kernel ran at 37% of the FMA peak there, 4 rows at 51-71%.
     */
    static final int ROWS = Panels.FEW_REGISTERS ? 4 : 6;
    /** Whether the weights are interleaved for {@link #kernel4} (with the four-row kernel). */
    private static final boolean INTERLEAVED = ROWS == 4;
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
        float[] wb = scratch(1, ROW_BLOCK * in), wt = INTERLEAVED ? scratch(2, ROW_BLOCK * in) : null;
        float[] acc = new float[2 * ROWS * L];
        int groups = (tokens + TOKENS - 1) / TOKENS;
        for (int rb = r0; rb < r1; rb += ROW_BLOCK) {
            int n = Math.min(ROW_BLOCK, r1 - rb), padded = (n + ROWS - 1) / ROWS * ROWS;
            w.read((long) rb * in, wb, 0, n * in);
            if (padded > n) java.util.Arrays.fill(wb, n * in, padded * in, 0f);
            if (INTERLEAVED) interleave(wb, padded, in, wt);
            for (int g = 0; g < groups; g++) {
                int t0 = g * TOKENS, valid = Math.min(TOKENS, tokens - t0);
                int yt = first + t0;
                for (int r = 0; r < padded; r += ROWS) {
                    if (INTERLEAVED) kernel4(wt, r * in, in, xp, g * TOKENS * in, acc);
                    else kernel(wb, r * in, in, xp, g * TOKENS * in, acc);
                    store(acc, y, out, rb + r, Math.min(ROWS, n - r), yt, valid, bias);
                }
            }
        }
    }

    /**
     * Six rows of {@code w} (from {@code w0}, row stride {@code in}) against one packed token group:
     * {@code acc[(half * ROWS + row) * L + lane]} = output for token {@code half * L + lane}.
     */
    private static void kernel(float[] w, int w0, int in, float[] xp, int x0, float[] acc) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z;
        int o0 = w0, o1 = o0 + in, o2 = o1 + in, o3 = o2 + in, o4 = o3 + in, o5 = o4 + in;
        for (int k = 0, xo = x0; k < in; k++, xo += TOKENS) {
            FloatVector u = FloatVector.fromArray(F, xp, xo), v = FloatVector.fromArray(F, xp, xo + L), s;
            s = FloatVector.broadcast(F, w[o0 + k]); a0 = u.fma(s, a0); b0 = v.fma(s, b0);
            s = FloatVector.broadcast(F, w[o1 + k]); a1 = u.fma(s, a1); b1 = v.fma(s, b1);
            s = FloatVector.broadcast(F, w[o2 + k]); a2 = u.fma(s, a2); b2 = v.fma(s, b2);
            s = FloatVector.broadcast(F, w[o3 + k]); a3 = u.fma(s, a3); b3 = v.fma(s, b3);
            s = FloatVector.broadcast(F, w[o4 + k]); a4 = u.fma(s, a4); b4 = v.fma(s, b4);
            s = FloatVector.broadcast(F, w[o5 + k]); a5 = u.fma(s, a5); b5 = v.fma(s, b5);
        }
        a0.intoArray(acc, 0); a1.intoArray(acc, L); a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L); a4.intoArray(acc, 4 * L); a5.intoArray(acc, 5 * L);
        b0.intoArray(acc, 6 * L); b1.intoArray(acc, 7 * L); b2.intoArray(acc, 8 * L);
        b3.intoArray(acc, 9 * L); b4.intoArray(acc, 10 * L); b5.intoArray(acc, 11 * L);
    }

    /**
     * {@link #kernel} for four rows ({@link #ROWS} on machines with 16 vector registers), from
     * interleaved weights ({@code w[w0 + 4 k + row]}, {@link #interleave}), so that the four broadcasts
     * read one stream: with four row streams (four more address registers, four range checks) the
     * same kernel ran at 34 GMAC/s, interleaved at 39-41 after paying for the interleave (F16 and BF16
     * [2048, 2048] x 128 tokens, one thread, {@code -XX:UseAVX=2}, AMD EPYC). Not at 512 bits: there
     * the six-row kernel reads its row streams at 46 GMAC/s and the same interleave cost it 8%.
     */
    private static void kernel4(float[] w, int w0, int in, float[] xp, int x0, float[] acc) {
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

    /** Rows {@code [0, rows)} of {@code wb [*, in]} (a multiple of four) into {@code wt}, in groups of four rows with each column's four weights adjacent. */
    private static void interleave(float[] wb, int rows, int in, float[] wt) {
        for (int g = 0; g < rows; g += 4) {
            int o = g * in;
            for (int k = 0, d = o; k < in; k++, d += 4) {
                wt[d] = wb[o + k];
                wt[d + 1] = wb[o + in + k];
                wt[d + 2] = wb[o + 2 * in + k];
                wt[d + 3] = wb[o + 3 * in + k];
            }
        }
    }

    /**
     * Token by token, so each token's outputs are written as one run of adjacent floats: row by row
     * (a stride of {@code out} floats per write) cost 15% of the whole GEMM (72% -> 83% of the FMA
     * peak, bf16 [3072, 1024] x 256 tokens, 1 thread, AMD EPYC Zen 4).
     */
    private static void store(float[] acc, float[] y, int out, int r0, int rows, int t0, int tokens, float[] bias) {
        for (int i = 0; i < tokens; i++) {
            int a = (i / L) * ROWS * L + i % L, o = (t0 + i) * out + r0;
            if (rows == 6 && ROWS == 6 && bias == null) {
                y[o] = acc[a]; y[o + 1] = acc[a + L]; y[o + 2] = acc[a + 2 * L];
                y[o + 3] = acc[a + 3 * L]; y[o + 4] = acc[a + 4 * L]; y[o + 5] = acc[a + 5 * L];
            } else {
                for (int r = 0; r < rows; r++) y[o + r] = acc[a + r * L] + (bias == null ? 0f : bias[r0 + r]);
            }
        }
    }
}

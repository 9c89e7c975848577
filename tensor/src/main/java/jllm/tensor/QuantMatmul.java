package jllm.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * {@code y = x W^T (+ bias)} for block-quantized weights, over their {@link Panels} layout (repacked
 * once per tensor), with panels of output rows spread over the threads. Two kinds of kernel:
 * <ul>
 * <li><b>int8 activations</b> (decode and small batches, unless exact): x quantized per 32 values as
 *     llama.cpp does ({@link Int8Activations}), each format's panel kernel multiplying codes in
 *     16-bit lanes ({@link QuantTensor#int8Rows}).
 * <li><b>fp32 activations</b> (prefill, and every call in exact mode): each panel's weights expanded
 *     once to fp32 in column-major order ({@link QuantTensor#expand}), then {@value #TILE} tokens at a
 *     time multiplied by broadcasting each token's x[k] against the panel's two fp32 row vectors: 12
 *     independent FMAs per column, outputs already in row order. From about a dozen tokens this
 *     is as fast as the integer kernel (fp32 FMAs and 16-bit multiply-adds both do 32 products per
 *     cycle per core), and it keeps prefill at fp32 precision.
 * </ul>
 */
final class QuantMatmul {
    private static final int P = Panels.P, H = Panels.H;
    /** Tokens per fp32 micro-kernel call: 2 x TILE accumulators stay in registers. */
    static final int TILE = 8;
    /** Columns expanded at a time: the fp32 panel chunk (CHUNK x P floats, 32 KiB at 512 bits) stays in L1. */
    static final int CHUNK = 256;
    /** From this many tokens on, fast mode uses the fp32 kernel too. */
    static final int MIN_FP32_TOKENS = 16;
    /** Fewer multiply-adds than this run on the calling thread. */
    private static final long SERIAL_WORK = 1 << 16;

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[4][0]);

    private QuantMatmul() { }

    static boolean applies(Tensor w) { return Panels.SUPPORTED && w instanceof QuantTensor q && q.hasPanels() && w.rank() == 2; }

    static void matmul(Parallel par, QuantTensor w, float[] x, float[] y, int tokens, float[] bias, boolean exact) {
        int out = w.dim(0), in = w.dim(1), panels = (out + P - 1) / P;
        MemorySegment pk = w.panels(par);
        Parallel.RangeBody body;
        if (!exact && tokens < MIN_FP32_TOKENS) {
            Int8Activations a = Int8Activations.of(par, x, tokens, in);
            body = (p0, p1) -> w.int8Rows(pk, a, y, p0, p1, bias);
        } else {
            float[] xp = pack(x, tokens, in);
            body = (p0, p1) -> fp32Rows(w, pk, x, xp, tokens, y, p0, p1, bias);
        }
        if ((long) out * in * tokens < SERIAL_WORK) body.run(0, panels);
        else par.forRange(panels, 1, body);
    }

    private static float[] scratch(int which, int n) {
        float[][] s = SCRATCH.get();
        if (s[which].length < n) s[which] = new float[n];
        return s[which];
    }

    /**
     * The whole tiles of x, each interleaved column by column ({@code xp[tile][k][TILE]}), so the
     * micro-kernel's six broadcasts per column come from one pointer at constant offsets.
     */
    private static float[] pack(float[] x, int tokens, int in) {
        int tiles = tokens / TILE;
        float[] xp = scratch(2, tiles * TILE * in);
        for (int g = 0; g < tiles; g++)
            for (int i = 0; i < TILE; i++) {
                int src = (g * TILE + i) * in, dst = g * TILE * in + i;
                for (int k = 0; k < in; k++) xp[dst + k * TILE] = x[src + k];
            }
        return xp;
    }

    /**
     * Panels {@code [p0, p1)} with fp32 activations: per panel, chunk by chunk of columns, the chunk
     * is expanded once and every tile of tokens multiplies it; per-token sums accumulate in {@code part}.
     */
    static void fp32Rows(QuantTensor w, MemorySegment pk, float[] x, float[] xp, int tokens, float[] y, int p0, int p1, float[] bias) {
        int in = w.dim(1), out = w.dim(0), tiles = tokens / TILE;
        long panel = w.panelBytes();
        float[] wk = scratch(0, CHUNK * P), acc = scratch(1, 2 * TILE * H), part = scratch(3, tokens * P);
        for (int p = p0; p < p1; p++) {
            java.util.Arrays.fill(part, 0, tokens * P, 0f);
            for (int k0 = 0; k0 < in; k0 += CHUNK) {
                int kn = Math.min(CHUNK, in - k0);
                w.expand(pk, p * panel, k0, kn, wk);
                for (int g = 0; g < tiles; g++) {
                    tile(wk, kn, xp, g * TILE * in + k0 * TILE, acc);
                    addTo(part, g * TILE * P, acc, TILE * P);
                }
                for (int t = tiles * TILE; t < tokens; t++) {
                    one(wk, kn, x, t * in + k0, acc);
                    addTo(part, t * P, acc, P);
                }
            }
            for (int t = 0; t < tokens; t++) Panels.store(part, t * P, y, t * out, p * P, out, bias);
        }
    }

    /** {@code part[o ..] += acc[0 .. n)}. */
    private static void addTo(float[] part, int o, float[] acc, int n) {
        for (int i = 0; i < n; i += H)
            FloatVector.fromArray(Panels.F, part, o + i).add(FloatVector.fromArray(Panels.F, acc, i)).intoArray(part, o + i);
    }

    /**
     * {@value #TILE} packed tokens ({@code xp[xo + k TILE + i]}) against {@code kn} columns of an
     * expanded panel: per column two weight loads, eight broadcasts and sixteen FMAs into registers
     * (measured on one core of the Xeon: 91 GMAC/s from L1, 92% of its fp32 FMA peak; 83 with six tokens).
     */
    private static void tile(float[] wk, int kn, float[] xp, int xo, float[] acc) {
        FloatVector z = FloatVector.zero(Panels.F);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z, a4 = z, b4 = z, a5 = z, b5 = z, a6 = z, b6 = z, a7 = z, b7 = z;
        for (int k = 0, o = 0, j = xo; k < kn; k++, o += P, j += TILE) {
            FloatVector lo = FloatVector.fromArray(Panels.F, wk, o), hi = FloatVector.fromArray(Panels.F, wk, o + H), v;
            v = FloatVector.broadcast(Panels.F, xp[j]); a0 = lo.fma(v, a0); b0 = hi.fma(v, b0);
            v = FloatVector.broadcast(Panels.F, xp[j + 1]); a1 = lo.fma(v, a1); b1 = hi.fma(v, b1);
            v = FloatVector.broadcast(Panels.F, xp[j + 2]); a2 = lo.fma(v, a2); b2 = hi.fma(v, b2);
            v = FloatVector.broadcast(Panels.F, xp[j + 3]); a3 = lo.fma(v, a3); b3 = hi.fma(v, b3);
            v = FloatVector.broadcast(Panels.F, xp[j + 4]); a4 = lo.fma(v, a4); b4 = hi.fma(v, b4);
            v = FloatVector.broadcast(Panels.F, xp[j + 5]); a5 = lo.fma(v, a5); b5 = hi.fma(v, b5);
            v = FloatVector.broadcast(Panels.F, xp[j + 6]); a6 = lo.fma(v, a6); b6 = hi.fma(v, b6);
            v = FloatVector.broadcast(Panels.F, xp[j + 7]); a7 = lo.fma(v, a7); b7 = hi.fma(v, b7);
        }
        a0.intoArray(acc, 0); b0.intoArray(acc, H); a1.intoArray(acc, 2 * H); b1.intoArray(acc, 3 * H);
        a2.intoArray(acc, 4 * H); b2.intoArray(acc, 5 * H); a3.intoArray(acc, 6 * H); b3.intoArray(acc, 7 * H);
        a4.intoArray(acc, 8 * H); b4.intoArray(acc, 9 * H); a5.intoArray(acc, 10 * H); b5.intoArray(acc, 11 * H);
        a6.intoArray(acc, 12 * H); b6.intoArray(acc, 13 * H); a7.intoArray(acc, 14 * H); b7.intoArray(acc, 15 * H);
    }

    /** One token against {@code in} columns of an expanded panel (two accumulator pairs for the FMA latency). */
    private static void one(float[] wk, int in, float[] x, int xo, float[] acc) {
        FloatVector a0 = FloatVector.zero(Panels.F), b0 = a0, a1 = a0, b1 = a0;
        int k = 0, o = 0;
        for (; k + 1 < in; k += 2, o += 2 * P) {
            FloatVector v = FloatVector.broadcast(Panels.F, x[xo + k]), u = FloatVector.broadcast(Panels.F, x[xo + k + 1]);
            a0 = FloatVector.fromArray(Panels.F, wk, o).fma(v, a0);
            b0 = FloatVector.fromArray(Panels.F, wk, o + H).fma(v, b0);
            a1 = FloatVector.fromArray(Panels.F, wk, o + P).fma(u, a1);
            b1 = FloatVector.fromArray(Panels.F, wk, o + P + H).fma(u, b1);
        }
        if (k < in) {
            FloatVector v = FloatVector.broadcast(Panels.F, x[xo + k]);
            a0 = FloatVector.fromArray(Panels.F, wk, o).fma(v, a0);
            b0 = FloatVector.fromArray(Panels.F, wk, o + H).fma(v, b0);
        }
        a0.add(a1).intoArray(acc, 0);
        b0.add(b1).intoArray(acc, H);
    }
}

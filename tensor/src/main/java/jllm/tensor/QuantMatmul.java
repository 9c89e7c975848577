package jllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@code y = x W^T (+ bias)} for block-quantized weights, over their {@link Panels} layout (repacked
 * once per tensor), with panels of output rows spread over the threads. Two kinds of kernel:
 * <ul>
 * <li><b>int8 activations</b> (decode and small batches, unless exact): x quantized per 32 values as
 *     llama.cpp does ({@link Int8Activations}), each format's panel kernel multiplying codes in
 *     16-bit lanes ({@link QuantTensor#int8Rows}).
 * <li><b>int8 activations, 16-bit tile</b> (prefill in fast mode, where it pays ({@link #int16Prefill}), of the formats whose centred codes
 *     times int8 activations sum over a block of 32 within 16 bits: Q4_0, Q4_1, Q4_K): two panels' codes
 *     expanded once per {@value #CHUNK16} columns to 16 bits, then {@link #TILE16} tokens at a time
 *     multiplied with 16-bit multiply-adds, one fp32 epilogue per block ({@link #tile16},
 *     {@link #scale16}). On Zen 4 16-bit multiply-adds run at ~1.7x the fp32 FMA rate; the tile
 *     reaches 1.3x the fp32 tile's GMAC/s. The activations' rounding is llama.cpp's (its int8 error).
 * <li><b>fp32 activations</b> (prefill of the other formats, and every call in exact mode): each panel's weights expanded
 *     once to fp32 in column-major order ({@link QuantTensor#expand}), then {@link #TILE} tokens at a
 *     time multiplied by broadcasting each token's x[k] against the panel's two fp32 row vectors: 12
 *     independent FMAs per column, outputs already in row order. From about a dozen tokens this
 *     is as fast as the integer kernel (fp32 FMAs and 16-bit multiply-adds both do 32 products per
 *     cycle per core), and it keeps prefill at fp32 precision.
 * </ul>
 */
final class QuantMatmul {
    private static final int P = Panels.P, H = Panels.H;
    /** Tokens per fp32 micro-kernel call: 2 x TILE accumulators stay in registers (4 tokens where there are only 16, {@link Panels#FEW_REGISTERS}). */
    static final int TILE = Panels.FEW_REGISTERS ? 4 : 8;
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
        if (decodeTogether(par, new Tensor[] {w}, x, new float[][] {y}, tokens, new float[][] {bias}, exact)) return;
        int out = w.dim(0), in = w.dim(1), panels = w.panelCount();
        Panels.Store pk = w.panels(par);
        Parallel.RangeBody body;
        int align = 1;
        if (int8Activations(w, tokens, exact)) {
            Int8Activations a = Int8Activations.of(par, x, tokens, in, 0);
            Tiles16 xt = Tiles16.of(par, a);
            body = (p0, p1) -> int16Rows(w, pk, xt, y, p0, p1, bias);
            align = 2; // int16Rows takes panels in pairs
        } else {
            float[] xp = pack(x, tokens, in);
            body = (p0, p1) -> fp32Rows(w, pk, x, xp, tokens, y, p0, p1, bias);
        }
        if ((long) out * in * tokens < SERIAL_WORK) body.run(0, panels);
        else par.forRange(panels, 1, align, body);
    }

    /**
     * The int8 decode path (fast mode, fewer than {@value #MIN_FP32_TOKENS} tokens) of one matrix
     * ({@link #matmul}) or of several over the same x as one job (all quantized, same input width):
     * x is quantized once and the threads share out the panels of all the matrices, in a few long
     * runs each ({@link Parallel#streamChunk}). Returns false, doing nothing, when it does not apply.
     */
    static boolean decodeTogether(Parallel par, Tensor[] ws, float[] x, float[][] y, int tokens, float[][] bias, boolean exact) {
        if (exact || tokens >= MIN_FP32_TOKENS || ws.length == 0) return false;
        int in = ws[0].dim(1);
        for (Tensor w : ws) if (!applies(w) || w.dim(1) != in) return false;
        int n = ws.length;
        int[] first = new int[n + 1];
        Panels.Store[] pk = new Panels.Store[n];
        long work = 0;
        for (int i = 0; i < n; i++) {
            pk[i] = ((QuantTensor) ws[i]).panels(par);
            first[i + 1] = first[i] + ((QuantTensor) ws[i]).panelCount();
            work += (long) ws[i].dim(0) * in * tokens;
            if ((long) tokens * ws[i].dim(0) > y[i].length || (long) tokens * in > x.length)
                throw new IllegalArgumentException("matmul " + ws[i] + " with " + tokens + " rows: buffers too small");
        }
        int extras = 0;
        for (Tensor w : ws) extras |= ((QuantTensor) w).activationExtras();
        Int8Activations a = Int8Activations.of(par, x, tokens, in, extras);
        Parallel.RangeBody body = (p0, p1) -> {
            for (int i = 0; i < n; i++) {
                int from = Math.max(p0, first[i]), to = Math.min(p1, first[i + 1]);
                if (from < to) ((QuantTensor) ws[i]).int8Rows(pk[i], a, y[i], from - first[i], to - first[i], bias[i]);
            }
        };
        if (work < SERIAL_WORK) body.run(0, first[n]);
        // chunks of whole groups of four panels, as the Q4_0 and Q8_0 kernels run them (a short group is computed in full)
        else par.forRange(first[n], par.streamChunk(first[n]), 4, body);
        return true;
    }

    /**
     * Whether prefill in fast mode takes the 16-bit tile where a format has one; else the fp32 kernel,
     * which is faster where 512-bit 16-bit multiplies run at half the FMA rate ({@link
     * CpuInfo#halfRateWideInt16}). Tests switch it.
     */
    static volatile boolean int16Prefill = !(CpuInfo.halfRateWideInt16() && Panels.S.length() >= 32);

    /** Whether {@code tokens} rows of x are quantized to int8 for {@code w} (else they stay fp32). */
    static boolean int8Activations(Tensor w, int tokens, boolean exact) {
        return !exact && (tokens < MIN_FP32_TOKENS || int16Prefill && w instanceof QuantTensor q && q.hasInt16());
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
    static void fp32Rows(QuantTensor w, Panels.Store pk, float[] x, float[] xp, int tokens, float[] y, int p0, int p1, float[] bias) {
        int in = w.dim(1), out = w.dim(0), tiles = tokens / TILE;
        float[] wk = scratch(0, CHUNK * P), acc = scratch(1, 2 * TILE * H), part = scratch(3, tokens * P);
        for (int p = p0; p < p1; p++) {
            java.util.Arrays.fill(part, 0, tokens * P, 0f);
            for (int k0 = 0; k0 < in; k0 += CHUNK) {
                int kn = Math.min(CHUNK, in - k0);
                w.expand(pk, p, k0, kn, wk);
                for (int g = 0; g < tiles; g++) {
                    if (TILE == 4) tile4(wk, kn, xp, g * TILE * in + k0 * TILE, acc);
                    else tile(wk, kn, xp, g * TILE * in + k0 * TILE, acc);
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

    /** Columns per expansion of the 16-bit tile: two panels' codes, {@code CHUNK16 x 2P} shorts (32 KiB at 512 bits), reused by every tile of tokens. */
    static final int CHUNK16 = 256;
    /** Tokens per 16-bit tile: 2 panels x TILE16 accumulators of 16-bit sums (4 tokens where there are only 16 registers, {@link Panels#FEW_REGISTERS}). */
    static final int TILE16 = Panels.FEW_REGISTERS ? 4 : 8;

    /**
     * int8 activations regrouped for the 16-bit tile: per tile of {@link #TILE16} tokens, codes
     * column by column ({@code q[tile][k][TILE16]}, as {@link Int8Activations#q2}), block scales and
     * code sums per block ({@code [tile][block][TILE16]}); tokens past the end are zeros.
     */
    static final class Tiles16 {
        int tokens, cols, tiles;
        int[] q = new int[0];
        float[] d = new float[0], dsum = new float[0];

        private static final ThreadLocal<Tiles16> SCRATCH = ThreadLocal.withInitial(Tiles16::new);

        static Tiles16 of(Parallel par, Int8Activations a) {
            Tiles16 t = SCRATCH.get();
            int nb = a.blocks, in = a.cols;
            t.tokens = a.tokens; t.cols = in; t.tiles = (a.tokens + TILE16 - 1) / TILE16;
            int n = t.tiles * TILE16 * in, m = t.tiles * TILE16 * nb;
            if (t.q.length < n) t.q = new int[n];
            if (t.d.length < m) { t.d = new float[m]; t.dsum = new float[m]; }
            par.forRange(t.tiles, 1, (g0, g1) -> {
                for (int g = g0; g < g1; g++)
                    for (int i = 0; i < TILE16; i++) {
                        int tok = g * TILE16 + i, base = g * TILE16 * in + i;
                        boolean real = tok < a.tokens;
                        for (int k = 0; k < in; k++) t.q[base + k * TILE16] = real ? a.q2[tok * in + k] : 0;
                        for (int b = 0; b < nb; b++) {
                            t.d[(g * nb + b) * TILE16 + i] = real ? a.d[tok * nb + b] : 0f;
                            t.dsum[(g * nb + b) * TILE16 + i] = real ? a.d[tok * nb + b] * a.sum[tok * nb + b] : 0f;
                        }
                    }
            });
            return t;
        }
    }

    private static final ThreadLocal<short[]> CODES16 = ThreadLocal.withInitial(() -> new short[CHUNK16 * 2 * P]);

    /**
     * Panels {@code [p0, p1)} with int8 activations, two panels at a time (the second is the first
     * again when the range is odd): per chunk of columns both panels' codes are expanded to 16 bits
     * once, then every tile of tokens multiplies them block by block ({@link #tile16}).
     */
    static void int16Rows(QuantTensor w, Panels.Store pk, Tiles16 xt, float[] y, int p0, int p1, float[] bias) {
        int in = w.dim(1), out = w.dim(0), nb = in / Int8Activations.BLOCK, tokens = xt.tokens;
        short[] wk = CODES16.get();
        float[] sc = scratch(0, CHUNK16 / 32 * 2 * P), mn = scratch(1, CHUNK16 / 32 * 2 * P), part = scratch(3, xt.tiles * TILE16 * 2 * P);
        int[] sums = Panels.scratch().ints(TILE16 * P);
        for (int p = p0; p < p1; p += 2) {
            int q = Math.min(p + 1, p1 - 1);
            java.util.Arrays.fill(part, 0, xt.tiles * TILE16 * 2 * P, 0f);
            for (int k0 = 0; k0 < in; k0 += CHUNK16) {
                int kn = Math.min(CHUNK16, in - k0);
                boolean mins = w.expand16(pk, p, k0, kn, wk, 0, 2 * P, sc, mn, 0);
                w.expand16(pk, q, k0, kn, wk, P, 2 * P, sc, mn, P);
                if (mins && TILE16 == 4) minTerms(mn, kn / 32, xt.dsum, k0 / 32, nb, part, xt.tiles);
                for (int g = 0; g < xt.tiles; g++)
                    for (int b = 0; b < kn / 32; b++) {
                        int xb = (g * nb + k0 / 32 + b) * TILE16;
                        int wo = b * 32 * 2 * P, xo = g * TILE16 * in + (k0 + 32 * b) * TILE16, po = g * TILE16 * 2 * P;
                        if (TILE16 == 4) {
                            tile16x4(wk, wo, xt.q, xo, sc, b * 2 * P, xt.d, xb, part, po);
                        } else {
                            tile16(wk, wo, xt.q, xo, sums);
                            scale16(sums, sc, mins ? mn : null, b * 2 * P, xt.d, xt.dsum, xb, part, po);
                        }
                    }
            }
            for (int t = 0; t < tokens; t++) {
                Panels.store(part, t * 2 * P, y, t * out, p * P, out, bias);
                if (q != p) Panels.store(part, t * 2 * P + P, y, t * out, q * P, out, bias);
            }
        }
    }

    /**
     * One block (32 columns) of two panels ({@code wk[wo + k 2P ..]}) against a tile of
     * {@link #TILE16} tokens' codes ({@code xq[xo + k TILE16 + i]}): per column two weight loads,
     * eight broadcasts and sixteen 16-bit multiply-adds. 16-bit multiply-adds run at about 1.7x the
     * fp32 FMA rate on Zen 4 (93 against 54 GMAC/s on one core, microbenchmark in L1); the block's sums
     * stay within 16 bits by the codes' bound ({@link QuantTensor#expand16}).
     */
    private static void tile16(short[] wk, int wo, int[] xq, int xo, int[] sums) {
        ShortVector z = ShortVector.zero(Panels.S);
        ShortVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z, a4 = z, b4 = z, a5 = z, b5 = z, a6 = z, b6 = z, a7 = z, b7 = z;
        for (int k = 0, o = wo, j = xo; k < 32; k++, o += 2 * P, j += TILE16) {
            ShortVector lo = ShortVector.fromArray(Panels.S, wk, o), hi = ShortVector.fromArray(Panels.S, wk, o + P), v;
            v = (ShortVector) IntVector.broadcast(Panels.I, xq[j]).reinterpretShape(Panels.S, 0); a0 = a0.add(lo.mul(v)); b0 = b0.add(hi.mul(v));
            v = (ShortVector) IntVector.broadcast(Panels.I, xq[j + 1]).reinterpretShape(Panels.S, 0); a1 = a1.add(lo.mul(v)); b1 = b1.add(hi.mul(v));
            v = (ShortVector) IntVector.broadcast(Panels.I, xq[j + 2]).reinterpretShape(Panels.S, 0); a2 = a2.add(lo.mul(v)); b2 = b2.add(hi.mul(v));
            v = (ShortVector) IntVector.broadcast(Panels.I, xq[j + 3]).reinterpretShape(Panels.S, 0); a3 = a3.add(lo.mul(v)); b3 = b3.add(hi.mul(v));
            v = (ShortVector) IntVector.broadcast(Panels.I, xq[j + 4]).reinterpretShape(Panels.S, 0); a4 = a4.add(lo.mul(v)); b4 = b4.add(hi.mul(v));
            v = (ShortVector) IntVector.broadcast(Panels.I, xq[j + 5]).reinterpretShape(Panels.S, 0); a5 = a5.add(lo.mul(v)); b5 = b5.add(hi.mul(v));
            v = (ShortVector) IntVector.broadcast(Panels.I, xq[j + 6]).reinterpretShape(Panels.S, 0); a6 = a6.add(lo.mul(v)); b6 = b6.add(hi.mul(v));
            v = (ShortVector) IntVector.broadcast(Panels.I, xq[j + 7]).reinterpretShape(Panels.S, 0); a7 = a7.add(lo.mul(v)); b7 = b7.add(hi.mul(v));
        }
        // stored as ints: ShortVector.intoArray on a vector out of a loop resolves its species through a
        // type profile the whole process shares, which 16-bit vectors of two widths make bimorphic (FiveBits.run)
        ((IntVector) a0.reinterpretShape(Panels.I, 0)).intoArray(sums, 0); ((IntVector) b0.reinterpretShape(Panels.I, 0)).intoArray(sums, H);
        ((IntVector) a1.reinterpretShape(Panels.I, 0)).intoArray(sums, 2 * H); ((IntVector) b1.reinterpretShape(Panels.I, 0)).intoArray(sums, 3 * H);
        ((IntVector) a2.reinterpretShape(Panels.I, 0)).intoArray(sums, 4 * H); ((IntVector) b2.reinterpretShape(Panels.I, 0)).intoArray(sums, 5 * H);
        ((IntVector) a3.reinterpretShape(Panels.I, 0)).intoArray(sums, 6 * H); ((IntVector) b3.reinterpretShape(Panels.I, 0)).intoArray(sums, 7 * H);
        ((IntVector) a4.reinterpretShape(Panels.I, 0)).intoArray(sums, 8 * H); ((IntVector) b4.reinterpretShape(Panels.I, 0)).intoArray(sums, 9 * H);
        ((IntVector) a5.reinterpretShape(Panels.I, 0)).intoArray(sums, 10 * H); ((IntVector) b5.reinterpretShape(Panels.I, 0)).intoArray(sums, 11 * H);
        ((IntVector) a6.reinterpretShape(Panels.I, 0)).intoArray(sums, 12 * H); ((IntVector) b6.reinterpretShape(Panels.I, 0)).intoArray(sums, 13 * H);
        ((IntVector) a7.reinterpretShape(Panels.I, 0)).intoArray(sums, 14 * H); ((IntVector) b7.reinterpretShape(Panels.I, 0)).intoArray(sums, 15 * H);
    }

    /**
     * {@link #tile16} for four tokens (machines with 16 vector registers), with {@link #scale16}'s
     * epilogue written in (its min terms apart, {@link #minTerms}): the eight sums go from registers
     * into the fp32 outputs instead of through a short scratch and a second method. Paired against
     * the tile and scale16 ([2048, 8192] and [8192, 2048] x 128 tokens, AMD EPYC Zen 3, AVX2): Q4_0
     * 1.09-1.12x at one and two threads (outputs bit-identical), Q4_1 1.06x, Q4_K 1.01-1.04x (their
     * min terms now summed before the products: fp32 rounding order only). The four epilogues are
     * written out: a helper taking the sums as vectors was not inlined and boxed them (0.08x).
     */
    private static void tile16x4(short[] wk, int wo, int[] xq, int xo, float[] sc, int so, float[] d, int xb, float[] part, int po) {
        ShortVector z = ShortVector.zero(Panels.S);
        ShortVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z;
        for (int k = 0, o = wo, j = xo; k < 32; k++, o += 2 * P, j += 4) {
            ShortVector lo = ShortVector.fromArray(Panels.S, wk, o), hi = ShortVector.fromArray(Panels.S, wk, o + P), v;
            v = (ShortVector) IntVector.broadcast(Panels.I, xq[j]).reinterpretShape(Panels.S, 0); a0 = a0.add(lo.mul(v)); b0 = b0.add(hi.mul(v));
            v = (ShortVector) IntVector.broadcast(Panels.I, xq[j + 1]).reinterpretShape(Panels.S, 0); a1 = a1.add(lo.mul(v)); b1 = b1.add(hi.mul(v));
            v = (ShortVector) IntVector.broadcast(Panels.I, xq[j + 2]).reinterpretShape(Panels.S, 0); a2 = a2.add(lo.mul(v)); b2 = b2.add(hi.mul(v));
            v = (ShortVector) IntVector.broadcast(Panels.I, xq[j + 3]).reinterpretShape(Panels.S, 0); a3 = a3.add(lo.mul(v)); b3 = b3.add(hi.mul(v));
        }
        FloatVector s0 = FloatVector.fromArray(Panels.F, sc, so), s1 = FloatVector.fromArray(Panels.F, sc, so + H);
        FloatVector s2 = FloatVector.fromArray(Panels.F, sc, so + P), s3 = FloatVector.fromArray(Panels.F, sc, so + P + H);
        {
            FloatVector dx = FloatVector.broadcast(Panels.F, d[xb + 0]);
            IntVector u = (IntVector) a0.reinterpretShape(Panels.I, 0), v = (IntVector) b0.reinterpretShape(Panels.I, 0);
            int o = po;
            ((FloatVector) u.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s0).fma(dx, FloatVector.fromArray(Panels.F, part, o)).intoArray(part, o);
            ((FloatVector) u.lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s1).fma(dx, FloatVector.fromArray(Panels.F, part, o + H)).intoArray(part, o + H);
            ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s2).fma(dx, FloatVector.fromArray(Panels.F, part, o + P)).intoArray(part, o + P);
            ((FloatVector) v.lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s3).fma(dx, FloatVector.fromArray(Panels.F, part, o + P + H)).intoArray(part, o + P + H);
        }
        {
            FloatVector dx = FloatVector.broadcast(Panels.F, d[xb + 1]);
            IntVector u = (IntVector) a1.reinterpretShape(Panels.I, 0), v = (IntVector) b1.reinterpretShape(Panels.I, 0);
            int o = po + 2 * P;
            ((FloatVector) u.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s0).fma(dx, FloatVector.fromArray(Panels.F, part, o)).intoArray(part, o);
            ((FloatVector) u.lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s1).fma(dx, FloatVector.fromArray(Panels.F, part, o + H)).intoArray(part, o + H);
            ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s2).fma(dx, FloatVector.fromArray(Panels.F, part, o + P)).intoArray(part, o + P);
            ((FloatVector) v.lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s3).fma(dx, FloatVector.fromArray(Panels.F, part, o + P + H)).intoArray(part, o + P + H);
        }
        {
            FloatVector dx = FloatVector.broadcast(Panels.F, d[xb + 2]);
            IntVector u = (IntVector) a2.reinterpretShape(Panels.I, 0), v = (IntVector) b2.reinterpretShape(Panels.I, 0);
            int o = po + 4 * P;
            ((FloatVector) u.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s0).fma(dx, FloatVector.fromArray(Panels.F, part, o)).intoArray(part, o);
            ((FloatVector) u.lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s1).fma(dx, FloatVector.fromArray(Panels.F, part, o + H)).intoArray(part, o + H);
            ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s2).fma(dx, FloatVector.fromArray(Panels.F, part, o + P)).intoArray(part, o + P);
            ((FloatVector) v.lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s3).fma(dx, FloatVector.fromArray(Panels.F, part, o + P + H)).intoArray(part, o + P + H);
        }
        {
            FloatVector dx = FloatVector.broadcast(Panels.F, d[xb + 3]);
            IntVector u = (IntVector) a3.reinterpretShape(Panels.I, 0), v = (IntVector) b3.reinterpretShape(Panels.I, 0);
            int o = po + 6 * P;
            ((FloatVector) u.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s0).fma(dx, FloatVector.fromArray(Panels.F, part, o)).intoArray(part, o);
            ((FloatVector) u.lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s1).fma(dx, FloatVector.fromArray(Panels.F, part, o + H)).intoArray(part, o + H);
            ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s2).fma(dx, FloatVector.fromArray(Panels.F, part, o + P)).intoArray(part, o + P);
            ((FloatVector) v.lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s3).fma(dx, FloatVector.fromArray(Panels.F, part, o + P + H)).intoArray(part, o + P + H);
        }
    }

    /**
     * The min terms of a chunk's blocks ({@code part[t 2P + r] += sum_b mn_br dsum_bt}) for every token,
     * before the tiles ({@link #tile16x4}) add the codes' products: each token's outputs stay in
     * registers across the blocks. Inside the tile, beside its eight sums and four scales, the mins
     * spilled (Q4_1 and Q4_K 0.7-0.8x, AMD EPYC Zen 3) or, loaded at each use, grew it past what C1
     * compiles; per tile and block apart from it, they cost what the tile gained.
     */
    private static void minTerms(float[] mn, int blocks, float[] dsum, int kb, int nb, float[] part, int tiles) {
        for (int g = 0; g < tiles; g++)
            for (int i = 0; i < TILE16; i++) {
                int o = (g * TILE16 + i) * 2 * P, x = (g * nb + kb) * TILE16 + i;
                FloatVector r0 = FloatVector.fromArray(Panels.F, part, o), r1 = FloatVector.fromArray(Panels.F, part, o + H);
                FloatVector r2 = FloatVector.fromArray(Panels.F, part, o + P), r3 = FloatVector.fromArray(Panels.F, part, o + P + H);
                for (int b = 0, m = 0; b < blocks; b++, m += 2 * P, x += TILE16) {
                    FloatVector ds = FloatVector.broadcast(Panels.F, dsum[x]);
                    r0 = FloatVector.fromArray(Panels.F, mn, m).fma(ds, r0);
                    r1 = FloatVector.fromArray(Panels.F, mn, m + H).fma(ds, r1);
                    r2 = FloatVector.fromArray(Panels.F, mn, m + P).fma(ds, r2);
                    r3 = FloatVector.fromArray(Panels.F, mn, m + P + H).fma(ds, r3);
                }
                r0.intoArray(part, o); r1.intoArray(part, o + H); r2.intoArray(part, o + P); r3.intoArray(part, o + P + H);
            }
    }

    /**
     * A block's 16-bit sums ({@code sums[(2 i + h) H ..]} as pairs in ints, token i, panel h, lane order) into the fp32
     * outputs: {@code part[po + i 2P + h P + r] += dx_i (sc_r sum + mn_r sum(x codes))}.
     */
    private static void scale16(int[] sums, float[] sc, float[] mn, int so, float[] d, float[] dsum, int xb, float[] part, int po) {
        boolean mins = mn != null;
        if (!mins) mn = sc;
        FloatVector s0 = FloatVector.fromArray(Panels.F, sc, so), s1 = FloatVector.fromArray(Panels.F, sc, so + H);
        FloatVector s2 = FloatVector.fromArray(Panels.F, sc, so + P), s3 = FloatVector.fromArray(Panels.F, sc, so + P + H);
        FloatVector m0 = FloatVector.fromArray(Panels.F, mn, so), m1 = FloatVector.fromArray(Panels.F, mn, so + H);
        FloatVector m2 = FloatVector.fromArray(Panels.F, mn, so + P), m3 = FloatVector.fromArray(Panels.F, mn, so + P + H);
        for (int i = 0, o = po; i < TILE16; i++, o += 2 * P) {
            FloatVector dx = FloatVector.broadcast(Panels.F, d[xb + i]), ds = FloatVector.broadcast(Panels.F, mins ? dsum[xb + i] : 0f);
            IntVector u = IntVector.fromArray(Panels.I, sums, i * P);
            IntVector v = IntVector.fromArray(Panels.I, sums, i * P + H);
            FloatVector r0 = FloatVector.fromArray(Panels.F, part, o), r1 = FloatVector.fromArray(Panels.F, part, o + H);
            FloatVector r2 = FloatVector.fromArray(Panels.F, part, o + P), r3 = FloatVector.fromArray(Panels.F, part, o + P + H);
            if (mins) { r0 = m0.fma(ds, r0); r1 = m1.fma(ds, r1); r2 = m2.fma(ds, r2); r3 = m3.fma(ds, r3); }
            ((FloatVector) u.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s0).fma(dx, r0).intoArray(part, o);
            ((FloatVector) u.lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s1).fma(dx, r1).intoArray(part, o + H);
            ((FloatVector) v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s2).fma(dx, r2).intoArray(part, o + P);
            ((FloatVector) v.lanewise(VectorOperators.ASHR, 16).convertShape(VectorOperators.I2F, Panels.F, 0)).mul(s3).fma(dx, r3).intoArray(part, o + P + H);
        }
    }

    /** {@code part[o ..] += acc[0 .. n)}. */
    private static void addTo(float[] part, int o, float[] acc, int n) {
        for (int i = 0; i < n; i += H)
            FloatVector.fromArray(Panels.F, part, o + i).add(FloatVector.fromArray(Panels.F, acc, i)).intoArray(part, o + i);
    }

    /**
     * {@link #TILE} packed tokens ({@code xp[xo + k TILE + i]}) against {@code kn} columns of an
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

    /** {@link #tile} for four tokens (machines with 16 vector registers). */
    private static void tile4(float[] wk, int kn, float[] xp, int xo, float[] acc) {
        FloatVector z = FloatVector.zero(Panels.F);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z;
        for (int k = 0, o = 0, j = xo; k < kn; k++, o += P, j += 4) {
            FloatVector lo = FloatVector.fromArray(Panels.F, wk, o), hi = FloatVector.fromArray(Panels.F, wk, o + H), v;
            v = FloatVector.broadcast(Panels.F, xp[j]); a0 = lo.fma(v, a0); b0 = hi.fma(v, b0);
            v = FloatVector.broadcast(Panels.F, xp[j + 1]); a1 = lo.fma(v, a1); b1 = hi.fma(v, b1);
            v = FloatVector.broadcast(Panels.F, xp[j + 2]); a2 = lo.fma(v, a2); b2 = hi.fma(v, b2);
            v = FloatVector.broadcast(Panels.F, xp[j + 3]); a3 = lo.fma(v, a3); b3 = hi.fma(v, b3);
        }
        a0.intoArray(acc, 0); b0.intoArray(acc, H); a1.intoArray(acc, 2 * H); b1.intoArray(acc, 3 * H);
        a2.intoArray(acc, 4 * H); b2.intoArray(acc, 5 * H); a3.intoArray(acc, 6 * H); b3.intoArray(acc, 7 * H);
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

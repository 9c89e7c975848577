package jllm.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_0: 32 values per block, fp16 scale then 16 bytes of nibbles (low nibble = value j, high = j + 16); {@code x = (q - 8) d}.
 *
 * <p>{@link Panels} layout: per panel and block, P fp16 scales in lane order, then 16 groups of P
 * bytes; group j holds each row's byte j (low nibble: column j, high nibble: column j + 16).
 */
public final class Q4_0Tensor extends QuantTensor {
    static final int QK = 32, BB = 18;
    private static final int P = Panels.P;

    public Q4_0Tensor(MemorySegment seg, long... shape) { super(GgmlType.Q4_0, seg, shape); }

    @Override public DType dtype() { return DType.Q4_0; }

    @Override Q4_0Tensor make(MemorySegment s, long[] shape) { return new Q4_0Tensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off);
        for (int j = 0; j < 16; j++) {
            int q = u8(off + 2 + j);
            dst[o + j] = ((q & 15) - 8) * d;
            dst[o + j + 16] = ((q >>> 4) - 8) * d;
        }
    }

    @Override boolean hasPanels() { return true; }

    @Override long panelBytes() { return (long) dim(1) / QK * BB * P; }

    @Override
    void repackPanel(byte[] src, byte[] dst) {
        int nb = dim(1) / QK, rb = nb * BB;
        for (int b = 0; b < nb; b++) {
            int o = b * BB * P;
            for (int l = 0; l < P; l++) {
                int s = l * rb + b * BB;
                dst[o + 2 * l] = src[s];
                dst[o + 2 * l + 1] = src[s + 1];
                for (int j = 0; j < 16; j++) dst[o + 2 * P + j * P + l] = src[s + 2 + j];
            }
        }
    }

    @Override
    void int8Rows(MemorySegment pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        long panel = panelBytes();
        for (int p = p0; p < p1; p++)
            for (int t = 0; t < a.tokens; t++) int8Panel(pk, p * panel, a, t, y, p, bias);
    }

    /**
     * One panel against token {@code t}: per group two columns, {@code (q - 8) x} summed over the block
     * in 16 bits (the sum starts at {@code -8 sum(x codes)}, see {@link Panels}), then one conversion
     * and one FMA per half-panel with the rows' scales.
     */
    private void int8Panel(MemorySegment pk, long o, Int8Activations a, int t, float[] y, int p, float[] bias) {
        int nb = a.blocks, xb = t * nb, xq = t * a.cols;
        FloatVector lo = FloatVector.zero(Panels.F), hi = lo;
        for (int b = 0; b < nb; b++, o += (long) BB * P) {
            ShortVector s = Panels.pair(Panels.twice(-8 * a.sum[xb + b]));
            int x = xq + b * QK;
            long g = o + 2L * P;
            for (int j = 0; j < 16; j++, g += P) {
                ShortVector w = Panels.bytes(pk, g);
                s = s.add(w.and((short) 15).mul(Panels.pair(a.q2[x + j])))
                        .add(w.lanewise(VectorOperators.LSHR, 4).mul(Panels.pair(a.q2[x + j + 16])));
            }
            float dx = a.d[xb + b];
            lo = Panels.lowRows(s).fma(Panels.halvesLow(pk, o).mul(dx), lo);
            hi = Panels.highRows(s).fma(Panels.halvesHigh(pk, o).mul(dx), hi);
        }
        Panels.store(lo, hi, y, t * dim(0), p * P, dim(0), bias);
    }

    @Override
    void expand(MemorySegment pk, long o, int k0, int kn, float[] wk) {
        o += (long) k0 / QK * BB * P;
        for (int b = 0; b < kn / QK; b++, o += (long) BB * P) {
            FloatVector dl = Panels.halvesLow(pk, o), dh = Panels.halvesHigh(pk, o);
            long g = o + 2L * P;
            for (int j = 0, k = b * QK; j < 16; j++, g += P) {
                ShortVector w = Panels.bytes(pk, g), q0 = w.and((short) 15).sub((short) 8), q1 = w.lanewise(VectorOperators.LSHR, 4).sub((short) 8);
                Panels.put(Panels.lowRows(q0).mul(dl), Panels.highRows(q0).mul(dh), wk, k + j);
                Panels.put(Panels.lowRows(q1).mul(dl), Panels.highRows(q1).mul(dh), wk, k + j + 16);
            }
        }
    }
}

package jllm.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q8_0: blocks of 32 signed bytes with one fp16 scale, {@code x = q * d}.
 *
 * <p>{@link Panels} layout: per panel and block, P fp16 scales in lane order, then 16 groups of 2P
 * bytes; in group i each row's 16-bit lane holds its codes for columns 2i (low byte) and 2i + 1
 * (high byte). Two products of 8-bit values fit 16 bits (2 * 128 * 127 < 2^15), so each pair is
 * summed in 16 bits and then widened into two 32-bit accumulators (rows [0, P/2) and [P/2, P)).
 */
public final class Q8_0Tensor extends QuantTensor {
    static final int QK = 32, BB = 34;
    private static final int P = Panels.P;

    public Q8_0Tensor(MemorySegment seg, long... shape) { super(GgmlType.Q8_0, seg, shape); }

    @Override public DType dtype() { return DType.Q8_0; }

    @Override Q8_0Tensor make(MemorySegment s, long[] shape) { return new Q8_0Tensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off);
        for (int j = 0; j < QK; j++) dst[o + j] = seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, off + 2 + j) * d;
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
                for (int i = 0; i < 16; i++) {
                    dst[o + 2 * P + i * 2 * P + 2 * l] = src[s + 2 + 2 * i];
                    dst[o + 2 * P + i * 2 * P + 2 * l + 1] = src[s + 3 + 2 * i];
                }
            }
        }
    }

    @Override
    void int8Rows(MemorySegment pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        long panel = panelBytes();
        for (int p = p0; p < p1; p++)
            for (int t = 0; t < a.tokens; t++) int8Panel(pk, p * panel, a, t, y, p, bias);
    }

    private void int8Panel(MemorySegment pk, long o, Int8Activations a, int t, float[] y, int p, float[] bias) {
        int nb = a.blocks, xb = t * nb, xq = t * a.cols;
        FloatVector lo = FloatVector.zero(Panels.F), hi = lo;
        for (int b = 0; b < nb; b++, o += (long) BB * P) {
            IntVector al = IntVector.zero(Panels.I), ah = al;
            int x = xq + b * QK;
            long g = o + 2L * P;
            for (int i = 0; i < 16; i++, g += 2L * P) {
                ShortVector w = ShortVector.fromMemorySegment(Panels.S, pk, g, LE);
                IntVector s = w.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8).mul(Panels.pair(a.q2[x + 2 * i]))
                        .add(w.lanewise(VectorOperators.ASHR, 8).mul(Panels.pair(a.q2[x + 2 * i + 1]))).reinterpretAsInts();
                al = al.add(s.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
                ah = ah.add(s.lanewise(VectorOperators.ASHR, 16));
            }
            float dx = a.d[xb + b];
            lo = Panels.toFloat(al).fma(Panels.halvesLow(pk, o).mul(dx), lo);
            hi = Panels.toFloat(ah).fma(Panels.halvesHigh(pk, o).mul(dx), hi);
        }
        Panels.store(lo, hi, y, t * dim(0), p * P, dim(0), bias);
    }

    @Override
    void expand(MemorySegment pk, long o, int k0, int kn, float[] wk) {
        o += (long) k0 / QK * BB * P;
        for (int b = 0; b < kn / QK; b++, o += (long) BB * P) {
            FloatVector dl = Panels.halvesLow(pk, o), dh = Panels.halvesHigh(pk, o);
            long g = o + 2L * P;
            for (int i = 0, k = b * QK; i < 16; i++, g += 2L * P) {
                ShortVector w = ShortVector.fromMemorySegment(Panels.S, pk, g, LE);
                ShortVector q0 = w.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8), q1 = w.lanewise(VectorOperators.ASHR, 8);
                Panels.put(Panels.lowRows(q0).mul(dl), Panels.highRows(q0).mul(dh), wk, k + 2 * i);
                Panels.put(Panels.lowRows(q1).mul(dl), Panels.highRows(q1).mul(dh), wk, k + 2 * i + 1);
            }
        }
    }
}

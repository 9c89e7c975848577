package jllm.tensor;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jllm.tensor.Panels.H;
import static jllm.tensor.Panels.I;
import static jllm.tensor.Panels.P;
import static jllm.tensor.Panels.S;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

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

    public Q8_0Tensor(MemorySegment seg, long... shape) { super(GgmlType.Q8_0, seg, shape); }

    private static final int[] SCALES_AT = {0};

    @Override int[] scaleOffsets() { return SCALES_AT; }

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
        float[] acc = Panels.scratch().acc(P);
        for (int p = p0; p < p1; p++)
            for (int t = 0; t < a.tokens; t++) {
                int8Panel(pk, p * panel, a, t, acc);
                Panels.store(acc, 0, y, t * dim(0), p * P, dim(0), bias);
            }
    }

    private static void int8Panel(MemorySegment pk, long o, Int8Activations a, int t, float[] acc) {
        int nb = a.blocks, xb = t * nb, xq = t * a.cols;
        FloatVector lo = FloatVector.zero(F), hi = lo;
        for (int b = 0; b < nb; b++, o += (long) BB * P) {
            IntVector al = IntVector.zero(I), ah = al;
            int x = xq + b * QK;
            long g = o + 2L * P;
            for (int i = 0; i < 16; i++, g += 2L * P) {
                ShortVector w = ShortVector.fromMemorySegment(S, pk, g, LE);
                IntVector s = w.lanewise(LSHL, 8).lanewise(ASHR, 8).mul(IntVector.broadcast(I, a.q2[x + 2 * i]).reinterpretAsShorts())
                        .add(w.lanewise(ASHR, 8).mul(IntVector.broadcast(I, a.q2[x + 2 * i + 1]).reinterpretAsShorts())).reinterpretAsInts();
                al = al.add(s.lanewise(LSHL, 16).lanewise(ASHR, 16));
                ah = ah.add(s.lanewise(ASHR, 16));
            }
            IntVector h = IntVector.fromMemorySegment(I, pk, o, LE);
            float dx = a.d[xb + b];
            FloatVector dl = h.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            FloatVector dh = h.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            lo = ((FloatVector) al.convert(I2F, 0)).fma(dl.mul(dx), lo);
            hi = ((FloatVector) ah.convert(I2F, 0)).fma(dh.mul(dx), hi);
        }
        lo.intoArray(acc, 0);
        hi.intoArray(acc, H);
    }

    @Override
    void expand(MemorySegment pk, long o, int k0, int kn, float[] wk) {
        o += (long) k0 / QK * BB * P;
        for (int b = 0; b < kn / QK; b++, o += (long) BB * P) {
            IntVector h = IntVector.fromMemorySegment(I, pk, o, LE);
            FloatVector dl = h.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            FloatVector dh = h.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            long g = o + 2L * P;
            for (int i = 0, k = b * QK; i < 16; i++, g += 2L * P) {
                ShortVector w = ShortVector.fromMemorySegment(S, pk, g, LE);
                IntVector q0 = w.lanewise(LSHL, 8).lanewise(ASHR, 8).reinterpretAsInts(), q1 = w.lanewise(ASHR, 8).reinterpretAsInts();
                ((FloatVector) q0.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0)).mul(dl).intoArray(wk, (k + 2 * i) * P);
                ((FloatVector) q0.lanewise(ASHR, 16).convert(I2F, 0)).mul(dh).intoArray(wk, (k + 2 * i) * P + H);
                ((FloatVector) q1.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0)).mul(dl).intoArray(wk, (k + 2 * i + 1) * P);
                ((FloatVector) q1.lanewise(ASHR, 16).convert(I2F, 0)).mul(dh).intoArray(wk, (k + 2 * i + 1) * P + H);
            }
        }
    }
}

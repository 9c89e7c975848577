package jllm.tensor;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.ZERO_EXTEND_B2S;
import static jllm.tensor.Panels.BP;
import static jllm.tensor.Panels.H;
import static jllm.tensor.Panels.I;
import static jllm.tensor.Panels.P;
import static jllm.tensor.Panels.S;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

/**
 * Q4_0: 32 values per block, fp16 scale then 16 bytes of nibbles (low nibble = value j, high = j + 16); {@code x = (q - 8) d}.
 *
 * <p>{@link Panels} layout: per panel and block, P fp16 scales in lane order, then 16 groups of P
 * bytes; group j holds each row's byte j (low nibble: column j, high nibble: column j + 16).
 */
public final class Q4_0Tensor extends QuantTensor {
    static final int QK = 32, BB = 18;

    public Q4_0Tensor(MemorySegment seg, long... shape) { super(GgmlType.Q4_0, seg, shape); }

    private static final int[] SCALES_AT = {0};

    @Override int[] scaleOffsets() { return SCALES_AT; }

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
        float[] acc = Panels.scratch().acc(P);
        for (int p = p0; p < p1; p++)
            for (int t = 0; t < a.tokens; t++) {
                int8Panel(pk, p * panel, a, t, acc);
                Panels.store(acc, 0, y, t * dim(0), p * P, dim(0), bias);
            }
    }

    /**
     * One panel against token {@code t}: per group two columns, {@code (q - 8) x} summed over the block
     * in 16 bits (the sum starts at {@code -8 sum(x codes)}, see {@link Panels}; the byte times x[j]
     * plus its high nibble times {@link Int8Activations#hi2}), then one conversion and one FMA per
     * half-panel with the rows' scales. The two products of a byte go to two accumulators: one chain
     * of two dependent 512-bit adds per group bound the loop (paired passes in one process, AMD EPYC,
     * weights in L1/L2: 38.5 -> 47.5 Gw/s per core; without any weight loads 48.7). Four accumulators
     * over a hand-unrolled pair of groups gained only 6-9%; the multiplies themselves cost ~2%.
     */
    private static void int8Panel(MemorySegment pk, long o, Int8Activations a, int t, float[] acc) {
        int nb = a.blocks, xb = t * nb, xq = t * a.cols;
        FloatVector lo = FloatVector.zero(F), hi = lo;
        for (int b = 0; b < nb; b++, o += (long) BB * P) {
            ShortVector s = IntVector.broadcast(I, Panels.twice(-8 * a.sum[xb + b])).reinterpretAsShorts(), sh = ShortVector.zero(S);
            int x = xq + b * QK, xh = x / 2;
            long g = o + 2L * P;
            for (int j = 0; j < 16; j++, g += P) {
                ShortVector w = (ShortVector) ByteVector.fromMemorySegment(BP, pk, g, LE).convertShape(ZERO_EXTEND_B2S, S, 0);
                s = s.add(w.mul(IntVector.broadcast(I, a.q2[x + j]).reinterpretAsShorts()));
                sh = sh.add(w.lanewise(LSHR, 4).mul(IntVector.broadcast(I, a.hi2[xh + j]).reinterpretAsShorts()));
            }
            IntVector si = s.add(sh).reinterpretAsInts(), h = IntVector.fromMemorySegment(I, pk, o, LE);
            float dx = a.d[xb + b];
            FloatVector dl = h.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            FloatVector dh = h.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            lo = ((FloatVector) si.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0)).fma(dl.mul(dx), lo);
            hi = ((FloatVector) si.lanewise(ASHR, 16).convert(I2F, 0)).fma(dh.mul(dx), hi);
        }
        lo.intoArray(acc, 0);
        hi.intoArray(acc, H);
    }

    @Override boolean hasInt16() { return true; }

    @Override
    boolean expand16(MemorySegment pk, long o, int k0, int kn, short[] wk, int wo, int ws, float[] sc, float[] mn, int so) {
        return SmallBlocks.expand16Nibbles(pk, o, BB, 2 * P, -1, k0, kn, wk, wo, ws, sc, mn, so);
    }

    @Override
    void expand(MemorySegment pk, long o, int k0, int kn, float[] wk) {
        o += (long) k0 / QK * BB * P;
        for (int b = 0; b < kn / QK; b++, o += (long) BB * P) {
            IntVector h = IntVector.fromMemorySegment(I, pk, o, LE);
            FloatVector dl = h.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            FloatVector dh = h.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            long g = o + 2L * P;
            for (int j = 0, k = b * QK; j < 16; j++, g += P) {
                ShortVector w = (ShortVector) ByteVector.fromMemorySegment(BP, pk, g, LE).convertShape(ZERO_EXTEND_B2S, S, 0);
                IntVector q0 = w.and((short) 15).sub((short) 8).reinterpretAsInts(), q1 = w.lanewise(LSHR, 4).sub((short) 8).reinterpretAsInts();
                ((FloatVector) q0.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0)).mul(dl).intoArray(wk, (k + j) * P);
                ((FloatVector) q0.lanewise(ASHR, 16).convert(I2F, 0)).mul(dh).intoArray(wk, (k + j) * P + H);
                ((FloatVector) q1.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0)).mul(dl).intoArray(wk, (k + j + 16) * P);
                ((FloatVector) q1.lanewise(ASHR, 16).convert(I2F, 0)).mul(dh).intoArray(wk, (k + j + 16) * P + H);
            }
        }
    }
}

package jllm.tensor;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.B2S;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jllm.tensor.Panels.B;
import static jllm.tensor.Panels.H;
import static jllm.tensor.Panels.I;
import static jllm.tensor.Panels.P;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

/**
 * Q8_0: blocks of 32 signed bytes with one fp16 scale, {@code x = q * d}.
 *
 * <p>{@link Panels} layout: per panel and block, P fp16 scales in lane order, then 16 groups of 2P
 * bytes; group i holds the P rows' codes for column 2i, then theirs for column 2i + 1, each read by
 * a widening load ({@code vpmovsxbw}) into 16-bit lanes. Two products of 8-bit values fit 16 bits
 * (2 * 128 * 127 < 2^15), so each pair is summed in 16 bits and then widened into two 32-bit
 * accumulators (the even and the odd lanes). The codes used to be interleaved, two per 16-bit lane,
 * and sign-extended with three 16-bit shifts: on Intel (family 6 model 207) those shifts and the
 * multiplies all queue for one port, while the widening loads go to another; in cache 1.4-1.7x at
 * 512 bits, 1.7x at 256 and 1.3-1.6x at 128 bits, from memory 0.68-0.91 of the read bandwidth
 * against 0.70-0.88 at 512 bits, 0.94-1.04 against 0.62-0.70 at 128 bits.
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

    @Override int activationExtras() { return Int8Activations.Q80; }

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
                    dst[o + 2 * P + i * 2 * P + l] = src[s + 2 + 2 * i];
                    dst[o + 2 * P + i * 2 * P + P + l] = src[s + 3 + 2 * i];
                }
            }
        }
    }

    @Override
    void int8Rows(Panels.Store pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        Panels.int8Fours(Q8_0Tensor::int8Panels, pk, a, y, dim(0), p0, p1, bias);
    }

    /**
     * Four panels against token {@code t} into {@code acc[4 P]}, sharing the broadcasts of x as
     * {@link Q4_0Tensor}'s kernel does (paired against one panel at a time: 2 threads from memory
     * 1.03-1.37x, 1 thread 1.14x, in L2 1.05x, AMD EPYC). Per group a lane holds a row's codes for
     * columns 2i and 2i + 1 (two widening loads): their two products summed in 16 bits, widened into
     * two 32-bit sums. Two calls of a two-panel kernel instead read slower from memory on the Intel
     * Xeon (69-77% of the read bandwidth against 74-87%, thirty-fifth round). The
     * codes and scales come from one array ({@link Int8Activations#q80}): at AVX2 1.09x from memory
     * (paired, both orders), the same at 512 bits.
     */
    private static void int8Panels(byte[] pk, int o0, int o1, int o2, int o3, Int8Activations a, int t, float[] acc) {
        int nb = a.blocks;
        int[] v = a.q80;
        float[] sc = Panels.scratch().f(8 * H);
        FloatVector lo0 = FloatVector.zero(F), hi0 = lo0, lo1 = lo0, hi1 = lo0, lo2 = lo0, hi2 = lo0, lo3 = lo0, hi3 = lo0;
        for (int b = 0, x = 33 * t * nb; b < nb; b++, x += 33) {
            int step = b * BB * P;
            IntVector z = IntVector.zero(I), l0 = z, u0 = z, l1 = z, u1 = z, l2 = z, u2 = z, l3 = z, u3 = z;
            for (int i = 0; i < 16; i++) {
                int g = step + 2 * P + i * 2 * P;
                ShortVector xe = (ShortVector) IntVector.broadcast(I, v[x + 2 * i]).reinterpretShape(Panels.S, 0), xo = (ShortVector) IntVector.broadcast(I, v[x + 2 * i + 1]).reinterpretShape(Panels.S, 0);
                // written out per panel: C2 boxes vectors handed to a helper, and a loop over the panels
                // through arrays cost ~6% (Q4_0, in L2)
                IntVector s0 = (IntVector) widen(pk, o0 + g).mul(xe).add(widen(pk, o0 + g + P).mul(xo)).reinterpretShape(I, 0);
                l0 = l0.add(s0.lanewise(LSHL, 16).lanewise(ASHR, 16));
                u0 = u0.add(s0.lanewise(ASHR, 16));
                IntVector s1 = (IntVector) widen(pk, o1 + g).mul(xe).add(widen(pk, o1 + g + P).mul(xo)).reinterpretShape(I, 0);
                l1 = l1.add(s1.lanewise(LSHL, 16).lanewise(ASHR, 16));
                u1 = u1.add(s1.lanewise(ASHR, 16));
                IntVector s2 = (IntVector) widen(pk, o2 + g).mul(xe).add(widen(pk, o2 + g + P).mul(xo)).reinterpretShape(I, 0);
                l2 = l2.add(s2.lanewise(LSHL, 16).lanewise(ASHR, 16));
                u2 = u2.add(s2.lanewise(ASHR, 16));
                IntVector s3 = (IntVector) widen(pk, o3 + g).mul(xe).add(widen(pk, o3 + g + P).mul(xo)).reinterpretShape(I, 0);
                l3 = l3.add(s3.lanewise(LSHL, 16).lanewise(ASHR, 16));
                u3 = u3.add(s3.lanewise(ASHR, 16));
            }
            // the scales through a helper and a scratch: written out here they made this method large
            // enough that C2 sometimes left its last operations as calls to the Vector API's Java
            // fallbacks, and the whole decode then ran at 5-20% of its speed for the rest of the process
            // (tools/c2-vector-fallbacks.py finds them; F16's subnormal-guarded kernel had the same trouble, thirtieth round)
            Panels.scales4(pk, o0 + step, o1 + step, o2 + step, o3 + step, Float.intBitsToFloat(v[x + 32]), sc);
            lo0 = ((FloatVector) l0.convertShape(I2F, Panels.F, 0)).fma(FloatVector.fromArray(F, sc, 0), lo0);
            hi0 = ((FloatVector) u0.convertShape(I2F, Panels.F, 0)).fma(FloatVector.fromArray(F, sc, H), hi0);
            lo1 = ((FloatVector) l1.convertShape(I2F, Panels.F, 0)).fma(FloatVector.fromArray(F, sc, 2 * H), lo1);
            hi1 = ((FloatVector) u1.convertShape(I2F, Panels.F, 0)).fma(FloatVector.fromArray(F, sc, 3 * H), hi1);
            lo2 = ((FloatVector) l2.convertShape(I2F, Panels.F, 0)).fma(FloatVector.fromArray(F, sc, 4 * H), lo2);
            hi2 = ((FloatVector) u2.convertShape(I2F, Panels.F, 0)).fma(FloatVector.fromArray(F, sc, 5 * H), hi2);
            lo3 = ((FloatVector) l3.convertShape(I2F, Panels.F, 0)).fma(FloatVector.fromArray(F, sc, 6 * H), lo3);
            hi3 = ((FloatVector) u3.convertShape(I2F, Panels.F, 0)).fma(FloatVector.fromArray(F, sc, 7 * H), hi3);
        }
        lo0.intoArray(acc, 0); hi0.intoArray(acc, H);
        lo1.intoArray(acc, P); hi1.intoArray(acc, P + H);
        lo2.intoArray(acc, 2 * P); hi2.intoArray(acc, 2 * P + H);
        lo3.intoArray(acc, 3 * P); hi3.intoArray(acc, 3 * P + H);
    }

    /**
     * P codes from {@code pk[o]}, sign-extended to 16-bit lanes (a widening load, {@code vpmovsxbw}).
     * Unlike a helper that takes vectors, this one is small enough (22 bytecodes) that C2 inlines it
     * at every call (-XX:+PrintInlining: "inline (hot)"), so the vector it returns is never boxed;
     * that holds only while the kernel stays under C2's node-count cutoff: in a larger kernel (Q6_K's
     * lane kernel with its scales widened in place, thirty-sixth round) a helper of the same size
     * stayed a call ("NodeCountInliningCutoff") and boxed its vector.
     */
    private static ShortVector widen(byte[] pk, int o) {
        return (ShortVector) ByteVector.fromArray(Panels.BP, pk, o).convertShape(B2S, Panels.S, 0);
    }

    @Override
    void expand(Panels.Store st, int p, int k0, int kn, float[] wk) {
        byte[] pk = st.of(p);
        int o = st.at(p);
        o += k0 / QK * BB * P;
        for (int b = 0; b < kn / QK; b++, o += BB * P) {
            IntVector h = (IntVector) ByteVector.fromArray(B, pk, o).reinterpretShape(I, 0);
            FloatVector dl = ((FloatVector) h.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS);
            FloatVector dh = ((FloatVector) h.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS);
            int g = o + 2 * P;
            for (int i = 0, k = b * QK; i < 16; i++, g += 2 * P) {
                IntVector q0 = (IntVector) widen(pk, g).reinterpretShape(I, 0), q1 = (IntVector) widen(pk, g + P).reinterpretShape(I, 0);
                ((FloatVector) q0.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0)).mul(dl).intoArray(wk, (k + 2 * i) * P);
                ((FloatVector) q0.lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0)).mul(dh).intoArray(wk, (k + 2 * i) * P + H);
                ((FloatVector) q1.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0)).mul(dl).intoArray(wk, (k + 2 * i + 1) * P);
                ((FloatVector) q1.lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0)).mul(dh).intoArray(wk, (k + 2 * i + 1) * P + H);
            }
        }
    }
}

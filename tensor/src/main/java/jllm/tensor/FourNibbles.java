package jllm.tensor;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jllm.tensor.Panels.B;
import static jllm.tensor.Panels.F;
import static jllm.tensor.Panels.H;
import static jllm.tensor.Panels.P;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

/**
 * The four-nibble panel layout of 32 4-bit codes per row (Q4_0's blocks): 8 units of P 16-bit lanes
 * ({@link Panels#lanes16}), unit u holding each row's codes of columns 2u, 2u + 16, 2u + 1 and 2u +
 * 17 from its lowest nibble up (the file's Q4_0 bytes 2u and 2u + 1). The decode kernel multiplies
 * whole lanes ({@link Int8Activations#nib4}); these are the prefill expansions. Q4_K's sub-blocks
 * are laid out the same way ({@link KBlocks}).
 */
final class FourNibbles {
    private FourNibbles() { }

    /**
     * {@code {4}}: the layout's shift, which every kernel and expansion reads from here, from memory, so
     * that C2 sees no constant. A 16-bit vector shift by a constant has no immediate form in C2's x86
     * rules, and C2 gives each such shift its own copy of the count (a {@code vmovd} per shift: 11 in
     * a 67-instruction step of Q4_0's AVX2 loop); by a variable, the count is made once, before the loop.
     */
    static final int[] FOUR = {4};

    /** Zero mins, for formats without them. */
    static final float[] NO_MIN = new float[P];

    /** Column of nibble i (0 = lowest) of unit u. */
    static int column(int u, int i) { return 2 * u + (i & 1) * 16 + (i >> 1); }

    /**
     * The 32 codes at {@code pk[g ..]} centred ({@code q - 8}), column c's P lanes at {@code wk[k + c ws ..]}
     * (the int16 prefill tile's layout, {@link QuantTensor#expand16}).
     */
    static void expand16(byte[] pk, int g, short[] wk, int k, int ws) {
        int n4 = FOUR[0], n8 = 2 * n4, n12 = 3 * n4;
        for (int u = 0; u < 8; u++, g += 2 * P) {
            ShortVector w = (ShortVector) ByteVector.fromArray(B, pk, g).reinterpretShape(Panels.S, 0);
            w.and((short) 15).sub((short) 8).intoArray(wk, k + column(u, 0) * ws);
            w.lanewise(LSHR, n4).and((short) 15).sub((short) 8).intoArray(wk, k + column(u, 1) * ws);
            w.lanewise(LSHR, n8).and((short) 15).sub((short) 8).intoArray(wk, k + column(u, 2) * ws);
            w.lanewise(LSHR, n12).sub((short) 8).intoArray(wk, k + column(u, 3) * ws);
        }
    }

    /**
     * The 32 values at {@code pk[g ..]} in fp32 as the formats' decodeBlock computes them, {@code (q -
     * centre) d - m} (Q4_0: centre 8, m {@link #NO_MIN}, as {@code x - 0 = x}; Q4_K: centre 0), with
     * d of rows [0, P/2) at {@code d[dAt ..]} and of [P/2, P) at {@code d[dAt + H ..]}, m likewise
     * from {@code m[mAt ..]}; column c's P values at {@code wk[(k + c) P ..]}.
     */
    static void expand(byte[] pk, int g, int centre, float[] d, int dAt, float[] m, int mAt, float[] wk, int k) {
        FloatVector dLo = FloatVector.fromArray(F, d, dAt), dHi = FloatVector.fromArray(F, d, dAt + H);
        FloatVector mLo = FloatVector.fromArray(F, m, mAt), mHi = FloatVector.fromArray(F, m, mAt + H);
        int n4 = FOUR[0];
        for (int u = 0; u < 8; u++, g += 2 * P) {
            ShortVector w = (ShortVector) ByteVector.fromArray(B, pk, g).reinterpretShape(Panels.S, 0);
            for (int i = 0; i < 4; i++) {
                IntVector q = (IntVector) w.lanewise(LSHR, n4 * i).and((short) 15).sub((short) centre).reinterpretShape(Panels.I, 0);
                int at = (k + column(u, i)) * P;
                ((FloatVector) q.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, F, 0)).mul(dLo).sub(mLo).intoArray(wk, at);
                ((FloatVector) q.lanewise(ASHR, 16).convertShape(I2F, F, 0)).mul(dHi).sub(mHi).intoArray(wk, at + H);
            }
        }
    }
}

package jllm.tensor;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jllm.tensor.Panels.B;
import static jllm.tensor.Panels.F;
import static jllm.tensor.Panels.H;
import static jllm.tensor.Panels.I;
import static jllm.tensor.Panels.P;
import static jllm.tensor.Panels.S;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

/**
 * The five-bit panel layout (Q5_0, Q5_1, Q5_K): runs of 16 columns, each 5 groups of P 16-bit lanes
 * holding a row's codes three to a lane and bit k of the sixteenth in the top bit of lane k,
 * {@code L_k = q_3k | q_3k+1 << 5 | q_3k+2 << 10 | (q_15 >> k & 1) << 15}; 10 P bytes per run, 5 bits
 * per code as in the files (whose layout, a nibble and a separate fifth bit, cost 3x the operations
 * per weight: Q5_K at 40% of the bandwidth, Q5_0 and Q5_1 at 51-57%, AVX2, AMD EPYC Zen 3); three
 * codes per lane need no masks at all. Until the seventeenth round the sixteenth code had a sixth
 * lane of its own (6 bits per code); spread over the top bits it costs one more shift and multiply
 * per lane and saves a sixth of the bytes. The formats place their runs and scales in their blocks;
 * the kernel and the expansion here work per run.
 */
final class FiveBits {
    /** {@link Panels#VECTOR_COUNTS}, written out at each shift. */
    private static final boolean VC = Panels.VECTOR_COUNTS;

    private FiveBits() { }

    /**
     * {@code {5}}: the layout's shift, read from memory for the reason {@link FourNibbles#FOUR} gives;
     * the third code of a lane is reached by shifting twice, so that one count serves every shift.
     */
    static final int[] FIVE = {5};

    /** Panel bytes per run of 16 columns. */
    static final int RUN = 10 * P;

    /**
     * One run of 16 columns of four panels (at {@code g0 .. g3}) into {@code sums[at ..]}, panel after
     * panel ({@code H} ints each, the 16-bit lanes in pairs as {@link ShortVector#reinterpretShape}
     * lays them): {@code sum((q - 16) x)} in 16 bits (at most 16 * 16 * 127 = 32512), started at {@code
     * centre = -16 sum(x codes)}. Each lane is multiplied whole, then shifted right past each code and
     * multiplied by the next code of x less what the previous products already counted ({@link
     * Int8Activations#y5}, the run's at {@code y5[x ..]}): {@code L x0 + (L >>> 5)(x1 - 32 x0) + (L >>>
     * 10)(x2 - 32 x1) + (L >>> 15)(2^k x15 - 32 x2) = q0 x0 + q1 x1 + q2 x2 + (bit k of q15) 2^k x15}.
     * The 16-bit products wrap; the run's sum is exact.
     */
    static void run(byte[] pk, int g0, int g1, int g2, int g3, int[] y5, int x, int centre, int[] sums, int at) {
        int n5 = FIVE[0];
        ShortVector c5 = ShortVector.broadcast(Panels.S, (short) n5);
        ShortVector s0 = (ShortVector) IntVector.broadcast(I, Panels.twice(centre)).reinterpretShape(S, 0), s1 = s0, s2 = s0, s3 = s0;
        for (int k = 0; k < 5; k++) {
            int d = 2 * k * P, m = x + 3 * k;
            ShortVector m0 = (ShortVector) IntVector.broadcast(I, y5[m]).reinterpretShape(S, 0), m1 = (ShortVector) IntVector.broadcast(I, y5[m + 1]).reinterpretShape(S, 0);
            ShortVector m2 = (ShortVector) IntVector.broadcast(I, y5[m + 2]).reinterpretShape(S, 0), m3 = (ShortVector) IntVector.broadcast(I, y5[x + 16 + k]).reinterpretShape(S, 0);
            ShortVector l = (ShortVector) ByteVector.fromArray(B, pk, g0 + d).reinterpretShape(S, 0), h = VC ? l.lanewise(LSHR, c5) : l.lanewise(LSHR, n5);
            s0 = s0.add(l.mul(m0)).add(h.mul(m1));
            h = VC ? h.lanewise(LSHR, c5) : h.lanewise(LSHR, n5);
            s0 = s0.add(h.mul(m2)).add((VC ? h.lanewise(LSHR, c5) : h.lanewise(LSHR, n5)).mul(m3));
            l = (ShortVector) ByteVector.fromArray(B, pk, g1 + d).reinterpretShape(S, 0);
            h = VC ? l.lanewise(LSHR, c5) : l.lanewise(LSHR, n5);
            s1 = s1.add(l.mul(m0)).add(h.mul(m1));
            h = VC ? h.lanewise(LSHR, c5) : h.lanewise(LSHR, n5);
            s1 = s1.add(h.mul(m2)).add((VC ? h.lanewise(LSHR, c5) : h.lanewise(LSHR, n5)).mul(m3));
            l = (ShortVector) ByteVector.fromArray(B, pk, g2 + d).reinterpretShape(S, 0);
            h = VC ? l.lanewise(LSHR, c5) : l.lanewise(LSHR, n5);
            s2 = s2.add(l.mul(m0)).add(h.mul(m1));
            h = VC ? h.lanewise(LSHR, c5) : h.lanewise(LSHR, n5);
            s2 = s2.add(h.mul(m2)).add((VC ? h.lanewise(LSHR, c5) : h.lanewise(LSHR, n5)).mul(m3));
            l = (ShortVector) ByteVector.fromArray(B, pk, g3 + d).reinterpretShape(S, 0);
            h = VC ? l.lanewise(LSHR, c5) : l.lanewise(LSHR, n5);
            s3 = s3.add(l.mul(m0)).add(h.mul(m1));
            h = VC ? h.lanewise(LSHR, c5) : h.lanewise(LSHR, n5);
            s3 = s3.add(h.mul(m2)).add((VC ? h.lanewise(LSHR, c5) : h.lanewise(LSHR, n5)).mul(m3));
        }
        // stored as ints: ShortVector.intoArray resolves its receiver through a type profile the whole
        // process shares, and 16-bit vectors of another width elsewhere made it bimorphic, which left
        // these stores as Java fallbacks (docs/quantization-and-speed.md, thirty-second round)
        ((IntVector) s0.reinterpretShape(I, 0)).intoArray(sums, at);
        ((IntVector) s1.reinterpretShape(I, 0)).intoArray(sums, at + H);
        ((IntVector) s2.reinterpretShape(I, 0)).intoArray(sums, at + 2 * H);
        ((IntVector) s3.reinterpretShape(I, 0)).intoArray(sums, at + 3 * H);
    }

    /** A run's 16 codes (one per byte of {@code a}, then of {@code b}) as its five lanes, the row's lane at {@code dst[g ..]}. */
    static void pack(long a, long b, byte[] dst, int g) {
        int q15 = (int) (b >>> 56);
        Panels.SHORTS.set(dst, g, (short) (three(a) | (q15 & 1) << 15));
        Panels.SHORTS.set(dst, g + 2 * P, (short) (three(a >>> 24) | (q15 >> 1 & 1) << 15));
        Panels.SHORTS.set(dst, g + 4 * P, (short) ((a >>> 48 & 0x1F) | (a >>> 51 & 0x3E0) | (b & 0x1F) << 10 | (q15 >> 2 & 1) << 15));
        Panels.SHORTS.set(dst, g + 6 * P, (short) (three(b >>> 8) | (q15 >> 3 & 1) << 15));
        Panels.SHORTS.set(dst, g + 8 * P, (short) (three(b >>> 32) | (q15 >> 4 & 1) << 15));
    }

    /** The codes in the low three bytes of {@code q} as one lane, {@code q0 | q1 << 5 | q2 << 10}. */
    private static int three(long q) { return (int) ((q & 0x1F) | (q >>> 3 & 0x3E0) | (q >>> 6 & 0x7C00)); }

    /**
     * The run at {@code pk[g ..]} in fp32, {@code (q - centre) d - m} per column, with d of rows [0, P/2)
     * at {@code d[dAt ..]} and of [P/2, P) at {@code d[dAt + H ..]}, m likewise from {@code m[mAt ..]}
     * (as the formats' decodeBlock computes them: Q5_0 centre 16 and m 0, Q5_1 centre 0 and the min
     * negated, Q5_K centre 0 and {@code d sc_j}, {@code dmin m_j}); column c's P values at {@code wk[(k
     * + c) P ..]}.
     */
    static void expand(byte[] pk, int g, int centre, float[] d, int dAt, float[] m, int mAt, float[] wk, int k) {
        FloatVector dLo = FloatVector.fromArray(F, d, dAt), dHi = FloatVector.fromArray(F, d, dAt + H);
        FloatVector mLo = FloatVector.fromArray(F, m, mAt), mHi = FloatVector.fromArray(F, m, mAt + H);
        ShortVector q15 = ShortVector.zero(S);  // the sixteenth code, bit k from the top of lane k
        for (int j = 0; j < 5; j++) q15 = q15.or(lane(pk, g, j).lanewise(LSHR, 15).lanewise(LSHL, j));
        for (int i = 0; i < 16; i++) {
            ShortVector c = i < 15 ? lane(pk, g, i / 3).lanewise(LSHR, 5 * (i % 3)).and((short) 31) : q15;
            IntVector q = (IntVector) c.sub((short) centre).reinterpretShape(I, 0);
            ((FloatVector) q.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, F, 0)).mul(dLo).sub(mLo).intoArray(wk, (k + i) * P);
            ((FloatVector) q.lanewise(ASHR, 16).convertShape(I2F, F, 0)).mul(dHi).sub(mHi).intoArray(wk, (k + i) * P + H);
        }
    }

    /** Lane k of the run at {@code pk[g ..]}. */
    private static ShortVector lane(byte[] pk, int g, int k) { return ((ShortVector) ByteVector.fromArray(B, pk, g + 2 * P * k).reinterpretShape(S, 0)); }
}

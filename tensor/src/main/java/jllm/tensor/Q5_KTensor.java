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

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

/** Q5_K: Q4_K plus a fifth bit per value (32 bytes qh: bit 2i / 2i+1 of byte l for the two halves of chunk i). */
public final class Q5_KTensor extends QuantTensor {
    public Q5_KTensor(MemorySegment seg, long... shape) { super(GgmlType.Q5_K, seg, shape); }

    private static final int[] SCALES_AT = {0, 2};

    @Override int[] scaleOffsets() { return SCALES_AT; }

    @Override Q5_KTensor make(MemorySegment s, long[] shape) { return new Q5_KTensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off), dmin = half(off + 2);
        long lo = KQuant.low8(seg, off + 4);
        int hi = KQuant.high4(seg, off + 4);
        for (int i = 0; i < 4; i++) {
            float d1 = d * KQuant.scale(lo, hi, 2 * i), m1 = dmin * KQuant.min(lo, hi, 2 * i);
            float d2 = d * KQuant.scale(lo, hi, 2 * i + 1), m2 = dmin * KQuant.min(lo, hi, 2 * i + 1);
            for (int l = 0; l < 32; l++) {
                int q = u8(off + 48 + 32 * i + l), h = u8(off + 16 + l);
                dst[o + 64 * i + l] = d1 * ((q & 15) | ((h >>> (2 * i)) & 1) << 4) - m1;
                dst[o + 64 * i + 32 + l] = d2 * ((q >>> 4) | ((h >>> (2 * i + 1)) & 1) << 4) - m2;
            }
        }
    }

    // ---- Panels layout, per panel and block (212 P bytes): 4 chunks of 52 P bytes, one per two
    // sub-blocks (64 columns): 4 runs of 16 columns, each 6 groups of P 16-bit lanes holding a row's
    // 5-bit codes, three per lane, L_k = q_3k | q_3k+1 << 5 | q_3k+2 << 10 (k < 5), L_5 = q_15; then per
    // sub-block a 16-bit lane per row holding sc_j | m_j << 8 (the 6-bit packing unpacked once at load);
    // after the 4 chunks d and dmin (P fp16 each, lane order). A block is read front to back, as its
    // kernel reads it (see KBlocks). 6.6 bits per weight against the file's 5.5: the file's layout (a
    // nibble and a separate fifth bit) cost 3x the operations per weight (16 Gw/s per core in L2,
    // 40% of the bandwidth at 2 threads on the AMD EPYC); three codes per lane need no masks at all.

    /** RUN: panel bytes per 16 columns; CHUNK: per 64 columns (codes, then the two sub-blocks' scales); D: where d starts. */
    private static final int SBB = 212, RUN = 12 * P, CHUNK = 52 * P, SCALES = 48 * P, D = 208 * P;
    private static final KBlocks.Mins MINS = new KBlocks.Mins(SCALES, CHUNK, 2 * P, D);

    @Override boolean hasPanels() { return true; }

    @Override long panelBytes() { return (long) dim(1) / 256 * SBB * P; }

    /**
     * Eight codes at a time, one per byte of a long (the nibbles and the fifth bits masked and shifted
     * in place), three to a lane by shifts within the long: one thread repacked an [8192, 2048] tensor
     * at 0.40 GB/s of file bytes code by code, 0.67 so (AMD EPYC); the first token waits for it.
     */
    @Override
    void repackPanel(byte[] src, byte[] dst) {
        int nb = dim(1) / 256, rb = nb * 176;
        final long m4 = 0x0F0F0F0F0F0F0F0FL, m1 = 0x0101010101010101L;
        for (int b = 0; b < nb; b++) {
            int o = b * SBB * P;
            for (int l = 0; l < P; l++) {
                int s = l * rb + b * 176;
                KBlocks.repackMins(MINS, src, s, dst, o, l);
                long h0 = (long) Panels.LONGS.get(src, s + 16), h1 = (long) Panels.LONGS.get(src, s + 24);
                long h2 = (long) Panels.LONGS.get(src, s + 32), h3 = (long) Panels.LONGS.get(src, s + 40);
                for (int i = 0; i < 4; i++) {
                    // values 64 i + v (low nibbles, fifth bit 2 i) and 64 i + 32 + v (high, bit 2 i + 1), v < 32
                    int q = s + 48 + 32 * i;
                    long a0 = (long) Panels.LONGS.get(src, q), a1 = (long) Panels.LONGS.get(src, q + 8);
                    long a2 = (long) Panels.LONGS.get(src, q + 16), a3 = (long) Panels.LONGS.get(src, q + 24);
                    for (int half = 0; half < 2; half++) { // low nibbles with fifth bit 2 i, then high ones with bit 2 i + 1
                        int sh = 4 * half, bit = 2 * i + half;
                        packRun((a0 >>> sh & m4) | (h0 >>> bit & m1) << 4, (a1 >>> sh & m4) | (h1 >>> bit & m1) << 4, dst, o + 2 * l, 4 * i + 2 * half);
                        packRun((a2 >>> sh & m4) | (h2 >>> bit & m1) << 4, (a3 >>> sh & m4) | (h3 >>> bit & m1) << 4, dst, o + 2 * l, 4 * i + 2 * half + 1);
                    }
                }
            }
        }
    }

    /** Run r's 16 codes (one per byte of {@code a}, then of {@code b}) as its six lanes of a row whose lane offset is {@code at}. */
    private static void packRun(long a, long b, byte[] dst, int at, int r) {
        int g = at + CHUNK * (r >> 2) + RUN * (r & 3);
        Panels.SHORTS.set(dst, g, three(a));
        Panels.SHORTS.set(dst, g + 2 * P, three(a >>> 24));
        Panels.SHORTS.set(dst, g + 4 * P, (short) ((a >>> 48 & 0x1F) | (a >>> 51 & 0x3E0) | (b & 0x1F) << 10));
        Panels.SHORTS.set(dst, g + 6 * P, three(b >>> 8));
        Panels.SHORTS.set(dst, g + 8 * P, three(b >>> 32));
        dst[g + 10 * P] = (byte) (b >>> 56);
    }

    /** The codes in the low three bytes of {@code q} as one lane, {@code q0 | q1 << 5 | q2 << 10}. */
    private static short three(long q) { return (short) ((q & 0x1F) | (q >>> 3 & 0x3E0) | (q >>> 6 & 0x7C00)); }

    @Override int activationExtras() { return Int8Activations.Y5; }

    @Override
    void int8Rows(Panels.Store pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        Panels.int8Blocks(Q5_KTensor::int8Block, pk, SBB * P, a, y, dim(0), p0, p1, bias);
    }

    /**
     * One block into {@code acc}, start to end in one method: per run of 16 columns,
     * {@code sum((q - 16) x)} in 16 bits (at most 16 * 16 * 127 = 32512; started at {@code -16 sum(x
     * codes)}), per sub-block its two runs widened and added, {@code + 16 sum(x codes)}, times
     * {@code sc_j dx_j}; and {@code m_j dx_j sum(x codes)}; then the rows' {@code d} and {@code dmin}.
     *
     * <p>No masks: a lane is multiplied whole, then shifted right past each code and multiplied by the
     * next code of x less what the previous products already counted ({@link Int8Activations#y5}):
     * {@code L x0 + (L >>> 5)(x1 - 32 x0) + (L >>> 10)(x2 - 32 x1) = q0 x0 + q1 x1 + q2 x2}. The 16-bit
     * products wrap; the run's sum is exact.
     */
    private static void int8Block(byte[] pk, MemorySegment view, int g, Int8Activations a, int x, int xb, float[] acc) {
        FloatVector uLo = FloatVector.zero(F), uHi = uLo;
        int[] y5 = a.y5, sum8 = a.sum8;
        int e = 4 * xb;
        int o = g;
        for (int c = 0; c < 4; c++) {
            IntVector loA = IntVector.zero(I), hiA = loA, loB = loA, hiB = loA;
            for (int half = 0; half < 2; half++) {
                IntVector lo = IntVector.zero(I), hi = lo;
                for (int run = 0; run < 2; run++, g += RUN, x += 16, e += 2) {
                    ShortVector s = IntVector.broadcast(I, Panels.twice(-16 * (sum8[e] + sum8[e + 1]))).reinterpretAsShorts(), t = ShortVector.zero(S);
                    ShortVector l0 = ByteVector.fromArray(B, pk, g).reinterpretAsShorts(), l1 = ByteVector.fromArray(B, pk, g + 2 * P).reinterpretAsShorts();
                    ShortVector l2 = ByteVector.fromArray(B, pk, g + 4 * P).reinterpretAsShorts(), l3 = ByteVector.fromArray(B, pk, g + 6 * P).reinterpretAsShorts();
                    ShortVector l4 = ByteVector.fromArray(B, pk, g + 8 * P).reinterpretAsShorts(), l5 = ByteVector.fromArray(B, pk, g + 10 * P).reinterpretAsShorts();
                    s = s.add(l0.mul(IntVector.broadcast(I, y5[x]).reinterpretAsShorts()));
                    t = t.add(l0.lanewise(LSHR, 5).mul(IntVector.broadcast(I, y5[x + 1]).reinterpretAsShorts()));
                    s = s.add(l0.lanewise(LSHR, 10).mul(IntVector.broadcast(I, y5[x + 2]).reinterpretAsShorts()));
                    t = t.add(l1.mul(IntVector.broadcast(I, y5[x + 3]).reinterpretAsShorts()));
                    s = s.add(l1.lanewise(LSHR, 5).mul(IntVector.broadcast(I, y5[x + 4]).reinterpretAsShorts()));
                    t = t.add(l1.lanewise(LSHR, 10).mul(IntVector.broadcast(I, y5[x + 5]).reinterpretAsShorts()));
                    s = s.add(l2.mul(IntVector.broadcast(I, y5[x + 6]).reinterpretAsShorts()));
                    t = t.add(l2.lanewise(LSHR, 5).mul(IntVector.broadcast(I, y5[x + 7]).reinterpretAsShorts()));
                    s = s.add(l2.lanewise(LSHR, 10).mul(IntVector.broadcast(I, y5[x + 8]).reinterpretAsShorts()));
                    t = t.add(l3.mul(IntVector.broadcast(I, y5[x + 9]).reinterpretAsShorts()));
                    s = s.add(l3.lanewise(LSHR, 5).mul(IntVector.broadcast(I, y5[x + 10]).reinterpretAsShorts()));
                    t = t.add(l3.lanewise(LSHR, 10).mul(IntVector.broadcast(I, y5[x + 11]).reinterpretAsShorts()));
                    s = s.add(l4.mul(IntVector.broadcast(I, y5[x + 12]).reinterpretAsShorts()));
                    t = t.add(l4.lanewise(LSHR, 5).mul(IntVector.broadcast(I, y5[x + 13]).reinterpretAsShorts()));
                    s = s.add(l4.lanewise(LSHR, 10).mul(IntVector.broadcast(I, y5[x + 14]).reinterpretAsShorts()));
                    t = t.add(l5.mul(IntVector.broadcast(I, y5[x + 15]).reinterpretAsShorts()));
                    IntVector r = s.add(t).reinterpretAsInts();
                    lo = lo.add(r.lanewise(LSHL, 16).lanewise(ASHR, 16));
                    hi = hi.add(r.lanewise(ASHR, 16));
                }
                loA = loB;
                hiA = hiB;
                loB = lo;
                hiB = hi;
            }
            // sub-blocks 2c (A) and 2c + 1 (B); their scales follow the chunk's codes, at g now
            int j = xb + 2 * c, sxA = a.sum[j], sxB = a.sum[j + 1];
            float dxA = a.d[j], dxB = a.d[j + 1];
            IntVector mA = ByteVector.fromArray(B, pk, g).reinterpretAsInts(), mB = ByteVector.fromArray(B, pk, g + 2 * P).reinterpretAsInts();
            g += 4 * P;
            uLo = ((FloatVector) loA.add(16 * sxA).convert(I2F, 0)).mul(dxA).fma((FloatVector) mA.and(0xff).convert(I2F, 0), uLo);
            uHi = ((FloatVector) hiA.add(16 * sxA).convert(I2F, 0)).mul(dxA).fma((FloatVector) mA.lanewise(LSHR, 16).and(0xff).convert(I2F, 0), uHi);
            uLo = ((FloatVector) loB.add(16 * sxB).convert(I2F, 0)).mul(dxB).fma((FloatVector) mB.and(0xff).convert(I2F, 0), uLo);
            uHi = ((FloatVector) hiB.add(16 * sxB).convert(I2F, 0)).mul(dxB).fma((FloatVector) mB.lanewise(LSHR, 16).and(0xff).convert(I2F, 0), uHi);
        }
        uLo.intoArray(acc, P);
        uHi.intoArray(acc, P + H);
        KBlocks.endBlock(MINS, pk, o, a, xb, acc);
    }

    @Override
    void expand(Panels.Store st, int p, int k0, int kn, float[] wk) {
        byte[] pk = st.of(p);
        int o = st.at(p);
        float[] sc = Panels.scratch().f(32 * H);
        o += k0 / 256 * SBB * P;
        for (int b = 0; b < kn / 256; b++, o += SBB * P) {
            KBlocks.expandScales(MINS, pk, o, sc);
            for (int j = 0; j < 8; j++)
                for (int run = 0; run < 2; run++)
                    expandRun(pk, o + CHUNK * (j >> 1) + 2 * RUN * (j & 1) + RUN * run, sc, 4 * j * H, wk, 256 * b + 32 * j + 16 * run);
        }
    }

    /** One run's 16 columns, {@code (d sc_j) q - dmin m_j} as {@link #decodeBlock}, with the sub-block's factors at {@code sc[so ..]} (as {@link KBlocks#expandScales} lays them). */
    private static void expandRun(byte[] pk, int g, float[] sc, int so, float[] wk, int k) {
        FloatVector dLo = FloatVector.fromArray(F, sc, so), dHi = FloatVector.fromArray(F, sc, so + H);
        FloatVector mLo = FloatVector.fromArray(F, sc, so + 2 * H), mHi = FloatVector.fromArray(F, sc, so + 3 * H);
        for (int i = 0; i < 16; i++) {
            ShortVector lane = ByteVector.fromArray(B, pk, g + 2 * P * (i / 3)).reinterpretAsShorts();
            IntVector q = lane.lanewise(LSHR, 5 * (i % 3)).and((short) 31).reinterpretAsInts();
            ((FloatVector) q.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0)).mul(dLo).sub(mLo).intoArray(wk, (k + i) * P);
            ((FloatVector) q.lanewise(ASHR, 16).convert(I2F, 0)).mul(dHi).sub(mHi).intoArray(wk, (k + i) * P + H);
        }
    }
}

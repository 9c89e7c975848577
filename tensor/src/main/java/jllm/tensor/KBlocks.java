package jllm.tensor;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.ZERO_EXTEND_B2S;
import static jllm.tensor.Panels.BP;
import static jllm.tensor.Panels.F;
import static jllm.tensor.Panels.H;
import static jllm.tensor.Panels.I;
import static jllm.tensor.Panels.LE;
import static jllm.tensor.Panels.P;
import static jllm.tensor.Panels.S;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

/**
 * The {@link Panels} kernels of Q4_K and Q5_K: 256 values per block in 8 sub-blocks of 32, 6-bit
 * scales and mins under fp16 {@code d} and {@code dmin}, {@code x = d sc q - dmin m} with 4-bit codes
 * (Q4_K) or 5-bit ones (Q5_K: a fifth bit per value in 32 bytes, bit j of byte l for value l of
 * sub-block j).
 *
 * <p>Panel layout per block: Q5_K's 32 fifth-bit bytes as 32 groups of P bytes; then the codes, 128
 * groups of P bytes. Q5_K keeps the file's order: 4 chunks of 32 groups, group l of chunk c holding
 * each row's nibble byte {@code 32c + l} (low nibble: value l of sub-block 2c, high: value l of
 * 2c + 1). Q4_K's nibbles are regrouped at load so that a byte holds two values of one sub-block, as
 * in Q4_0: group {@code 16 j + i} holds value i (low nibble) and i + 16 (high) of sub-block j, and the
 * kernel multiplies whole bytes ({@link Int8Activations#hi2}), one mask fewer per byte (paired, one
 * thread: 1.05x in L2, 1.015x from memory). Then the metadata ({@link #meta}): d and dmin (P fp16 each,
 * lane order) and per sub-block j a 16-bit lane per row holding {@code sc_j | m_j << 8} (the 6-bit
 * packing unpacked once at load). 148 P (Q4_K) or 180 P (Q5_K) bytes per block: 4 more per row than
 * the file.
 *
 * <p>The metadata comes last because the kernels read it last (the epilogue after the codes): with it
 * first, every block was read from its 20 P-th byte to its end and then back at its start, 4.7 KiB
 * behind, and the hardware prefetchers lost the stream; a streamed Q4_K decode ran at 40% of its
 * in-cache speed on the AMD EPYC (13.6 against 34 Gw/s per core), front to back it runs at the
 * in-cache speed.
 *
 * <p>int8: 16-bit sums of centred codes per run of 32 (Q4_K, {@code q - 8}) or 16 (Q5_K, {@code q - 16})
 * values, widened to 32 bits per sub-block into a per-thread array, then one epilogue per block
 * (sub-block scales and mins, d, dmin). The methods hand each other arrays, not vectors (see {@link Panels}).
 */
final class KBlocks {
    /** SCALES: the scales' offset within the block's metadata ({@link #meta}); QH: Q5_K's fifth bits' within the block. */
    static final int SCALES = 4 * P, QH = 0;

    private KBlocks() { }

    /** Panel bytes per block, in units of P. */
    static int blockUnits(boolean five) { return five ? 180 : 148; }

    static int codes(boolean five) { return (five ? 32 : 0) * P; }

    /** Where d, dmin and the scales start: after the codes, so a block is read front to back. */
    static int meta(boolean five) { return (five ? 160 : 128) * P; }

    static void repack(boolean five, int nb, byte[] src, byte[] dst) {
        int bb = five ? 176 : 144, rb = nb * bb, qs = five ? 48 : 16, codes = codes(five);
        for (int b = 0; b < nb; b++) {
            int o = b * blockUnits(five) * P, m = o + meta(five);
            for (int l = 0; l < P; l++) {
                int s = l * rb + b * bb;
                for (int i = 0; i < 2; i++) {
                    dst[m + 2 * l + i] = src[s + i];
                    dst[m + 2 * P + 2 * l + i] = src[s + 2 + i];
                }
                long lo = KQuant.low8(src, s + 4);
                int hi = KQuant.high4(src, s + 4);
                for (int j = 0; j < 8; j++) {
                    dst[m + SCALES + 2 * P * j + 2 * l] = (byte) KQuant.scale(lo, hi, j);
                    dst[m + SCALES + 2 * P * j + 2 * l + 1] = (byte) KQuant.min(lo, hi, j);
                }
                if (five) for (int q = 0; q < 32; q++) dst[o + QH + q * P + l] = src[s + 16 + q];
                if (five) for (int q = 0; q < 128; q++) dst[o + codes + q * P + l] = src[s + qs + q];
                else
                    for (int j = 0; j < 8; j++)
                        for (int i = 0; i < 16; i++) {
                            int sh = 4 * (j & 1), v0 = src[s + qs + 32 * (j >> 1) + i] >> sh & 15, v1 = src[s + qs + 32 * (j >> 1) + 16 + i] >> sh & 15;
                            dst[o + codes + (16 * j + i) * P + l] = (byte) (v0 | v1 << 4);
                        }
            }
        }
    }

    /**
     * Q4_K in groups of four panels ({@code sums} and {@code acc} hold four panels' worth, panel k at
     * {@code k 8 P} and {@code k P}); a short last group repeats its last panel (computed again,
     * stored once). The chunks run the four panels in one loop, sharing the broadcasts of x as
     * {@link Q4_0Tensor}'s kernel does: 1.11x per core in L2, the same from memory (this kernel
     * already overlapped its stream with its arithmetic) on the AMD EPYC. Q5_K runs panel by panel.
     * Q6_K was measured the same way and stayed one panel at a time: four panels were 1.13x faster
     * in L2 but 0.72x from memory, two panels slower in both.
     */
    static void int8Rows(boolean five, QuantTensor w, MemorySegment pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        long panel = w.panelBytes();
        int nb = w.dim(1) / 256, out = w.dim(0), codes = codes(five), bu = blockUnits(five), centre = five ? 16 : 8, meta = meta(five);
        Panels.Scratch sc = Panels.scratch();
        int[] sums = sc.ints(4 * 8 * P);
        float[] acc = sc.acc(4 * P);
        long[] o = new long[4];
        int group = five ? 1 : 4;
        for (int p = p0; p < p1; p += group) {
            int n = Math.min(group, p1 - p);
            for (int t = 0; t < a.tokens; t++) {
                java.util.Arrays.fill(acc, 0, group * P, 0f);
                for (int k = 0; k < 4; k++) o[k] = (p + Math.min(k, n - 1)) * panel;
                for (int b = 0; b < nb; b++) {
                    long step = (long) b * bu * P;
                    int xb = t * a.blocks + 8 * b, xq = t * a.cols + 256 * b;
                    if (five)
                        for (int c = 0; c < 4; c++)
                            chunk5(pk, o[0] + step + codes + 32L * P * c, o[0] + step + QH, 2 * c, a, xq + 64 * c, 4 * (xb + 2 * c), sums, 0);
                    else
                        for (int j = 0; j < 8; j++) {
                            long g = step + 16L * P * j;
                            sub4(pk, o[0] + g, o[1] + g, o[2] + g, o[3] + g, a, xq + 32 * j, xb + j, sums, j);
                        }
                    for (int k = 0; k < group; k++) block(pk, o[k] + step + meta, a, xb, sums, k * 8 * P, acc, k * P, centre);
                }
                for (int k = 0; k < n; k++) Panels.store(acc, k * P, y, t * out, (p + k) * P, out, bias);
            }
        }
    }

    /**
     * Q4_K sub-block j of four panels: {@code sum((q - 8) x)} over its 32 columns in 16 bits (started
     * at the centring term), as Q4_0's block: the whole byte (values i and i + 16) times x[i], its high
     * nibble times {@link Int8Activations#hi2}; widened into {@code sums} (panel k's at {@code k 8 P}).
     */
    private static void sub4(MemorySegment pk, long g0, long g1, long g2, long g3, Int8Activations a, int x, int xb, int[] sums, int j) {
        ShortVector s0 = IntVector.broadcast(I, Panels.twice(-8 * a.sum[xb])).reinterpretAsShorts(), s1 = s0, s2 = s0, s3 = s0;
        ShortVector h0 = ShortVector.zero(S), h1 = h0, h2 = h0, h3 = h0;
        int[] q2 = a.q2, hi2 = a.hi2;
        int xh = x / 2;
        for (int i = 0; i < 16; i++) {
            long d = (long) i * P;
            ShortVector xl = IntVector.broadcast(I, q2[x + i]).reinterpretAsShorts(), xu = IntVector.broadcast(I, hi2[xh + i]).reinterpretAsShorts();
            ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(BP, pk, g0 + d, LE).convertShape(ZERO_EXTEND_B2S, S, 0);
            ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(BP, pk, g1 + d, LE).convertShape(ZERO_EXTEND_B2S, S, 0);
            ShortVector w2 = (ShortVector) ByteVector.fromMemorySegment(BP, pk, g2 + d, LE).convertShape(ZERO_EXTEND_B2S, S, 0);
            ShortVector w3 = (ShortVector) ByteVector.fromMemorySegment(BP, pk, g3 + d, LE).convertShape(ZERO_EXTEND_B2S, S, 0);
            s0 = s0.add(w0.mul(xl));
            h0 = h0.add(w0.lanewise(LSHR, 4).mul(xu));
            s1 = s1.add(w1.mul(xl));
            h1 = h1.add(w1.lanewise(LSHR, 4).mul(xu));
            s2 = s2.add(w2.mul(xl));
            h2 = h2.add(w2.lanewise(LSHR, 4).mul(xu));
            s3 = s3.add(w3.mul(xl));
            h3 = h3.add(w3.lanewise(LSHR, 4).mul(xu));
        }
        // widened to 32 bits at sums[k 8 P + 2 j H ..] (lanes hold rows i and P/2 + i); written out
        // per panel, as C2 boxed the vectors handed to a helper here (5 instead of 41 Gw/s)
        IntVector i0 = s0.add(h0).reinterpretAsInts();
        i0.lanewise(LSHL, 16).lanewise(ASHR, 16).intoArray(sums, 0 * 8 * P + 2 * j * H);
        i0.lanewise(ASHR, 16).intoArray(sums, 0 * 8 * P + (2 * j + 1) * H);
        IntVector i1 = s1.add(h1).reinterpretAsInts();
        i1.lanewise(LSHL, 16).lanewise(ASHR, 16).intoArray(sums, 1 * 8 * P + 2 * j * H);
        i1.lanewise(ASHR, 16).intoArray(sums, 1 * 8 * P + (2 * j + 1) * H);
        IntVector i2 = s2.add(h2).reinterpretAsInts();
        i2.lanewise(LSHL, 16).lanewise(ASHR, 16).intoArray(sums, 2 * 8 * P + 2 * j * H);
        i2.lanewise(ASHR, 16).intoArray(sums, 2 * 8 * P + (2 * j + 1) * H);
        IntVector i3 = s3.add(h3).reinterpretAsInts();
        i3.lanewise(LSHL, 16).lanewise(ASHR, 16).intoArray(sums, 3 * 8 * P + 2 * j * H);
        i3.lanewise(ASHR, 16).intoArray(sums, 3 * 8 * P + (2 * j + 1) * H);
    }

    /**
     * Q5_K chunk (sub-blocks j and j + 1): per sub-block two runs of 16 values of {@code (q - 16) x}
     * in 16 bits (16 * 16 * 127 fits; 32 values would not), the fifth bits or-ed in from the qh groups.
     */
    private static void chunk5(MemorySegment pk, long g, long qh, int j, Int8Activations a, int x, int s8, int[] sums, int so) {
        int[] q2 = a.q2, sum8 = a.sum8;
        for (int half = 0; half < 2; half++, x += 16, qh += 16L * P) {
            int e = s8 + 2 * half;
            ShortVector sA = IntVector.broadcast(I, Panels.twice(-16 * (sum8[e] + sum8[e + 1]))).reinterpretAsShorts();
            ShortVector sB = IntVector.broadcast(I, Panels.twice(-16 * (sum8[e + 4] + sum8[e + 5]))).reinterpretAsShorts();
            for (int l = 0; l < 16; l++, g += P) {
                ShortVector w = (ShortVector) ByteVector.fromMemorySegment(BP, pk, g, LE).convertShape(ZERO_EXTEND_B2S, S, 0);
                ShortVector h = (ShortVector) ByteVector.fromMemorySegment(BP, pk, qh + (long) l * P, LE).convertShape(ZERO_EXTEND_B2S, S, 0);
                ShortVector q0 = w.and((short) 15).or(h.lanewise(LSHR, j).and((short) 1).lanewise(LSHL, 4));
                ShortVector q1 = w.lanewise(LSHR, 4).or(h.lanewise(LSHR, j + 1).and((short) 1).lanewise(LSHL, 4));
                sA = sA.add(q0.mul(IntVector.broadcast(I, q2[x + l]).reinterpretAsShorts()));
                sB = sB.add(q1.mul(IntVector.broadcast(I, q2[x + 32 + l]).reinterpretAsShorts()));
            }
            IntVector iA = sA.reinterpretAsInts(), iB = sB.reinterpretAsInts();
            int a0 = so + 2 * j * H, b0 = so + (2 * j + 2) * H;
            IntVector lA = iA.lanewise(LSHL, 16).lanewise(ASHR, 16), hA = iA.lanewise(ASHR, 16);
            IntVector lB = iB.lanewise(LSHL, 16).lanewise(ASHR, 16), hB = iB.lanewise(ASHR, 16);
            if (half == 1) {
                lA = lA.add(IntVector.fromArray(I, sums, a0)); hA = hA.add(IntVector.fromArray(I, sums, a0 + H));
                lB = lB.add(IntVector.fromArray(I, sums, b0)); hB = hB.add(IntVector.fromArray(I, sums, b0 + H));
            }
            lA.intoArray(sums, a0); hA.intoArray(sums, a0 + H);
            lB.intoArray(sums, b0); hB.intoArray(sums, b0 + H);
        }
    }

    /**
     * One block's epilogue: per sub-block j, {@code sum(q x) = sums_j + c sum(x codes)} times
     * {@code sc_j dx_j}, and {@code m_j dx_j sum(x codes)}, each summed over the block, then scaled by
     * the rows' {@code d} and {@code dmin} into {@code acc}.
     */
    private static void block(MemorySegment pk, long o, Int8Activations a, int xb, int[] sums, int so, float[] acc, int ao, int c) {
        FloatVector z = FloatVector.zero(F), uLo = z, uHi = z, vLo = z, vHi = z;
        for (int j = 0; j < 8; j++) {
            IntVector m = IntVector.fromMemorySegment(I, pk, o + SCALES + 2L * P * j, LE);
            int sx = a.sum[xb + j];
            float dx = a.d[xb + j];
            FloatVector xm = FloatVector.broadcast(F, dx * sx);
            FloatVector sLo = (FloatVector) IntVector.fromArray(I, sums, so + 2 * j * H).add(c * sx).convert(I2F, 0);
            FloatVector sHi = (FloatVector) IntVector.fromArray(I, sums, so + (2 * j + 1) * H).add(c * sx).convert(I2F, 0);
            uLo = sLo.mul(dx).fma((FloatVector) m.and(0xff).convert(I2F, 0), uLo);
            uHi = sHi.mul(dx).fma((FloatVector) m.lanewise(LSHR, 16).and(0xff).convert(I2F, 0), uHi);
            vLo = ((FloatVector) m.lanewise(LSHR, 8).and(0xff).convert(I2F, 0)).fma(xm, vLo);
            vHi = ((FloatVector) m.lanewise(LSHR, 24).convert(I2F, 0)).fma(xm, vHi);
        }
        IntVector d = IntVector.fromMemorySegment(I, pk, o, LE), dm = IntVector.fromMemorySegment(I, pk, o + 2L * P, LE);
        FloatVector dLo = d.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector dHi = d.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector mLo = dm.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector mHi = dm.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        dLo.fma(uLo, FloatVector.fromArray(F, acc, ao)).sub(mLo.mul(vLo)).intoArray(acc, ao);
        dHi.fma(uHi, FloatVector.fromArray(F, acc, ao + H)).sub(mHi.mul(vHi)).intoArray(acc, ao + H);
    }

    static void expand(boolean five, MemorySegment pk, long o, int k0, int kn, float[] wk) {
        float[] sc = Panels.scratch().f(32 * H);
        int bu = blockUnits(five), codes = codes(five);
        o += (long) k0 / 256 * bu * P;
        for (int b = 0; b < kn / 256; b++, o += (long) bu * P) {
            expandScales(pk, o + meta(five), sc);
            for (int c = 0; c < 8; c++)
                if (five) expandHalf(pk, o + codes + 32L * P * (c >> 1), 4 * (c & 1), o + codes + 32L * P * (c >> 1) + 16L * P, 4 * (c & 1), o + QH, c, sc, wk, 256 * b + 32 * c);
                else expandHalf(pk, o + 16L * P * c, 0, o + 16L * P * c, 4, -1, c, sc, wk, 256 * b + 32 * c);
        }
    }

    /**
     * Q4_K's {@link QuantTensor#expand16}: codes {@code q - 8} (32 of them times int8 activations stay
     * within 16 bits: 32 * 8 * 127 = 32512), scale {@code d sc_j}, offset {@code 8 d sc_j - dmin m_j}.
     * Q5_K's centred codes reach 16 and would not fit.
     */
    static boolean expand16(MemorySegment pk, long o, int k0, int kn, short[] wk, int wo, int ws, float[] sc, float[] mn, int so) {
        float[] s = Panels.scratch().f(32 * H);
        int bu = blockUnits(false);
        o += (long) k0 / 256 * bu * P;
        for (int b = 0; b < kn / 256; b++, o += (long) bu * P) {
            expandScales(pk, o + meta(false), s);
            for (int c = 0; c < 8; c++) {
                int sub = 8 * b + c, to = so + sub * ws;
                FloatVector dLo = FloatVector.fromArray(F, s, 4 * c * H), dHi = FloatVector.fromArray(F, s, (4 * c + 1) * H);
                dLo.intoArray(sc, to);
                dHi.intoArray(sc, to + H);
                dLo.mul(8f).sub(FloatVector.fromArray(F, s, (4 * c + 2) * H)).intoArray(mn, to);
                dHi.mul(8f).sub(FloatVector.fromArray(F, s, (4 * c + 3) * H)).intoArray(mn, to + H);
                for (int l = 0, k = wo + 32 * sub * ws; l < 32; l++, k += ws)
                    ((ShortVector) ByteVector.fromMemorySegment(BP, pk, o + (16L * c + (l & 15)) * P, LE).convertShape(ZERO_EXTEND_B2S, S, 0))
                            .lanewise(LSHR, 4 * (l >> 4)).and((short) 15).sub((short) 8).intoArray(wk, k);
            }
        }
        return true;
    }

    /** Per sub-block j: {@code d sc_j} then {@code dmin m_j}, rows [0, P/2) and [P/2, P), at {@code sc[4 j H ..]}. */
    private static void expandScales(MemorySegment pk, long o, float[] sc) {
        IntVector d = IntVector.fromMemorySegment(I, pk, o, LE), dm = IntVector.fromMemorySegment(I, pk, o + 2L * P, LE);
        FloatVector dLo = d.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector dHi = d.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector mLo = dm.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector mHi = dm.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        for (int j = 0; j < 8; j++) {
            IntVector m = IntVector.fromMemorySegment(I, pk, o + SCALES + 2L * P * j, LE);
            dLo.mul((FloatVector) m.and(0xff).convert(I2F, 0)).intoArray(sc, 4 * j * H);
            dHi.mul((FloatVector) m.lanewise(LSHR, 16).and(0xff).convert(I2F, 0)).intoArray(sc, (4 * j + 1) * H);
            mLo.mul((FloatVector) m.lanewise(LSHR, 8).and(0xff).convert(I2F, 0)).intoArray(sc, (4 * j + 2) * H);
            mHi.mul((FloatVector) m.lanewise(LSHR, 24).convert(I2F, 0)).intoArray(sc, (4 * j + 3) * H);
        }
    }

    /**
     * Sub-block j's 32 columns: the nibbles at bit {@code shift} of a chunk's groups, plus the fifth
     * bit j of the qh groups at {@code qh} (negative: none), as {@code d1 q - m1} like decodeBlock.
     */
    private static void expandHalf(MemorySegment pk, long gLo, int shiftLo, long gHi, int shiftHi, long qh, int j, float[] sc, float[] wk, int k) {
        FloatVector dLo = FloatVector.fromArray(F, sc, 4 * j * H), dHi = FloatVector.fromArray(F, sc, (4 * j + 1) * H);
        FloatVector mLo = FloatVector.fromArray(F, sc, (4 * j + 2) * H), mHi = FloatVector.fromArray(F, sc, (4 * j + 3) * H);
        for (int l = 0; l < 32; l++) {
            long g = l < 16 ? gLo + (long) l * P : gHi + (long) (l - 16) * P;
            ShortVector q = ((ShortVector) ByteVector.fromMemorySegment(BP, pk, g, LE).convertShape(ZERO_EXTEND_B2S, S, 0))
                    .lanewise(LSHR, l < 16 ? shiftLo : shiftHi).and((short) 15);
            if (qh >= 0) {
                ShortVector h = (ShortVector) ByteVector.fromMemorySegment(BP, pk, qh + (long) l * P, LE).convertShape(ZERO_EXTEND_B2S, S, 0);
                q = q.or(h.lanewise(LSHR, j).and((short) 1).lanewise(LSHL, 4));
            }
            IntVector qi = q.reinterpretAsInts();
            ((FloatVector) qi.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0)).mul(dLo).sub(mLo).intoArray(wk, (k + l) * P);
            ((FloatVector) qi.lanewise(ASHR, 16).convert(I2F, 0)).mul(dHi).sub(mHi).intoArray(wk, (k + l) * P + H);
        }
    }
}

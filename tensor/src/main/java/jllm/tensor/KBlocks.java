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
 * <p>Panel layout per block: Q5_K's 32 fifth-bit bytes as 32 groups of P bytes; 4 chunks of 32 groups
 * of P bytes, group l of chunk c holding each row's nibble byte {@code 32c + l} (low nibble: value l of
 * sub-block 2c, high: value l of 2c + 1); then the metadata ({@link #meta}): d and dmin (P fp16 each,
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
                for (int q = 0; q < 128; q++) dst[o + codes + q * P + l] = src[s + qs + q];
            }
        }
    }

    static void int8Rows(boolean five, QuantTensor w, MemorySegment pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        long panel = w.panelBytes();
        int nb = w.dim(1) / 256, out = w.dim(0), codes = codes(five), bu = blockUnits(five), centre = five ? 16 : 8, meta = meta(five);
        Panels.Scratch sc = Panels.scratch();
        int[] sums = sc.ints(8 * P);
        float[] acc = sc.acc(P);
        for (int p = p0; p < p1; p++)
            for (int t = 0; t < a.tokens; t++) {
                java.util.Arrays.fill(acc, 0, P, 0f);
                long o = p * panel;
                for (int b = 0; b < nb; b++, o += (long) bu * P) {
                    int xb = t * a.blocks + 8 * b, xq = t * a.cols + 256 * b;
                    for (int c = 0; c < 4; c++) {
                        long g = o + codes + 32L * P * c;
                        if (five) chunk5(pk, g, o + QH, 2 * c, a, xq + 64 * c, 4 * (xb + 2 * c), sums);
                        else chunk4(pk, g, a, xq + 64 * c, xb + 2 * c, sums, 2 * c);
                    }
                    block(pk, o + meta, a, xb, sums, acc, centre);
                }
                Panels.store(acc, 0, y, t * out, p * P, out, bias);
            }
    }

    /** Q4_K chunk: two sub-blocks of {@code sum((q - 8) x)} in 16 bits (started at the centring terms), widened into {@code sums}. */
    private static void chunk4(MemorySegment pk, long g, Int8Activations a, int x, int xb, int[] sums, int j) {
        ShortVector sA = IntVector.broadcast(I, Panels.twice(-8 * a.sum[xb])).reinterpretAsShorts();
        ShortVector sB = IntVector.broadcast(I, Panels.twice(-8 * a.sum[xb + 1])).reinterpretAsShorts();
        int[] q2 = a.q2;
        for (int l = 0; l < 32; l++, g += P) {
            ShortVector w = (ShortVector) ByteVector.fromMemorySegment(BP, pk, g, LE).convertShape(ZERO_EXTEND_B2S, S, 0);
            sA = sA.add(w.and((short) 15).mul(IntVector.broadcast(I, q2[x + l]).reinterpretAsShorts()));
            sB = sB.add(w.lanewise(LSHR, 4).mul(IntVector.broadcast(I, q2[x + 32 + l]).reinterpretAsShorts()));
        }
        IntVector iA = sA.reinterpretAsInts(), iB = sB.reinterpretAsInts();
        iA.lanewise(LSHL, 16).lanewise(ASHR, 16).intoArray(sums, 2 * j * H);
        iA.lanewise(ASHR, 16).intoArray(sums, (2 * j + 1) * H);
        iB.lanewise(LSHL, 16).lanewise(ASHR, 16).intoArray(sums, (2 * j + 2) * H);
        iB.lanewise(ASHR, 16).intoArray(sums, (2 * j + 3) * H);
    }

    /**
     * Q5_K chunk (sub-blocks j and j + 1): per sub-block two runs of 16 values of {@code (q - 16) x}
     * in 16 bits (16 * 16 * 127 fits; 32 values would not), the fifth bits or-ed in from the qh groups.
     */
    private static void chunk5(MemorySegment pk, long g, long qh, int j, Int8Activations a, int x, int s8, int[] sums) {
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
            int a0 = 2 * j * H, b0 = (2 * j + 2) * H;
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
    private static void block(MemorySegment pk, long o, Int8Activations a, int xb, int[] sums, float[] acc, int c) {
        FloatVector z = FloatVector.zero(F), uLo = z, uHi = z, vLo = z, vHi = z;
        for (int j = 0; j < 8; j++) {
            IntVector m = IntVector.fromMemorySegment(I, pk, o + SCALES + 2L * P * j, LE);
            int sx = a.sum[xb + j];
            float dx = a.d[xb + j];
            FloatVector xm = FloatVector.broadcast(F, dx * sx);
            FloatVector sLo = (FloatVector) IntVector.fromArray(I, sums, 2 * j * H).add(c * sx).convert(I2F, 0);
            FloatVector sHi = (FloatVector) IntVector.fromArray(I, sums, (2 * j + 1) * H).add(c * sx).convert(I2F, 0);
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
        dLo.fma(uLo, FloatVector.fromArray(F, acc, 0)).sub(mLo.mul(vLo)).intoArray(acc, 0);
        dHi.fma(uHi, FloatVector.fromArray(F, acc, H)).sub(mHi.mul(vHi)).intoArray(acc, H);
    }

    static void expand(boolean five, MemorySegment pk, long o, int k0, int kn, float[] wk) {
        float[] sc = Panels.scratch().f(32 * H);
        int bu = blockUnits(five), codes = codes(five);
        o += (long) k0 / 256 * bu * P;
        for (int b = 0; b < kn / 256; b++, o += (long) bu * P) {
            expandScales(pk, o + meta(five), sc);
            for (int c = 0; c < 8; c++)
                expandHalf(pk, o + codes + 32L * P * (c >> 1), 4 * (c & 1), five ? o + QH : -1, c, sc, wk, 256 * b + 64 * (c >> 1) + 32 * (c & 1));
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
                long g = o + 32L * P * (c >> 1);
                int shift = 4 * (c & 1);
                for (int l = 0, k = wo + 32 * sub * ws; l < 32; l++, g += P, k += ws)
                    ((ShortVector) ByteVector.fromMemorySegment(BP, pk, g, LE).convertShape(ZERO_EXTEND_B2S, S, 0))
                            .lanewise(LSHR, shift).and((short) 15).sub((short) 8).intoArray(wk, k);
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
    private static void expandHalf(MemorySegment pk, long g, int shift, long qh, int j, float[] sc, float[] wk, int k) {
        FloatVector dLo = FloatVector.fromArray(F, sc, 4 * j * H), dHi = FloatVector.fromArray(F, sc, (4 * j + 1) * H);
        FloatVector mLo = FloatVector.fromArray(F, sc, (4 * j + 2) * H), mHi = FloatVector.fromArray(F, sc, (4 * j + 3) * H);
        for (int l = 0; l < 32; l++, g += P) {
            ShortVector q = ((ShortVector) ByteVector.fromMemorySegment(BP, pk, g, LE).convertShape(ZERO_EXTEND_B2S, S, 0))
                    .lanewise(LSHR, shift).and((short) 15);
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

package jllm.tensor;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.ZERO_EXTEND_B2S;
import static jllm.tensor.Panels.B;
import static jllm.tensor.Panels.BP;
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

/**
 * The {@link Panels} kernels of Q4_K: 256 values per block in 8 sub-blocks of 32, 6-bit scales and
 * mins under fp16 {@code d} and {@code dmin}, {@code x = d sc q - dmin m} with 4-bit codes. (Q5_K
 * has its own layout: Q5_KTensor.)
 *
 * <p>Panel layout per block: 4 chunks of 32 groups of P bytes, group l of chunk c holding each row's
 * nibble byte {@code 32c + l} (low nibble: value l of sub-block 2c, high: value l of 2c + 1), each
 * followed by its two sub-blocks' scales, a 16-bit lane per row holding {@code sc_j | m_j << 8} (the
 * 6-bit packing unpacked once at load; {@link #scale}); then d and dmin (P fp16 each, lane order).
 * 148 P bytes per block: 4 more per row than the file.
 *
 * <p>Every block is laid out in the order its kernel reads it, and d and dmin, read last, come last:
 * with the metadata first, every block was read from its 20 P-th byte to its end and then back at
 * its start, 4.7 KiB behind, and the hardware prefetchers lost the stream; a streamed Q4_K decode ran
 * at 40% of its in-cache speed on the AMD EPYC (13.6 against 34 Gw/s per core). Reading the scales of
 * each chunk from the end of the block, as soon as the chunk was summed, cost 2.8x the same way.
 *
 * <p>int8 ({@link #block4}): per sub-block, 16-bit sums of {@code (q - 8) x} over its 32 values,
 * widened and scaled in registers within one method.
 */
final class KBlocks {
    private KBlocks() { }

    /**
     * Where the metadata of a K-quant with mins (Q4_K, Q5_K) sits in a panel block: sub-block j's
     * 16-bit lanes {@code sc_j | m_j << 8} at {@code first + chunk (j >> 1) + 2 P (j & 1)} (each pair
     * right after the codes that use it), d at {@code dAt} and dmin 2 P bytes after (read last, so last).
     */
    record Mins(int first, int chunk, int dAt) {
        int scale(int j) { return first + chunk * (j >> 1) + 2 * P * (j & 1); }
    }

    /** Q4_K: chunks of 32 groups of nibble bytes, each followed by its two sub-blocks' scales. */
    static final Mins Q4K = new Mins(32 * P, 36 * P, 144 * P);

    /** Panel bytes per block, in units of P. */
    static int blockUnits() { return 148; }

    /** Where chunk c's 32 groups of code bytes start within a block. */
    static int code(int c) { return Q4K.chunk() * c; }

    /**
     * Row {@code l}'s d, dmin and unpacked scales and mins, from the file's block at {@code src[s ..]}
     * (d, dmin, 12 bytes of 6-bit scales and mins), into the panel block at {@code dst[o ..]}.
     */
    static void repackMins(Mins f, byte[] src, int s, byte[] dst, int o, int l) {
        for (int i = 0; i < 2; i++) {
            dst[o + f.dAt() + 2 * l + i] = src[s + i];
            dst[o + f.dAt() + 2 * P + 2 * l + i] = src[s + 2 + i];
        }
        long lo = KQuant.low8(src, s + 4);
        int hi = KQuant.high4(src, s + 4);
        for (int j = 0; j < 8; j++) {
            dst[o + f.scale(j) + 2 * l] = (byte) KQuant.scale(lo, hi, j);
            dst[o + f.scale(j) + 2 * l + 1] = (byte) KQuant.min(lo, hi, j);
        }
    }

    static void repack(int nb, byte[] src, byte[] dst) {
        int rb = nb * 144;
        for (int b = 0; b < nb; b++) {
            int o = b * blockUnits() * P;
            for (int l = 0; l < P; l++) repackMins(Q4K, src, l * rb + b * 144, dst, o, l);
            for (int c = 0; c < 4; c++) Panels.lanes(src, b * 144 + 16 + 32 * c, rb, dst, o + (int) code(c), 32);
        }
    }

    static void int8Rows(QuantTensor w, Panels.Store pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        Panels.int8Blocks(KBlocks::block4, pk, blockUnits() * P, a, y, w.dim(0), p0, p1, bias);
    }

    /**
     * One Q4_K block into {@code acc}, start to end in one method: per sub-block j, {@code sum((q - 8) x)}
     * over its 32 columns in 16 bits (started at the centring term), widened, {@code + 8 sum(x codes)},
     * times {@code sc_j dx_j}; and {@code m_j dx_j sum(x codes)}; then the rows' {@code d} and {@code dmin}.
     * The 16-bit sums stay in registers: handed to the epilogue through an array (a 512-bit store then
     * loads of its halves), the epilogue took a third of the time in L2 on the AMD EPYC.
     */
    private static void block4(byte[] pk, MemorySegment view, int o, Int8Activations a, int xq, int xb, float[] acc) {
        FloatVector uLo = FloatVector.zero(F), uHi = uLo;
        int[] q2 = a.q2;
        for (int c = 0; c < 4; c++) {
            int j = 2 * c, x = xq + 64 * c, sxA = a.sum[xb + j], sxB = a.sum[xb + j + 1];
            ShortVector sA = IntVector.broadcast(I, Panels.twice(-8 * sxA)).reinterpretAsShorts();
            ShortVector sB = IntVector.broadcast(I, Panels.twice(-8 * sxB)).reinterpretAsShorts();
            int g = o + code(c);
            for (int l = 0; l < 32; l++, g += P) {
                ShortVector w = (ShortVector) ByteVector.fromArray(BP, pk, g).convertShape(ZERO_EXTEND_B2S, S, 0);
                sA = sA.add(w.and((short) 15).mul(IntVector.broadcast(I, q2[x + l]).reinterpretAsShorts()));
                sB = sB.add(w.lanewise(LSHR, 4).mul(IntVector.broadcast(I, q2[x + 32 + l]).reinterpretAsShorts()));
            }
            IntVector iA = sA.reinterpretAsInts(), iB = sB.reinterpretAsInts();
            IntVector mA = ByteVector.fromArray(B, pk, g).reinterpretAsInts(), mB = ByteVector.fromArray(B, pk, g + 2 * P).reinterpretAsInts();
            float dxA = a.d[xb + j], dxB = a.d[xb + j + 1];
            uLo = ((FloatVector) iA.lanewise(LSHL, 16).lanewise(ASHR, 16).add(8 * sxA).convert(I2F, 0)).mul(dxA)
                    .fma((FloatVector) mA.and(0xff).convert(I2F, 0), uLo);
            uHi = ((FloatVector) iA.lanewise(ASHR, 16).add(8 * sxA).convert(I2F, 0)).mul(dxA)
                    .fma((FloatVector) mA.lanewise(LSHR, 16).and(0xff).convert(I2F, 0), uHi);
            uLo = ((FloatVector) iB.lanewise(LSHL, 16).lanewise(ASHR, 16).add(8 * sxB).convert(I2F, 0)).mul(dxB)
                    .fma((FloatVector) mB.and(0xff).convert(I2F, 0), uLo);
            uHi = ((FloatVector) iB.lanewise(ASHR, 16).add(8 * sxB).convert(I2F, 0)).mul(dxB)
                    .fma((FloatVector) mB.lanewise(LSHR, 16).and(0xff).convert(I2F, 0), uHi);
        }
        uLo.intoArray(acc, P);
        uHi.intoArray(acc, P + H);
        endBlock(Q4K, pk, o, a, xb, acc);
    }

    /**
     * The end of a block of a K-quant with mins: {@code acc[0, P) += d u - dmin v} per row, u (the
     * sum of {@code sc_j dx_j sum(q x)}) handed in at {@code acc[P, 2P)}, rows [0, P/2) then [P/2, P),
     * and {@code v = sum(m_j dx_j sum(x codes))} made here from the block's mins (read again from L1).
     * Through the array, as vectors must not cross our methods; once per 256 columns the two stores and
     * loads are not measurable (paired against the kernels doing it all: the same speed).
     */
    static void endBlock(Mins f, byte[] pk, int o, Int8Activations a, int xb, float[] acc) {
        FloatVector vLo = FloatVector.zero(F), vHi = vLo;
        for (int j = 0; j < 8; j++) {
            IntVector m = ByteVector.fromArray(B, pk, o + f.scale(j)).reinterpretAsInts();
            FloatVector xm = FloatVector.broadcast(F, a.d[xb + j] * a.sum[xb + j]);
            vLo = ((FloatVector) m.lanewise(LSHR, 8).and(0xff).convert(I2F, 0)).fma(xm, vLo);
            vHi = ((FloatVector) m.lanewise(LSHR, 24).convert(I2F, 0)).fma(xm, vHi);
        }
        IntVector d = ByteVector.fromArray(B, pk, o + f.dAt()).reinterpretAsInts(), dm = ByteVector.fromArray(B, pk, o + f.dAt() + 2 * P).reinterpretAsInts();
        FloatVector dLo = d.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector dHi = d.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector mLo = dm.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector mHi = dm.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        dLo.fma(FloatVector.fromArray(F, acc, P), FloatVector.fromArray(F, acc, 0)).sub(mLo.mul(vLo)).intoArray(acc, 0);
        dHi.fma(FloatVector.fromArray(F, acc, P + H), FloatVector.fromArray(F, acc, H)).sub(mHi.mul(vHi)).intoArray(acc, H);
    }

    static void expand(byte[] pk, int o, int k0, int kn, float[] wk) {
        float[] sc = Panels.scratch().f(32 * H);
        int bu = blockUnits();
        o += k0 / 256 * bu * P;
        for (int b = 0; b < kn / 256; b++, o += bu * P) {
            expandScales(Q4K, pk, o, sc);
            for (int c = 0; c < 8; c++)
                expandHalf(pk, o + code(c >> 1), 4 * (c & 1), c, sc, wk, 256 * b + 64 * (c >> 1) + 32 * (c & 1));
        }
    }

    /**
     * Q4_K's {@link QuantTensor#expand16}: codes {@code q - 8} (32 of them times int8 activations stay
     * within 16 bits: 32 * 8 * 127 = 32512), scale {@code d sc_j}, offset {@code 8 d sc_j - dmin m_j}.
     * Q5_K's centred codes reach 16 and would not fit.
     */
    static boolean expand16(byte[] pk, int o, int k0, int kn, short[] wk, int wo, int ws, float[] sc, float[] mn, int so) {
        float[] s = Panels.scratch().f(32 * H);
        int bu = blockUnits();
        o += k0 / 256 * bu * P;
        for (int b = 0; b < kn / 256; b++, o += bu * P) {
            expandScales(Q4K, pk, o, s);
            for (int c = 0; c < 8; c++) {
                int sub = 8 * b + c, to = so + sub * ws;
                FloatVector dLo = FloatVector.fromArray(F, s, 4 * c * H), dHi = FloatVector.fromArray(F, s, (4 * c + 1) * H);
                dLo.intoArray(sc, to);
                dHi.intoArray(sc, to + H);
                dLo.mul(8f).sub(FloatVector.fromArray(F, s, (4 * c + 2) * H)).intoArray(mn, to);
                dHi.mul(8f).sub(FloatVector.fromArray(F, s, (4 * c + 3) * H)).intoArray(mn, to + H);
                int g = o + code(c >> 1);
                int shift = 4 * (c & 1);
                for (int l = 0, k = wo + 32 * sub * ws; l < 32; l++, g += P, k += ws)
                    ((ShortVector) ByteVector.fromArray(BP, pk, g).convertShape(ZERO_EXTEND_B2S, S, 0))
                            .lanewise(LSHR, shift).and((short) 15).sub((short) 8).intoArray(wk, k);
            }
        }
        return true;
    }

    /** Per sub-block j: {@code d sc_j} then {@code dmin m_j}, rows [0, P/2) and [P/2, P), at {@code sc[4 j H ..]}. */
    static void expandScales(Mins f, byte[] pk, int o, float[] sc) {
        IntVector d = ByteVector.fromArray(B, pk, o + f.dAt()).reinterpretAsInts(), dm = ByteVector.fromArray(B, pk, o + f.dAt() + 2 * P).reinterpretAsInts();
        FloatVector dLo = d.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector dHi = d.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector mLo = dm.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector mHi = dm.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        for (int j = 0; j < 8; j++) {
            IntVector m = ByteVector.fromArray(B, pk, o + f.scale(j)).reinterpretAsInts();
            dLo.mul((FloatVector) m.and(0xff).convert(I2F, 0)).intoArray(sc, 4 * j * H);
            dHi.mul((FloatVector) m.lanewise(LSHR, 16).and(0xff).convert(I2F, 0)).intoArray(sc, (4 * j + 1) * H);
            mLo.mul((FloatVector) m.lanewise(LSHR, 8).and(0xff).convert(I2F, 0)).intoArray(sc, (4 * j + 2) * H);
            mHi.mul((FloatVector) m.lanewise(LSHR, 24).convert(I2F, 0)).intoArray(sc, (4 * j + 3) * H);
        }
    }

    /** Sub-block j's 32 columns: the nibbles at bit {@code shift} of a chunk's groups, as {@code d1 q - m1} like decodeBlock. */
    private static void expandHalf(byte[] pk, int g, int shift, int j, float[] sc, float[] wk, int k) {
        FloatVector dLo = FloatVector.fromArray(F, sc, 4 * j * H), dHi = FloatVector.fromArray(F, sc, (4 * j + 1) * H);
        FloatVector mLo = FloatVector.fromArray(F, sc, (4 * j + 2) * H), mHi = FloatVector.fromArray(F, sc, (4 * j + 3) * H);
        for (int l = 0; l < 32; l++, g += P) {
            ShortVector q = ((ShortVector) ByteVector.fromArray(BP, pk, g).convertShape(ZERO_EXTEND_B2S, S, 0))
                    .lanewise(LSHR, shift).and((short) 15);
            IntVector qi = q.reinterpretAsInts();
            ((FloatVector) qi.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0)).mul(dLo).sub(mLo).intoArray(wk, (k + l) * P);
            ((FloatVector) qi.lanewise(ASHR, 16).convert(I2F, 0)).mul(dHi).sub(mHi).intoArray(wk, (k + l) * P + H);
        }
    }
}

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
 * <p>Panel layout per block: per sub-block j, its 32 codes per row as Q4_0's panels hold a block
 * ({@link FourNibbles}: 8 units of P 16-bit lanes; the file's nibbles regrouped at load into Q4_0's
 * byte order, values l and l + 16 of the sub-block per byte), then its scales, a 16-bit lane per row
 * holding {@code sc_j | m_j << 8} (the 6-bit packing unpacked once at load; {@link #scale}); after
 * the 8 sub-blocks d and dmin (P fp16 each, lane order). 148 P bytes per block: 4 more per row than
 * the file.
 *
 * <p>Every block is laid out in the order its kernel reads it, and d and dmin, read last, come last:
 * with the metadata first, every block was read from its 20 P-th byte to its end and then back at
 * its start, 4.7 KiB behind, and the hardware prefetchers lost the stream; a streamed Q4_K decode ran
 * at 40% of its in-cache speed on the AMD EPYC (13.6 against 34 Gw/s per core). Reading the scales of
 * each chunk from the end of the block, as soon as the chunk was summed, cost 2.8x the same way.
 *
 * <p>int8 ({@link #fours}): four panels at a time, each sub-block as Q4_0's kernel sums a block.
 */
final class KBlocks {
    /** {@link Panels#VECTOR_COUNTS}, written out at each shift. */
    private static final boolean VC = Panels.VECTOR_COUNTS;

    private KBlocks() { }

    /**
     * Where the metadata of a K-quant with mins (Q4_K, Q5_K) sits in a panel block: sub-block j's
     * 16-bit lanes {@code sc_j | m_j << 8} at {@code first + chunk (j >> 1) + pair (j & 1)} (each right
     * after the codes that use it), d at {@code dAt} and dmin 2 P bytes after (read last, so last).
     */
    record Mins(int first, int chunk, int pair, int dAt) {
        int scale(int j) { return first + chunk * (j >> 1) + pair * (j & 1); }
    }

    /** Q4_K's sub-blocks: 16 P bytes of four-nibble lanes, then the sub-block's scale lanes. */
    private static final int SUB = 18 * P;

    static final Mins Q4K = new Mins(16 * P, 2 * SUB, SUB, 8 * SUB);

    /** Panel bytes per block, in units of P. */
    static int blockUnits() { return 148; }

    /** Where sub-block j's codes start within a block. */
    static int code(int j) { return SUB * j; }

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

    /**
     * The file's 32 code bytes of chunk c (byte l: value l of sub-block 2c in its low nibble, of 2c + 1
     * in its high one) regrouped, eight bytes at a time in longs, into Q4_0's byte order per sub-block
     * (byte u: values u and u + 16), sub-block 2c at {@code q[t ..]} and 2c + 1 at {@code q[t + 16 ..]}.
     */
    private static void regroup(byte[] src, int s, byte[] q, int t) {
        final long m4 = 0x0F0F0F0F0F0F0F0FL;
        for (int i = 0; i < 16; i += 8) {
            long a = (long) Panels.LONGS.get(src, s + i), b = (long) Panels.LONGS.get(src, s + 16 + i);
            Panels.LONGS.set(q, t + i, a & m4 | (b & m4) << 4);
            Panels.LONGS.set(q, t + 16 + i, a >>> 4 & m4 | b & ~m4);
        }
    }

    static void repack(int nb, byte[] src, byte[] dst) {
        int rb = nb * 144;
        byte[] q = REGROUPED.get();  // one block's codes of the P rows, regrouped: 2 KiB at 256 bits
        for (int b = 0; b < nb; b++) {
            int o = b * blockUnits() * P;
            for (int l = 0; l < P; l++) {
                repackMins(Q4K, src, l * rb + b * 144, dst, o, l);
                for (int c = 0; c < 4; c++) regroup(src, l * rb + b * 144 + 16 + 32 * c, q, l * 128 + 32 * c);
            }
            for (int j = 0; j < 8; j++) Panels.lanes16(q, 16 * j, 128, dst, o + code(j), 8);
        }
    }

    private static final ThreadLocal<byte[]> REGROUPED = ThreadLocal.withInitial(() -> new byte[P * 128]);

    static void int8Rows(QuantTensor w, Panels.Store pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        Panels.int8Fours(KBlocks::fours, pk, a, y, w.dim(0), p0, p1, bias);
    }

    /**
     * Four panels against token {@code t} into {@code acc[4 P]}. Per sub-block j, as Q4_0's kernel sums
     * a block ({@link Q4_0Tensor}, {@link Int8Activations#nib4}: four products per lane for three
     * shifts, the broadcasts of x shared by the four panels), {@code sum((q - 8) x)} in 16 bits from
     * {@code -8 sum(x codes)}; widened, {@code + 8 sum(x codes)}, times {@code sc_j dx_j} into the
     * block's u; per block and panel then {@code d u - dmin v} ({@link #endBlock}).
     *
     * <p>Against the byte-per-row kernel before it (one panel, a byte widened per two columns, ~2.8
     * weights per instruction), AMD EPYC Zen 3, AVX2, one build per process, alternating: [2048,
     * 2048] in L3 one thread 13.1-13.9 -> 17.5-22.6 Gw/s (median), [32768, 4096] from memory two
     * threads 17.8-18.8 -> 19.0-24.1; the outputs are bit-identical. The shift count is read inside
     * the sub-block loop: read once before the block loop, C2 kept twelve copies of it on the stack
     * and reloaded one per shift (two GPR and vector loads per shift, 80 instructions a step).
     *
     * <p>The sub-block's loop is Q4_0's block loop written again, deliberately: its four 16-bit sums
     * cannot leave a method as vectors (a call C2 does not inline boxes them), and handed over
     * through an array the epilogue cost Q4_0's kernel ~6% in L2 ({@link Q4_0Tensor}).
     *
     * <p>Where a core reads and computes in series ({@link CpuInfo#serialReads}) each sub-block first
     * prefetches its share of the four panels {@link Prefetch#AHEAD} bytes on, in one call: Intel
     * Xeon, [8192, 2048] from memory, two threads, three alternating pairs, 78-79% against 59-72% of
     * the read bandwidth of the same minutes; in L2 at one thread 27.1-28.7 against 30.4-31.2 Gw/s
     * (the accumulators are spilled around the call). With four calls, one per panel, it cost 10-30%
     * in L2 and gained nothing clear (thirty-third round).
     */
    private static void fours(byte[] pk, int o0, int o1, int o2, int o3, Int8Activations a, int t, float[] acc) {
        int nb = a.blocks / 8;
        int[] v = a.nib4;
        float[] u = Panels.scratch().f(8 * H);
        java.util.Arrays.fill(acc, 0, 4 * P, 0f);
        MemorySegment ahead = Prefetch.KERNELS ? MemorySegment.ofArray(pk) : null;
        int bb = blockUnits() * P;
        for (int b = 0; b < nb; b++) {
            FloatVector lo0 = FloatVector.zero(F), hi0 = lo0, lo1 = lo0, hi1 = lo0, lo2 = lo0, hi2 = lo0, lo3 = lo0, hi3 = lo0;
            int xb = t * a.blocks + 8 * b;
            for (int j = 0, x = 34 * xb; j < 8; j++, x += 34) {
                int step = b * bb + code(j), g0 = o0 + step, g1 = o1 + step, g2 = o2 + step, g3 = o3 + step;
                if (ahead != null) Prefetch.fourAhead(ahead, o0, o1, o2, o3, b * bb + j * (bb / 8), bb / 8, nb * bb);
                ShortVector s0 = (ShortVector) IntVector.broadcast(I, v[x]).reinterpretShape(Panels.S, 0);
                ShortVector s1 = s0, s2 = s0, s3 = s0;
                int n4 = FourNibbles.FOUR[0];
                ShortVector c4 = ShortVector.broadcast(Panels.S, (short) n4);
                for (int k = 0; k < 8; k++) {
                    int d = 2 * k * P, m = x + 1 + 4 * k;
                    ShortVector m0 = (ShortVector) IntVector.broadcast(I, v[m]).reinterpretShape(Panels.S, 0), m1 = (ShortVector) IntVector.broadcast(I, v[m + 1]).reinterpretShape(Panels.S, 0);
                    ShortVector m2 = (ShortVector) IntVector.broadcast(I, v[m + 2]).reinterpretShape(Panels.S, 0), m3 = (ShortVector) IntVector.broadcast(I, v[m + 3]).reinterpretShape(Panels.S, 0);
                    ShortVector w = (ShortVector) ByteVector.fromArray(B, pk, g0 + d).reinterpretShape(Panels.S, 0), h = VC ? w.lanewise(LSHR, c4) : w.lanewise(LSHR, n4);
                    s0 = s0.add(w.mul(m0)).add(h.mul(m1));
                    h = VC ? h.lanewise(LSHR, c4) : h.lanewise(LSHR, n4);
                    s0 = s0.add(h.mul(m2)).add((VC ? h.lanewise(LSHR, c4) : h.lanewise(LSHR, n4)).mul(m3));
                    w = (ShortVector) ByteVector.fromArray(B, pk, g1 + d).reinterpretShape(Panels.S, 0);
                    h = VC ? w.lanewise(LSHR, c4) : w.lanewise(LSHR, n4);
                    s1 = s1.add(w.mul(m0)).add(h.mul(m1));
                    h = VC ? h.lanewise(LSHR, c4) : h.lanewise(LSHR, n4);
                    s1 = s1.add(h.mul(m2)).add((VC ? h.lanewise(LSHR, c4) : h.lanewise(LSHR, n4)).mul(m3));
                    w = (ShortVector) ByteVector.fromArray(B, pk, g2 + d).reinterpretShape(Panels.S, 0);
                    h = VC ? w.lanewise(LSHR, c4) : w.lanewise(LSHR, n4);
                    s2 = s2.add(w.mul(m0)).add(h.mul(m1));
                    h = VC ? h.lanewise(LSHR, c4) : h.lanewise(LSHR, n4);
                    s2 = s2.add(h.mul(m2)).add((VC ? h.lanewise(LSHR, c4) : h.lanewise(LSHR, n4)).mul(m3));
                    w = (ShortVector) ByteVector.fromArray(B, pk, g3 + d).reinterpretShape(Panels.S, 0);
                    h = VC ? w.lanewise(LSHR, c4) : w.lanewise(LSHR, n4);
                    s3 = s3.add(w.mul(m0)).add(h.mul(m1));
                    h = VC ? h.lanewise(LSHR, c4) : h.lanewise(LSHR, n4);
                    s3 = s3.add(h.mul(m2)).add((VC ? h.lanewise(LSHR, c4) : h.lanewise(LSHR, n4)).mul(m3));
                }
                float dx = Float.intBitsToFloat(v[x + 33]);
                int e8 = 8 * a.sum[xb + j];
                int sc = 16 * P;
                IntVector c0 = (IntVector) ByteVector.fromArray(B, pk, g0 + sc).reinterpretShape(I, 0), c1 = (IntVector) ByteVector.fromArray(B, pk, g1 + sc).reinterpretShape(I, 0);
                IntVector c2 = (IntVector) ByteVector.fromArray(B, pk, g2 + sc).reinterpretShape(I, 0), c3 = (IntVector) ByteVector.fromArray(B, pk, g3 + sc).reinterpretShape(I, 0);
                IntVector i0 = (IntVector) s0.reinterpretShape(I, 0);
                lo0 = ((FloatVector) i0.lanewise(LSHL, 16).lanewise(ASHR, 16).add(e8).convertShape(I2F, F, 0)).mul(dx).fma((FloatVector) c0.and(0xff).convertShape(I2F, F, 0), lo0);
                hi0 = ((FloatVector) i0.lanewise(ASHR, 16).add(e8).convertShape(I2F, F, 0)).mul(dx).fma((FloatVector) c0.lanewise(LSHR, 16).and(0xff).convertShape(I2F, F, 0), hi0);
                IntVector i1 = (IntVector) s1.reinterpretShape(I, 0);
                lo1 = ((FloatVector) i1.lanewise(LSHL, 16).lanewise(ASHR, 16).add(e8).convertShape(I2F, F, 0)).mul(dx).fma((FloatVector) c1.and(0xff).convertShape(I2F, F, 0), lo1);
                hi1 = ((FloatVector) i1.lanewise(ASHR, 16).add(e8).convertShape(I2F, F, 0)).mul(dx).fma((FloatVector) c1.lanewise(LSHR, 16).and(0xff).convertShape(I2F, F, 0), hi1);
                IntVector i2 = (IntVector) s2.reinterpretShape(I, 0);
                lo2 = ((FloatVector) i2.lanewise(LSHL, 16).lanewise(ASHR, 16).add(e8).convertShape(I2F, F, 0)).mul(dx).fma((FloatVector) c2.and(0xff).convertShape(I2F, F, 0), lo2);
                hi2 = ((FloatVector) i2.lanewise(ASHR, 16).add(e8).convertShape(I2F, F, 0)).mul(dx).fma((FloatVector) c2.lanewise(LSHR, 16).and(0xff).convertShape(I2F, F, 0), hi2);
                IntVector i3 = (IntVector) s3.reinterpretShape(I, 0);
                lo3 = ((FloatVector) i3.lanewise(LSHL, 16).lanewise(ASHR, 16).add(e8).convertShape(I2F, F, 0)).mul(dx).fma((FloatVector) c3.and(0xff).convertShape(I2F, F, 0), lo3);
                hi3 = ((FloatVector) i3.lanewise(ASHR, 16).add(e8).convertShape(I2F, F, 0)).mul(dx).fma((FloatVector) c3.lanewise(LSHR, 16).and(0xff).convertShape(I2F, F, 0), hi3);
            }
            lo0.intoArray(u, 0); hi0.intoArray(u, H);
            lo1.intoArray(u, P); hi1.intoArray(u, P + H);
            lo2.intoArray(u, 2 * P); hi2.intoArray(u, 2 * P + H);
            lo3.intoArray(u, 3 * P); hi3.intoArray(u, 3 * P + H);
            int ob = b * bb;
            endBlock(Q4K, pk, o0 + ob, a, xb, acc, 0, u, 0);
            endBlock(Q4K, pk, o1 + ob, a, xb, acc, P, u, P);
            endBlock(Q4K, pk, o2 + ob, a, xb, acc, 2 * P, u, 2 * P);
            endBlock(Q4K, pk, o3 + ob, a, xb, acc, 3 * P, u, 3 * P);
        }
    }

    /**
     * The end of a block of a K-quant with mins: {@code acc[ao, ao + P) += d u - dmin v} per row, u (the
     * sum of {@code sc_j dx_j sum(q x)}) handed in at {@code u[uo, uo + P)}, rows [0, P/2) then [P/2, P),
     * and {@code v = sum(m_j dx_j sum(x codes))} made here from the block's mins (read again from L1).
     * Through the arrays, as vectors must not cross our methods; once per 256 columns the two stores and
     * loads are not measurable (paired against the kernels doing it all: the same speed).
     */
    static void endBlock(Mins f, byte[] pk, int o, Int8Activations a, int xb, float[] acc, int ao, float[] u, int uo) {
        FloatVector vLo = FloatVector.zero(F), vHi = vLo;
        for (int j = 0; j < 8; j++) {
            IntVector m = (IntVector) ByteVector.fromArray(B, pk, o + f.scale(j)).reinterpretShape(I, 0);
            FloatVector xm = FloatVector.broadcast(F, a.d[xb + j] * a.sum[xb + j]);
            vLo = ((FloatVector) m.lanewise(LSHR, 8).and(0xff).convertShape(I2F, F, 0)).fma(xm, vLo);
            vHi = ((FloatVector) m.lanewise(LSHR, 24).convertShape(I2F, F, 0)).fma(xm, vHi);
        }
        IntVector d = (IntVector) ByteVector.fromArray(B, pk, o + f.dAt()).reinterpretShape(I, 0), dm = (IntVector) ByteVector.fromArray(B, pk, o + f.dAt() + 2 * P).reinterpretShape(I, 0);
        FloatVector dLo = ((FloatVector) d.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(F, 0)).mul(Panels.REBIAS);
        FloatVector dHi = ((FloatVector) d.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(F, 0)).mul(Panels.REBIAS);
        FloatVector mLo = ((FloatVector) dm.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(F, 0)).mul(Panels.REBIAS);
        FloatVector mHi = ((FloatVector) dm.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(F, 0)).mul(Panels.REBIAS);
        dLo.fma(FloatVector.fromArray(F, u, uo), FloatVector.fromArray(F, acc, ao)).sub(mLo.mul(vLo)).intoArray(acc, ao);
        dHi.fma(FloatVector.fromArray(F, u, uo + H), FloatVector.fromArray(F, acc, ao + H)).sub(mHi.mul(vHi)).intoArray(acc, ao + H);
    }

    static void expand(byte[] pk, int o, int k0, int kn, float[] wk) {
        float[] sc = Panels.scratch().f(32 * H);
        int bu = blockUnits();
        o += k0 / 256 * bu * P;
        for (int b = 0; b < kn / 256; b++, o += bu * P) {
            expandScales(Q4K, pk, o, sc);
            for (int j = 0; j < 8; j++) FourNibbles.expand(pk, o + code(j), 0, sc, 4 * j * H, sc, (4 * j + 2) * H, wk, 256 * b + 32 * j);
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
                FourNibbles.expand16(pk, o + code(c), wk, wo + 32 * sub * ws, ws);
            }
        }
        return true;
    }

    /** Per sub-block j: {@code d sc_j} then {@code dmin m_j}, rows [0, P/2) and [P/2, P), at {@code sc[4 j H ..]}. */
    static void expandScales(Mins f, byte[] pk, int o, float[] sc) {
        IntVector d = (IntVector) ByteVector.fromArray(B, pk, o + f.dAt()).reinterpretShape(I, 0), dm = (IntVector) ByteVector.fromArray(B, pk, o + f.dAt() + 2 * P).reinterpretShape(I, 0);
        FloatVector dLo = ((FloatVector) d.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(F, 0)).mul(Panels.REBIAS);
        FloatVector dHi = ((FloatVector) d.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(F, 0)).mul(Panels.REBIAS);
        FloatVector mLo = ((FloatVector) dm.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(F, 0)).mul(Panels.REBIAS);
        FloatVector mHi = ((FloatVector) dm.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(F, 0)).mul(Panels.REBIAS);
        for (int j = 0; j < 8; j++) {
            IntVector m = (IntVector) ByteVector.fromArray(B, pk, o + f.scale(j)).reinterpretShape(I, 0);
            dLo.mul((FloatVector) m.and(0xff).convertShape(I2F, F, 0)).intoArray(sc, 4 * j * H);
            dHi.mul((FloatVector) m.lanewise(LSHR, 16).and(0xff).convertShape(I2F, F, 0)).intoArray(sc, (4 * j + 1) * H);
            mLo.mul((FloatVector) m.lanewise(LSHR, 8).and(0xff).convertShape(I2F, F, 0)).intoArray(sc, (4 * j + 2) * H);
            mHi.mul((FloatVector) m.lanewise(LSHR, 24).convertShape(I2F, F, 0)).intoArray(sc, (4 * j + 3) * H);
        }
    }
}

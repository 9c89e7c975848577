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

    // ---- Panels layout, per panel and block (180 P bytes): 4 chunks of 44 P bytes, one per two
    // sub-blocks (64 columns): 4 runs of 16 columns ({@link FiveBits}: 5 groups of P 16-bit lanes
    // holding a row's 5-bit codes, three per lane and the sixteenth's bits on top); then per sub-block
    // a 16-bit lane per row holding sc_j | m_j << 8 (the 6-bit packing unpacked once at load); after
    // the 4 chunks d and dmin (P fp16 each, lane order). A block is read front to back, as its kernel
    // reads it (see KBlocks). 5.6 bits per weight against the file's 5.5 (6.6 until the seventeenth
    // round, with a sixth lane per run for the sixteenth code): the file's layout (a nibble and a
    // separate fifth bit) cost 3x the operations per weight (16 Gw/s per core in L2, 40% of the
    // bandwidth at 2 threads on the AMD EPYC); three codes per lane need no masks at all.

    /** RUN: panel bytes per 16 columns; CHUNK: per 64 columns (codes, then the two sub-blocks' scales); D: where d starts. */
    private static final int RUN = FiveBits.RUN, SCALES = 4 * RUN, CHUNK = SCALES + 4 * P, D = 4 * CHUNK, SBB = D / P + 4;
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
                        FiveBits.pack((a0 >>> sh & m4) | (h0 >>> bit & m1) << 4, (a1 >>> sh & m4) | (h1 >>> bit & m1) << 4, dst, o + 2 * l + run(4 * i + 2 * half));
                        FiveBits.pack((a2 >>> sh & m4) | (h2 >>> bit & m1) << 4, (a3 >>> sh & m4) | (h3 >>> bit & m1) << 4, dst, o + 2 * l + run(4 * i + 2 * half + 1));
                    }
                }
            }
        }
    }

    /** Where run r (16 columns) starts within a block. */
    private static int run(int r) { return CHUNK * (r >> 2) + RUN * (r & 3); }

    @Override int activationExtras() { return Int8Activations.Y5; }

    /**
     * Which decode kernel: one panel per call ({@link #int8Block}) with 256- and 512-bit vectors,
     * four panels sharing their broadcasts of x ({@link #fours}) with 128-bit ones. Paired, one build
     * per process (AMD EPYC Zen 5, [8192, 2048] from memory, two threads): at 512 bits a median of
     * 49.8 against 35.7 Gw/s, at 256 bits 29-37 against 25-31; in cache, one thread, 0.9-1.0x at 512
     * bits and 0.87x at 256. At 128 bits, a panel of 8 rows per broadcast, four panels won (0.8-0.93x
     * the other way). docs/quantization-and-speed.md, twenty-sixth round. Where a core reads and
     * computes in series ({@link CpuInfo#serialReads}: the Intel Xeon) four panels won at 512 and 256
     * bits: [8192, 2048] from memory, in-JVM alternation against one panel with its read-ahead, two
     * threads 19.4-20.4 against 16.7 Gw/s at 512 bits and 19.4 against 13.5 at 256, one thread 11.0
     * against 9.3 and 10.5 against 6.9 (twenty-ninth round).
     */
    static final boolean ONE_PANEL = S.length() >= 16 && !CpuInfo.serialReads();

    @Override
    void int8Rows(Panels.Store pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        if (ONE_PANEL) Panels.int8Blocks(Q5_KTensor::int8Block, pk, SBB * P, a, y, dim(0), p0, p1, bias);
        else Panels.int8Fours(Q5_KTensor::fours, pk, a, y, dim(0), p0, p1, bias);
    }

    /**
     * The five lanes of a run, read from an array inside the lane loop so that the indices are not a
     * function of the loop variable: with {@code k} itself, C2 hoisted the ten range checks of each
     * step (two loads, eight broadcasts of x) out of the five-step loop as pairs of predicates, 80
     * instructions before every entry against 60 in a step, and the kernel ran at about 0.9x; so they stay
     * in the loop, where C2 merges them (as Q6_K's {@code HALVES}).
     */
    private static final int[] LANES = {0, 1, 2, 3, 4};

    /**
     * One block of one panel into {@code acc[0, P)}: per sub-block its two runs ({@link FiveBits}) side
     * by side in one loop over their five lanes, each {@code sum((q - 16) x)} in 16 bits as {@link
     * FiveBits#run} makes it, widened and added, {@code + 16 sum(x codes)}, times {@code sc_j dx_j} into
     * u; per block then {@code d u - dmin v} ({@link KBlocks#endBlock}, u handed over in {@code acc[P,
     * 2P)}). Nothing leaves the registers until the block ends: {@link #fours} hands each run's sums
     * over through an array and keeps u in one, and calls a method per run.
     *
     * <p>The lane loop's body is {@link FiveBits#run}'s per-panel step written again, deliberately:
     * its sums cannot leave a method as vectors, and a helper per lane stopped being inlined after
     * three calls (C2's node cutoff; the rest boxed, 0.4x: docs/quantization-and-speed.md,
     * twenty-seventh round).
     */
    private static void int8Block(byte[] pk, MemorySegment unused, int o, Int8Activations a, int x0, int xb, float[] acc) {
        int[] y5 = a.y5, sum8 = a.sum8;
        int n5 = FiveBits.FIVE[0];
        FloatVector uLo = FloatVector.zero(F), uHi = uLo;
        for (int j = 0; j < 8; j++) {
            int e = 4 * (xb + j), x = 2 * Int8Activations.Y5_RUN * (xb + j);
            int g = o + CHUNK * (j >> 1) + 2 * RUN * (j & 1);
            ShortVector s = (ShortVector) IntVector.broadcast(I, Panels.twice(-16 * (sum8[e] + sum8[e + 1]))).reinterpretShape(S, 0);
            ShortVector r = (ShortVector) IntVector.broadcast(I, Panels.twice(-16 * (sum8[e + 2] + sum8[e + 3]))).reinterpretShape(S, 0);
            for (int lane = 0; lane < 5; lane++) {
                int k = LANES[lane];
                int d = g + 2 * k * P, m = x + 3 * k, n = m + Int8Activations.Y5_RUN;
                ShortVector l = (ShortVector) ByteVector.fromArray(B, pk, d).reinterpretShape(S, 0), h = l.lanewise(LSHR, n5);
                s = s.add(l.mul((ShortVector) IntVector.broadcast(I, y5[m]).reinterpretShape(S, 0))).add(h.mul((ShortVector) IntVector.broadcast(I, y5[m + 1]).reinterpretShape(S, 0)));
                h = h.lanewise(LSHR, n5);
                s = s.add(h.mul((ShortVector) IntVector.broadcast(I, y5[m + 2]).reinterpretShape(S, 0))).add(h.lanewise(LSHR, n5).mul((ShortVector) IntVector.broadcast(I, y5[x + 16 + k]).reinterpretShape(S, 0)));
                l = (ShortVector) ByteVector.fromArray(B, pk, d + RUN).reinterpretShape(S, 0);
                h = l.lanewise(LSHR, n5);
                r = r.add(l.mul((ShortVector) IntVector.broadcast(I, y5[n]).reinterpretShape(S, 0))).add(h.mul((ShortVector) IntVector.broadcast(I, y5[n + 1]).reinterpretShape(S, 0)));
                h = h.lanewise(LSHR, n5);
                r = r.add(h.mul((ShortVector) IntVector.broadcast(I, y5[n + 2]).reinterpretShape(S, 0))).add(h.lanewise(LSHR, n5).mul((ShortVector) IntVector.broadcast(I, y5[x + Int8Activations.Y5_RUN + 16 + k]).reinterpretShape(S, 0)));
            }
            int sx = 16 * a.sum[xb + j];
            float dx = a.d[xb + j];
            IntVector i = (IntVector) s.reinterpretShape(I, 0), q = (IntVector) r.reinterpretShape(I, 0);
            IntVector v = (IntVector) ByteVector.fromArray(B, pk, o + MINS.scale(j)).reinterpretShape(I, 0);
            uLo = ((FloatVector) i.lanewise(LSHL, 16).lanewise(ASHR, 16).add(q.lanewise(LSHL, 16).lanewise(ASHR, 16)).add(sx).convertShape(I2F, F, 0)).mul(dx)
                    .fma((FloatVector) v.and(0xff).convertShape(I2F, F, 0), uLo);
            uHi = ((FloatVector) i.lanewise(ASHR, 16).add(q.lanewise(ASHR, 16)).add(sx).convertShape(I2F, F, 0)).mul(dx)
                    .fma((FloatVector) v.lanewise(LSHR, 16).and(0xff).convertShape(I2F, F, 0), uHi);
        }
        uLo.intoArray(acc, P);
        uHi.intoArray(acc, P + H);
        KBlocks.endBlock(MINS, pk, o, a, xb, acc, 0, acc, P);
    }

    /**
     * The kernel with 128-bit vectors ({@link #ONE_PANEL}): four panels against token {@code t} into {@code acc[4 P]}. Per run of 16 columns ({@link FiveBits#run}),
     * {@code sum((q - 16) x)} in 16 bits; per sub-block its two runs are widened and added, {@code +
     * 16 sum(x codes)}, times {@code sc_j dx_j} into the block's u (in {@code u[]}); per block and
     * panel then {@code d u - dmin v} ({@link KBlocks#endBlock}).
     *
     * <p>The broadcasts of x are shared by the four panels, as in Q4_0's and Q4_K's kernels. Until the
     * sixteenth round this was one panel at a time, and at AVX2 it spilled: its two runs' 32-bit sums,
     * the lanes it loaded up front and the block's u needed 18-20 of the 16 registers (paired, AMD
     * EPYC Zen 3, AVX2: 1.85x in L2 at one thread, 1.3-1.9x from memory at two).
     *
     * <p>The runs hand their sums over through {@code sums[]} (8 vector stores and loads a sub-block),
     * so that this method stays small enough for C1: written out in one method (2425 bytecodes), C1's
     * tier-3 compile failed ("out of virtual registers in linear scan"), and a kernel in that state
     * can stay in C1's tier-2 code, which has no vector intrinsics (docs/quantization-and-speed.md,
     * sixteenth round).
     *
     * <p>Where a core reads and computes in series ({@link CpuInfo#serialReads}) each sub-block first
     * prefetches its share of the four panels {@link Prefetch#AHEAD} bytes on: Intel Xeon, [8192,
     * 2048] from memory, two threads, three alternating pairs, 19.8-26.9 against 16.9-20.4 Gw/s (59-61%
     * against 49-52% of the read bandwidth of the same minutes); in L2 at one thread 15.0-17.4 against
     * 17.6-18.0 (one call per panel then; one call for the four since, as Q4_K's kernel).
     */
    private static void fours(byte[] pk, int o0, int o1, int o2, int o3, Int8Activations a, int t, float[] acc) {
        int nb = a.blocks / 8;
        int[] y5 = a.y5, sum8 = a.sum8;
        float[] u = Panels.scratch().f(8 * H);
        int[] sums = Panels.scratch().ints(4 * P);
        java.util.Arrays.fill(acc, 0, 4 * P, 0f);
        MemorySegment ahead = Prefetch.KERNELS ? MemorySegment.ofArray(pk) : null;
        for (int b = 0; b < nb; b++) {
            int xb = t * a.blocks + 8 * b, ob = b * SBB * P;
            for (int j = 0; j < 8; j++) {
                int e = 4 * (xb + j), x = 2 * Int8Activations.Y5_RUN * (xb + j);
                int c = ob + CHUNK * (j >> 1) + 2 * RUN * (j & 1);
                if (ahead != null) Prefetch.fourAhead(ahead, o0, o1, o2, o3, ob + j * (SBB * P / 8), SBB * P / 8, nb * SBB * P);
                FiveBits.run(pk, o0 + c, o1 + c, o2 + c, o3 + c, y5, x, -16 * (sum8[e] + sum8[e + 1]), sums, 0);
                FiveBits.run(pk, o0 + c + RUN, o1 + c + RUN, o2 + c + RUN, o3 + c + RUN, y5, x + Int8Activations.Y5_RUN, -16 * (sum8[e + 2] + sum8[e + 3]), sums, 2 * P);
                // the sub-block's two runs, its x sum added back, times dx_j and the rows' sc_j (each
                // panel's scale lanes at MINS.scale(j)) into u
                int sx = 16 * a.sum[xb + j], sc = ob + MINS.scale(j);
                float dx = a.d[xb + j];
                FloatVector zero = FloatVector.zero(F); // sub-block 0 writes u: zeroing it first with Arrays.fill cost 4-5%
                for (int p = 0; p < 4; p++) {
                    int op = p == 0 ? o0 : p == 1 ? o1 : p == 2 ? o2 : o3;
                    IntVector i = IntVector.fromArray(I, sums, p * H), k = IntVector.fromArray(I, sums, 2 * P + p * H);
                    IntVector v = (IntVector) ByteVector.fromArray(B, pk, op + sc).reinterpretShape(I, 0);
                    ((FloatVector) i.lanewise(LSHL, 16).lanewise(ASHR, 16).add(k.lanewise(LSHL, 16).lanewise(ASHR, 16)).add(sx).convertShape(I2F, F, 0)).mul(dx)
                            .fma((FloatVector) v.and(0xff).convertShape(I2F, F, 0), j == 0 ? zero : FloatVector.fromArray(F, u, p * P)).intoArray(u, p * P);
                    ((FloatVector) i.lanewise(ASHR, 16).add(k.lanewise(ASHR, 16)).add(sx).convertShape(I2F, F, 0)).mul(dx)
                            .fma((FloatVector) v.lanewise(LSHR, 16).and(0xff).convertShape(I2F, F, 0), j == 0 ? zero : FloatVector.fromArray(F, u, p * P + H)).intoArray(u, p * P + H);
                }
            }
            KBlocks.endBlock(MINS, pk, o0 + ob, a, xb, acc, 0, u, 0);
            KBlocks.endBlock(MINS, pk, o1 + ob, a, xb, acc, P, u, P);
            KBlocks.endBlock(MINS, pk, o2 + ob, a, xb, acc, 2 * P, u, 2 * P);
            KBlocks.endBlock(MINS, pk, o3 + ob, a, xb, acc, 3 * P, u, 3 * P);
        }
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
                    FiveBits.expand(pk, o + CHUNK * (j >> 1) + 2 * RUN * (j & 1) + RUN * run, 0, sc, 4 * j * H, sc, (4 * j + 2) * H, wk, 256 * b + 32 * j + 16 * run);
        }
    }
}

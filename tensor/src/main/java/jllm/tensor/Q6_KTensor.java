package jllm.tensor;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jllm.tensor.Panels.H;
import static jllm.tensor.Panels.I;
import static jllm.tensor.Panels.P;
import static jllm.tensor.Panels.S;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

/** Q6_K: 256 values per block, 4 low bits (ql) + 2 high bits (qh), 16 signed 8-bit scales, fp16 d last; {@code x = d sc (q - 32)}. */
public final class Q6_KTensor extends QuantTensor {
    public Q6_KTensor(MemorySegment seg, long... shape) { super(GgmlType.Q6_K, seg, shape); }

    private static final int[] SCALES_AT = {208};

    @Override int[] scaleOffsets() { return SCALES_AT; }

    @Override Q6_KTensor make(MemorySegment s, long[] shape) { return new Q6_KTensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off + 208);
        for (int n = 0; n < 2; n++) {
            long ql = off + 64 * n, qh = off + 128 + 32 * n, sc = off + 192 + 8 * n;
            int y = o + 128 * n;
            for (int l = 0; l < 32; l++) {
                int is = l / 16, a = u8(ql + l), b = u8(ql + l + 32), h = u8(qh + l);
                dst[y + l] = d * sc(sc + is) * (((a & 15) | (h & 3) << 4) - 32);
                dst[y + l + 32] = d * sc(sc + is + 2) * (((b & 15) | ((h >>> 2) & 3) << 4) - 32);
                dst[y + l + 64] = d * sc(sc + is + 4) * (((a >>> 4) | ((h >>> 4) & 3) << 4) - 32);
                dst[y + l + 96] = d * sc(sc + is + 6) * (((b >>> 4) | ((h >>> 6) & 3) << 4) - 32);
            }
        }
    }

    private int sc(long off) { return seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, off); }

    /**
     * Which panel layout: the six-bit layout (below) with 512-bit vectors (native panels, {@link
     * #int8Block}), the lane layout otherwise (heap panels, {@link #fours}). Both hold six bits per
     * code, the file's 6.56 bits a weight; the byte layout the lane layout replaced held 8.56. Where a
     * core reads and computes in series ({@link CpuInfo#serialReads}: the Intel Xeon) the lane
     * layout's four panels won at 512 bits too: [8192, 2048] from memory, one JVM per layout,
     * alternating, two threads 20.2-23.6 against 15.5-19.8 Gw/s (four pairs of five), one thread 11.8
     * against 8.0, the six-bit kernel with a read-ahead of each next panel that gained it 14-20%
     * (twenty-ninth round; dropped with it).
     */
    static final boolean SIX_BITS = S.length() >= 32 && !CpuInfo.serialReads();

    // ---- Panels layouts, per panel and block (210 P bytes, the file's size).
    // Six-bit (512 bits): 8 chunks of 26 P bytes, one per 32 columns: 4 runs of 8 columns, each three
    // groups of P 16-bit lanes holding a row's six-bit codes (unsigned), A = q0 | q1 << 6 | (q2 & 15)
    // << 12, B = q3 | q4 << 6 | (q5 & 15) << 12, C = q6 | q7 << 6 | (q2 >> 4) << 12 | (q5 >> 4) << 14;
    // then one group of P 16-bit lanes holding each row's scales of the chunk's two sub-blocks, sc_2c |
    // sc_2c+1 << 8; after the 8 chunks, d (P fp16, lane order). A block is read front to back, as its
    // kernel reads it (see KBlocks).
    // Lanes (256 and 128 bits): first the 8 chunks' scales (a group of P 16-bit lanes each, as above),
    // then d (P fp16), then 32 runs of 8 columns, each three groups of P 16-bit lanes holding A, B and
    // C as in the six-bit layout. Its kernel (fours) runs lanes A and B in a loop, each the lane and
    // its shifts by 6 and 12 times three multipliers, and lane C written out (four multipliers): 10
    // multiplies a run and panel. Until the eighteenth round every lane had one shape, q(3j) | q(3j+1)
    // << 6 | (bit pair j of q2) << 12 | (bit pair j of q5) << 14 (four multipliers each, 12 multiplies,
    // all three in the loop); paired against it (AMD EPYC Zen 3, AVX2, outputs bit-identical): L2 one
    // thread 1.06, 1.11x, two threads 1.04x; [128256, 2048] from memory, two threads 1.00x. Lane C in
    // a second loop (trip count 1 from an array, for its range checks) spilled: 0.74x in L2.
    // The lane layout replaced the byte layout (one byte per code,
    // two codes per 16-bit lane, 8.56 bits a weight; the only layout until November 2026, and below
    // 512 bits until the seventeenth round): paired against it, AMD EPYC Zen 3 (AVX2), one build per
    // process, [1024, 2048] in L2 one thread 0.77-0.82x, [32768, 4096] from memory two threads 1.04,
    // 1.06, 1.20, 1.13x, the LM head of the 1B Q4_K_M model 1.14x (--breakdown, 14.1 against 16.1 ms a
    // token), and 82 MiB less resident memory for that model. With the lane loop's trip count a
    // constant C2 unrolled it and spilled (0.65x in L2); with the six-bit layout's written-out kernel
    // at AVX2, 0.53x in L2 (shift counts and broadcasts through general registers).
    // An earlier try of the six-bit layout
    // had lost in cache, because its kernel called Panels.twice (not inlined in a method this large),
    // and the call spilled every vector register. Written out, paired against the byte layout (AMD
    // EPYC, Zen 4): L2 one thread 0.79x, 2 threads from memory 1.20, 1.24, 1.21, 1.00x; the LM head of
    // llama.cpp's Q4_K_M and Q5_K_M files is Q6_K, a third of their weights.

    /**
     * RUN: panel bytes per 8 columns; CHUNK: the six-bit layout's per 32 columns (codes, then their
     * scales); D: where d starts; CODES: where the codes start.
     */
    private static final int SBB = 210, RUN = 6 * P, CHUNK = 26 * P, D = (SIX_BITS ? 208 : 16) * P, CODES = SIX_BITS ? 0 : 18 * P;

    /** Where the scales of chunk c (sub-blocks 2c and 2c + 1) start within a block. */
    private static int scalesAt(int c) { return SIX_BITS ? CHUNK * c + 24 * P : 2 * P * c; }

    /** Where sub-block j's 16 columns of codes start within a block. */
    private static long codes(int j) { return SIX_BITS ? (long) CHUNK * (j >> 1) + 2L * RUN * (j & 1) : CODES + 2L * RUN * j; }

    @Override boolean hasPanels() { return true; }

    /**
     * Native panels for the six-bit layout: its kernel is written out (runs of loads at constant
     * offsets), and with heap arrays C2 merges their range checks into one and then schedules every
     * load of a run first, which spills and broadcasts x through general registers: 0.66x at AVX2 and
     * 0.85x at AVX-512 in L3 (paired, AMD EPYC). With long offsets each load keeps its own check and
     * its place. The lane layout's kernel ({@link #fours}) is a loop and takes heap arrays, as Q4_0's.
     */
    @Override boolean heapPanels() { return !SIX_BITS; }

    @Override long panelBytes() { return (long) dim(1) / 256 * SBB * P; }

    @Override int activationExtras() { return SIX_BITS ? Int8Activations.Y6 : Int8Activations.LANES6; }

    /**
     * Eight codes at a time, one per byte of a long (ql's nibbles and qh's pairs of bits masked and
     * shifted in place), and the scales two at a time: one thread repacked an [8192, 2048] tensor at
     * 0.51 GB/s of file bytes code by code, 0.71 so (AMD EPYC); the first token waits for it.
     */
    @Override
    void repackPanel(byte[] src, byte[] dst) {
        int nb = dim(1) / 256, rb = nb * 210;
        final long m4 = 0x0F0F0F0F0F0F0F0FL, m2 = 0x0303030303030303L;
        for (int b = 0; b < nb; b++) {
            int o = b * SBB * P;
            for (int l = 0; l < P; l++) {
                int s = l * rb + b * 210;
                dst[o + D + 2 * l] = src[s + 208];
                dst[o + D + 2 * l + 1] = src[s + 209];
                for (int c = 0; c < 8; c++) Panels.SHORTS.set(dst, o + scalesAt(c) + 2 * l, (short) Panels.SHORTS.get(src, s + 192 + 2 * c));
                for (int n = 0; n < 2; n++)
                    for (int i = 0; i < 32; i += 8) {
                        long a = (long) Panels.LONGS.get(src, s + 64 * n + i), c = (long) Panels.LONGS.get(src, s + 64 * n + 32 + i);
                        long h = (long) Panels.LONGS.get(src, s + 128 + 32 * n + i);
                        // values 128 n + 32 m + i .. + 7 (run (128 n + i) / 8 + 4 m): low nibbles of a, of c,
                        // then high nibbles of a, of c; their high bits are qh's bit pairs m
                        for (int m = 0; m < 4; m++) {
                            long nib = ((m & 1) == 0 ? a : c) >>> 4 * (m >> 1) & m4;
                            packRun(nib | (h >>> 2 * m & m2) << 4, dst, o + 2 * l, (128 * n + i) / 8 + 4 * m);
                        }
                    }
            }
        }
    }

    /** Run r's eight codes (one per byte of {@code q}) as the lanes of a row whose lane offset is {@code at}. */
    private static void packRun(long q, byte[] dst, int at, int r) {
        int c0 = (int) q & 63, c1 = (int) (q >>> 8) & 63, c2 = (int) (q >>> 16) & 63, c3 = (int) (q >>> 24) & 63;
        int c4 = (int) (q >>> 32) & 63, c5 = (int) (q >>> 40) & 63, c6 = (int) (q >>> 48) & 63, c7 = (int) (q >>> 56) & 63;
        int g = SIX_BITS ? at + CHUNK * (r >> 2) + RUN * (r & 3) : at + CODES + RUN * r;
        Panels.SHORTS.set(dst, g, (short) (c0 | c1 << 6 | (c2 & 15) << 12));
        Panels.SHORTS.set(dst, g + 2 * P, (short) (c3 | c4 << 6 | (c5 & 15) << 12));
        Panels.SHORTS.set(dst, g + 4 * P, (short) (c6 | c7 << 6 | (c2 >> 4) << 12 | (c5 >> 4) << 14));
    }

    @Override
    void int8Rows(Panels.Store pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        if (SIX_BITS) Panels.int8Blocks(Q6_KTensor::int8Block, pk, SBB * P, a, y, dim(0), p0, p1, bias);
        else Panels.int8Fours(Q6_KTensor::fours, pk, a, y, dim(0), p0, p1, bias);
    }

    /**
     * Where each half of a chunk finds its 22 x multipliers, from the chunk's first ({@code y6[45 (xb + c)]}),
     * read from an array so that the index is not a function of the loop variable. With {@code w +=
     * 22} C2 hoisted each of the 22 range checks out of the two-step loop as a pair of predicates
     * (first and last step), 44 checks of six instructions before every entry, a third of the chunk's
     * instructions; so each stays in the loop, and C2 merges the 22 checks of {@code w + k} into two.
     * Paired (AMD EPYC Zen 5, 512 bits, one thread, in cache): 35 -> 52-55 Gw/s.
     */
    private static final int[] HALVES = {0, 22};

    /**
     * One block into {@code acc}: per run of 8 columns, {@code sum((q - 32) x)} in 16 bits, started at
     * {@code -32 sum(x)} and then each lane whole times its multipliers ({@link Int8Activations#y6}):
     * {@code A y0 + (A >>> 6) y1 + (A >>> 12) y2 = q0 x0 + q1 x1 + (q2 & 15) x2}, and so on (the products
     * wrap; the run's sum, at most 8 * 32 * 127 = 32512, is exact). Each lane's products are summed
     * first and the three lanes' sums then, so no chain of adds runs through the whole run. Per
     * sub-block its two runs are widened and added, times {@code sc_j dx}; then the rows' {@code d}.
     * The two runs are written out (as the byte layout's were: C2 kept loops of a few steps with their
     * range-check setup at every entry), and nothing here calls a method: a call C2 did not inline
     * ({@code Panels.twice}) spilled every vector register once per run and cost 30% in L2.
     */
    private static void int8Block(byte[] unused, MemorySegment pk, int at, Int8Activations a, int x, int xb, float[] acc) {
        long g = at;
        FloatVector uLo = FloatVector.zero(F), uHi = uLo;
        int[] y6 = a.y6;
        long o = g;
        for (int c = 0; c < 8; c++, g += 2L * P) {
            IntVector loA = IntVector.zero(I), hiA = loA, loB = loA, hiB = loA;
            int blk = 45 * (xb + c);
            for (int half = 0; half < 2; half++) {
                int w = blk + HALVES[half];
                ShortVector A = ShortVector.fromMemorySegment(S, pk, g, LE);
                ShortVector B = ShortVector.fromMemorySegment(S, pk, g + 2L * P, LE);
                ShortVector C = ShortVector.fromMemorySegment(S, pk, g + 4L * P, LE);
                ShortVector pa = A.mul((ShortVector) IntVector.broadcast(I, y6[w]).reinterpretShape(S, 0))
                        .add(A.lanewise(LSHR, 6).mul((ShortVector) IntVector.broadcast(I, y6[w + 1]).reinterpretShape(S, 0)))
                        .add(A.lanewise(LSHR, 12).mul((ShortVector) IntVector.broadcast(I, y6[w + 2]).reinterpretShape(S, 0)));
                ShortVector pb = B.mul((ShortVector) IntVector.broadcast(I, y6[w + 3]).reinterpretShape(S, 0))
                        .add(B.lanewise(LSHR, 6).mul((ShortVector) IntVector.broadcast(I, y6[w + 4]).reinterpretShape(S, 0)))
                        .add(B.lanewise(LSHR, 12).mul((ShortVector) IntVector.broadcast(I, y6[w + 5]).reinterpretShape(S, 0)));
                ShortVector pc = C.mul((ShortVector) IntVector.broadcast(I, y6[w + 6]).reinterpretShape(S, 0))
                        .add(C.lanewise(LSHR, 6).mul((ShortVector) IntVector.broadcast(I, y6[w + 7]).reinterpretShape(S, 0)))
                        .add(C.lanewise(LSHR, 12).mul((ShortVector) IntVector.broadcast(I, y6[w + 16]).reinterpretShape(S, 0)))
                        .add(C.lanewise(LSHR, 14).mul((ShortVector) IntVector.broadcast(I, y6[w + 17]).reinterpretShape(S, 0)));
                ShortVector r1 = ((ShortVector) IntVector.broadcast(I, y6[w + 20]).reinterpretShape(S, 0)).add(pa).add(pb.add(pc));
                ShortVector A2 = ShortVector.fromMemorySegment(S, pk, g + 6L * P, LE);
                ShortVector B2 = ShortVector.fromMemorySegment(S, pk, g + 8L * P, LE);
                ShortVector C2 = ShortVector.fromMemorySegment(S, pk, g + 10L * P, LE);
                ShortVector qa = A2.mul((ShortVector) IntVector.broadcast(I, y6[w + 8]).reinterpretShape(S, 0))
                        .add(A2.lanewise(LSHR, 6).mul((ShortVector) IntVector.broadcast(I, y6[w + 9]).reinterpretShape(S, 0)))
                        .add(A2.lanewise(LSHR, 12).mul((ShortVector) IntVector.broadcast(I, y6[w + 10]).reinterpretShape(S, 0)));
                ShortVector qb = B2.mul((ShortVector) IntVector.broadcast(I, y6[w + 11]).reinterpretShape(S, 0))
                        .add(B2.lanewise(LSHR, 6).mul((ShortVector) IntVector.broadcast(I, y6[w + 12]).reinterpretShape(S, 0)))
                        .add(B2.lanewise(LSHR, 12).mul((ShortVector) IntVector.broadcast(I, y6[w + 13]).reinterpretShape(S, 0)));
                ShortVector qc = C2.mul((ShortVector) IntVector.broadcast(I, y6[w + 14]).reinterpretShape(S, 0))
                        .add(C2.lanewise(LSHR, 6).mul((ShortVector) IntVector.broadcast(I, y6[w + 15]).reinterpretShape(S, 0)))
                        .add(C2.lanewise(LSHR, 12).mul((ShortVector) IntVector.broadcast(I, y6[w + 18]).reinterpretShape(S, 0)))
                        .add(C2.lanewise(LSHR, 14).mul((ShortVector) IntVector.broadcast(I, y6[w + 19]).reinterpretShape(S, 0)));
                ShortVector r2 = ((ShortVector) IntVector.broadcast(I, y6[w + 21]).reinterpretShape(S, 0)).add(qa).add(qb.add(qc));
                IntVector i1 = (IntVector) r1.reinterpretShape(I, 0), i2 = (IntVector) r2.reinterpretShape(I, 0);
                loA = loB;
                hiA = hiB;
                loB = i1.lanewise(LSHL, 16).lanewise(ASHR, 16).add(i2.lanewise(LSHL, 16).lanewise(ASHR, 16));
                hiB = i1.lanewise(ASHR, 16).add(i2.lanewise(ASHR, 16));
                g += 2L * RUN;
            }
            // sub-blocks 2c (A) and 2c + 1 (B); their scales follow the chunk's codes, at g now
            float dx = Float.intBitsToFloat(y6[blk + 44]);
            IntVector v = IntVector.fromMemorySegment(I, pk, g, LE);
            uLo = ((FloatVector) loA.convertShape(I2F, Panels.F, 0)).mul(dx).fma((FloatVector) v.lanewise(LSHL, 24).lanewise(ASHR, 24).convertShape(I2F, Panels.F, 0), uLo);
            uHi = ((FloatVector) hiA.convertShape(I2F, Panels.F, 0)).mul(dx).fma((FloatVector) v.lanewise(LSHL, 8).lanewise(ASHR, 24).convertShape(I2F, Panels.F, 0), uHi);
            uLo = ((FloatVector) loB.convertShape(I2F, Panels.F, 0)).mul(dx).fma((FloatVector) v.lanewise(LSHL, 16).lanewise(ASHR, 24).convertShape(I2F, Panels.F, 0), uLo);
            uHi = ((FloatVector) hiB.convertShape(I2F, Panels.F, 0)).mul(dx).fma((FloatVector) v.lanewise(ASHR, 24).convertShape(I2F, Panels.F, 0), uHi);
        }
        IntVector d = IntVector.fromMemorySegment(I, pk, o + D, LE);
        FloatVector dLo = ((FloatVector) d.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS);
        FloatVector dHi = ((FloatVector) d.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS);
        dLo.fma(uLo, FloatVector.fromArray(F, acc, 0)).intoArray(acc, 0);
        dHi.fma(uHi, FloatVector.fromArray(F, acc, H)).intoArray(acc, H);
    }

    @Override
    void expand(Panels.Store st, int p, int k0, int kn, float[] wk) {
        float[] sc = Panels.scratch().f(32 * H);
        byte[] arr = SIX_BITS ? null : st.of(p);
        MemorySegment pk = SIX_BITS ? st.view(p) : null;
        long o = st.at(p) + (long) k0 / 256 * SBB * P;
        for (int b = 0; b < kn / 256; b++, o += (long) SBB * P) {
            expandScales(arr, pk, o, sc);
            for (int j = 0; j < 16; j++) expandSub(arr, pk, o + codes(j), sc, j, wk, 256 * b + 16 * j);
        }
    }

    /**
     * A group of P 16-bit lanes at byte {@code off} of the panels: the heap array where the layout
     * keeps one (the lane layout), else the native view. Never a heap segment over the array
     * ({@code MemorySegment.ofArray}): the JDK's segment loads are one piece of code for every caller,
     * and once it had seen both segment classes, F16 decode in the same process ran at half speed
     * (`bench kernels` f16 37-41% after q6_k's prefill, 78-90% without; Intel Xeon, twenty-ninth round).
     */
    private static ShortVector lanes(byte[] arr, MemorySegment seg, long off) {
        return arr != null ? ((ShortVector) ByteVector.fromArray(Panels.B, arr, (int) off).reinterpretShape(S, 0)) : ShortVector.fromMemorySegment(S, seg, off, LE);
    }

    /** Per sub-block j: {@code d sc_j}, rows [0, P/2) at {@code sc[2 j H ..]}, rows [P/2, P) after them. */
    private static void expandScales(byte[] arr, MemorySegment pk, long o, float[] sc) {
        IntVector d = (IntVector) lanes(arr, pk, o + D).reinterpretShape(I, 0);
        FloatVector dLo = ((FloatVector) d.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS);
        FloatVector dHi = ((FloatVector) d.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS);
        for (int i = 0; i < 8; i++) {
            IntVector v = (IntVector) lanes(arr, pk, o + scalesAt(i)).reinterpretShape(I, 0);
            dLo.mul((FloatVector) v.lanewise(LSHL, 24).lanewise(ASHR, 24).convertShape(I2F, Panels.F, 0)).intoArray(sc, 4 * i * H);
            dHi.mul((FloatVector) v.lanewise(LSHL, 8).lanewise(ASHR, 24).convertShape(I2F, Panels.F, 0)).intoArray(sc, (4 * i + 1) * H);
            dLo.mul((FloatVector) v.lanewise(LSHL, 16).lanewise(ASHR, 24).convertShape(I2F, Panels.F, 0)).intoArray(sc, (4 * i + 2) * H);
            dHi.mul((FloatVector) v.lanewise(ASHR, 24).convertShape(I2F, Panels.F, 0)).intoArray(sc, (4 * i + 3) * H);
        }
    }

    /**
     * Sub-block j's 16 columns, {@code (d sc_j) (q - 32)} as {@link #decodeBlock}: each run's 8 codes
     * unpacked into a short scratch (whole vectors stored and loaded back: a helper taking a vector
     * would box it), then widened, scaled and stored column by column.
     */
    private static void expandSub(byte[] arr, MemorySegment pk, long g, float[] sc, int j, float[] wk, int k) {
        FloatVector dLo = FloatVector.fromArray(F, sc, 2 * j * H), dHi = FloatVector.fromArray(F, sc, (2 * j + 1) * H);
        short[] t = Panels.scratch().sums(8 * P);
        for (int r = 0; r < 2; r++, g += RUN, k += 8) {
            ShortVector a = lanes(arr, pk, g), b = lanes(arr, pk, g + 2L * P), c = lanes(arr, pk, g + 4L * P);
            a.and((short) 63).intoArray(t, 0);
            a.lanewise(LSHR, 6).and((short) 63).intoArray(t, P);
            b.and((short) 63).intoArray(t, 3 * P);
            b.lanewise(LSHR, 6).and((short) 63).intoArray(t, 4 * P);
            c.and((short) 63).intoArray(t, 6 * P);
            c.lanewise(LSHR, 6).and((short) 63).intoArray(t, 7 * P);
            a.lanewise(LSHR, 12).or(c.lanewise(LSHR, 12).and((short) 3).lanewise(LSHL, 4)).intoArray(t, 2 * P);
            b.lanewise(LSHR, 12).or(c.lanewise(LSHR, 14).lanewise(LSHL, 4)).intoArray(t, 5 * P);
            for (int i = 0; i < 8; i++) {
                IntVector q = (IntVector) ShortVector.fromArray(S, t, i * P).sub((short) 32).reinterpretShape(I, 0);
                dLo.mul((FloatVector) q.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0)).intoArray(wk, (k + i) * P);
                dHi.mul((FloatVector) q.lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0)).intoArray(wk, (k + i) * P + H);
            }
        }
    }

    /**
     * The lane kernel's shift counts (6, 2) and the lanes of a run its loop takes (A and B), read from
     * an array: C2 then keeps each count in a register (a constant it re-materialises at every shift
     * of 16-bit lanes), and with the lane loop's trip count a constant it unrolled the loop and
     * spilled (0.65x in L2).
     */
    private static final int[] RUN_CONSTANTS = {6, 2, 2};
    /** {@link Panels#VECTOR_COUNTS}, written out at each shift. */
    private static final boolean VC = Panels.VECTOR_COUNTS;

    /**
     * Four panels of the lane layout against token {@code t} into {@code acc[4 P]}. Per block, first
     * each panel's {@code d sc_j dx} for its 16 sub-blocks into a scratch (from the scales and d at the
     * block's start); then per run of 8 columns, lane by lane, each panel's {@code sum((q - 32) x)} in
     * 16 bits from {@code -32 sum(x)} ({@link Int8Activations#lanes6}: the lane and its shifts by 6
     * and 12, and for lane C by 14, times a multiplier each, shared by the four panels), widened,
     * times the scratch's scale (an FMA with a memory operand) into the rows' sums.
     */
    private static void fours(byte[] pk, int o0, int o1, int o2, int o3, Int8Activations a, int t, float[] acc) {
        int nb = a.blocks / 8;
        int[] v = a.lanes6;
        float[] sc = Panels.scratch().f(64 * P);
        ShortVector c6 = ShortVector.broadcast(S, (short) RUN_CONSTANTS[0]), c2 = ShortVector.broadcast(S, (short) RUN_CONSTANTS[1]);
        FloatVector lo0 = FloatVector.zero(F), hi0 = lo0, lo1 = lo0, hi1 = lo0, lo2 = lo0, hi2 = lo0, lo3 = lo0, hi3 = lo0;
        for (int b = 0; b < nb; b++) {
            int xb = t * a.blocks + 8 * b, blk = b * SBB * P;
            for (int k = 0; k < 4; k++) {
                int ok = (k == 0 ? o0 : k == 1 ? o1 : k == 2 ? o2 : o3) + blk;
                IntVector d = (IntVector) ByteVector.fromArray(Panels.B, pk, ok + D).reinterpretShape(I, 0);
                FloatVector dLo = ((FloatVector) d.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS);
                FloatVector dHi = ((FloatVector) d.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS);
                for (int c = 0; c < 8; c++) {
                    float dx = Float.intBitsToFloat(v[Int8Activations.LANES6_BLOCK * (xb + c) + 4 * Int8Activations.LANES6_RUN]);
                    IntVector m = (IntVector) ByteVector.fromArray(Panels.B, pk, ok + scalesAt(c)).reinterpretShape(I, 0);
                    int so = (16 * k + 2 * c) * P;
                    ((FloatVector) m.lanewise(LSHL, 24).lanewise(ASHR, 24).convertShape(I2F, Panels.F, 0)).mul(dx).mul(dLo).intoArray(sc, so);
                    ((FloatVector) m.lanewise(LSHL, 8).lanewise(ASHR, 24).convertShape(I2F, Panels.F, 0)).mul(dx).mul(dHi).intoArray(sc, so + H);
                    ((FloatVector) m.lanewise(LSHL, 16).lanewise(ASHR, 24).convertShape(I2F, Panels.F, 0)).mul(dx).mul(dLo).intoArray(sc, so + P);
                    ((FloatVector) m.lanewise(ASHR, 24).convertShape(I2F, Panels.F, 0)).mul(dx).mul(dHi).intoArray(sc, so + P + H);
                }
            }
            for (int r = 0; r < 32; r++) {
                // run r: columns 8r .. 8r + 7 of the block, sub-block r / 2, x block r / 4
                int h = Int8Activations.LANES6_BLOCK * (xb + (r >> 2)) + Int8Activations.LANES6_RUN * (r & 3), g = blk + CODES + RUN * r;
                int n6 = RUN_CONSTANTS[0], n2 = RUN_CONSTANTS[1], lanes = RUN_CONSTANTS[2];
                ShortVector s0 = (ShortVector) IntVector.broadcast(I, v[h + 10]).reinterpretShape(S, 0);
                ShortVector s1 = s0, s2 = s0, s3 = s0;
                for (int q = 0; q < lanes; q++) {  // lanes A and B: the lane and its shifts by 6 and 12
                    int d = g + 2 * P * q, m = h + 3 * q;
                    ShortVector m0 = (ShortVector) IntVector.broadcast(I, v[m]).reinterpretShape(S, 0), m1 = (ShortVector) IntVector.broadcast(I, v[m + 1]).reinterpretShape(S, 0);
                    ShortVector m2 = (ShortVector) IntVector.broadcast(I, v[m + 2]).reinterpretShape(S, 0);
                    ShortVector w = (ShortVector) ByteVector.fromArray(Panels.B, pk, o0 + d).reinterpretShape(S, 0), u = VC ? w.lanewise(LSHR, c6) : w.lanewise(LSHR, n6);
                    s0 = s0.add(w.mul(m0)).add(u.mul(m1)).add((VC ? u.lanewise(LSHR, c6) : u.lanewise(LSHR, n6)).mul(m2));
                    w = (ShortVector) ByteVector.fromArray(Panels.B, pk, o1 + d).reinterpretShape(S, 0);
                    u = VC ? w.lanewise(LSHR, c6) : w.lanewise(LSHR, n6);
                    s1 = s1.add(w.mul(m0)).add(u.mul(m1)).add((VC ? u.lanewise(LSHR, c6) : u.lanewise(LSHR, n6)).mul(m2));
                    w = (ShortVector) ByteVector.fromArray(Panels.B, pk, o2 + d).reinterpretShape(S, 0);
                    u = VC ? w.lanewise(LSHR, c6) : w.lanewise(LSHR, n6);
                    s2 = s2.add(w.mul(m0)).add(u.mul(m1)).add((VC ? u.lanewise(LSHR, c6) : u.lanewise(LSHR, n6)).mul(m2));
                    w = (ShortVector) ByteVector.fromArray(Panels.B, pk, o3 + d).reinterpretShape(S, 0);
                    u = VC ? w.lanewise(LSHR, c6) : w.lanewise(LSHR, n6);
                    s3 = s3.add(w.mul(m0)).add(u.mul(m1)).add((VC ? u.lanewise(LSHR, c6) : u.lanewise(LSHR, n6)).mul(m2));
                }
                {  // lane C: the lane and its shifts by 6, 12 and 14
                    int d = g + 4 * P, m = h + 6;
                    ShortVector m0 = (ShortVector) IntVector.broadcast(I, v[m]).reinterpretShape(S, 0), m1 = (ShortVector) IntVector.broadcast(I, v[m + 1]).reinterpretShape(S, 0);
                    ShortVector m2 = (ShortVector) IntVector.broadcast(I, v[m + 2]).reinterpretShape(S, 0), m3 = (ShortVector) IntVector.broadcast(I, v[m + 3]).reinterpretShape(S, 0);
                    ShortVector w = (ShortVector) ByteVector.fromArray(Panels.B, pk, o0 + d).reinterpretShape(S, 0), u = VC ? w.lanewise(LSHR, c6) : w.lanewise(LSHR, n6);
                    s0 = s0.add(w.mul(m0)).add(u.mul(m1));
                    u = VC ? u.lanewise(LSHR, c6) : u.lanewise(LSHR, n6);
                    s0 = s0.add(u.mul(m2)).add((VC ? u.lanewise(LSHR, c2) : u.lanewise(LSHR, n2)).mul(m3));
                    w = (ShortVector) ByteVector.fromArray(Panels.B, pk, o1 + d).reinterpretShape(S, 0);
                    u = VC ? w.lanewise(LSHR, c6) : w.lanewise(LSHR, n6);
                    s1 = s1.add(w.mul(m0)).add(u.mul(m1));
                    u = VC ? u.lanewise(LSHR, c6) : u.lanewise(LSHR, n6);
                    s1 = s1.add(u.mul(m2)).add((VC ? u.lanewise(LSHR, c2) : u.lanewise(LSHR, n2)).mul(m3));
                    w = (ShortVector) ByteVector.fromArray(Panels.B, pk, o2 + d).reinterpretShape(S, 0);
                    u = VC ? w.lanewise(LSHR, c6) : w.lanewise(LSHR, n6);
                    s2 = s2.add(w.mul(m0)).add(u.mul(m1));
                    u = VC ? u.lanewise(LSHR, c6) : u.lanewise(LSHR, n6);
                    s2 = s2.add(u.mul(m2)).add((VC ? u.lanewise(LSHR, c2) : u.lanewise(LSHR, n2)).mul(m3));
                    w = (ShortVector) ByteVector.fromArray(Panels.B, pk, o3 + d).reinterpretShape(S, 0);
                    u = VC ? w.lanewise(LSHR, c6) : w.lanewise(LSHR, n6);
                    s3 = s3.add(w.mul(m0)).add(u.mul(m1));
                    u = VC ? u.lanewise(LSHR, c6) : u.lanewise(LSHR, n6);
                    s3 = s3.add(u.mul(m2)).add((VC ? u.lanewise(LSHR, c2) : u.lanewise(LSHR, n2)).mul(m3));
                }
                int so = (r >> 1) * P;
                IntVector i0 = (IntVector) s0.reinterpretShape(I, 0);
                lo0 = ((FloatVector) i0.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0)).fma(FloatVector.fromArray(F, sc, so), lo0);
                hi0 = ((FloatVector) i0.lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0)).fma(FloatVector.fromArray(F, sc, so + H), hi0);
                IntVector i1 = (IntVector) s1.reinterpretShape(I, 0);
                lo1 = ((FloatVector) i1.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0)).fma(FloatVector.fromArray(F, sc, so + 16 * P), lo1);
                hi1 = ((FloatVector) i1.lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0)).fma(FloatVector.fromArray(F, sc, so + 16 * P + H), hi1);
                IntVector i2 = (IntVector) s2.reinterpretShape(I, 0);
                lo2 = ((FloatVector) i2.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0)).fma(FloatVector.fromArray(F, sc, so + 32 * P), lo2);
                hi2 = ((FloatVector) i2.lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0)).fma(FloatVector.fromArray(F, sc, so + 32 * P + H), hi2);
                IntVector i3 = (IntVector) s3.reinterpretShape(I, 0);
                lo3 = ((FloatVector) i3.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0)).fma(FloatVector.fromArray(F, sc, so + 48 * P), lo3);
                hi3 = ((FloatVector) i3.lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0)).fma(FloatVector.fromArray(F, sc, so + 48 * P + H), hi3);
            }
        }
        lo0.intoArray(acc, 0); hi0.intoArray(acc, H);
        lo1.intoArray(acc, P); hi1.intoArray(acc, P + H);
        lo2.intoArray(acc, 2 * P); hi2.intoArray(acc, 2 * P + H);
        lo3.intoArray(acc, 3 * P); hi3.intoArray(acc, 3 * P + H);
    }
}

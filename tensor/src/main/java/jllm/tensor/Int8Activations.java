package jllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Activations quantized to 8 bits for the integer kernels ({@link QuantMatmul}), as llama.cpp quantizes
 * them for its quantized dot products: per token and block of 32 values, {@code d = max|x| / 127} and
 * {@code q = round(x / d)} in [-127, 127] (half away from zero).
 *
 * <p>Each code is stored twice in one int ({@code q} in the low and in the high 16 bits): a kernel
 * broadcasts it to every 16-bit lane with one 32-bit broadcast load, a pure load on x86, where a
 * 16-bit broadcast costs a shuffle-port op per use. Per block the sum of the codes is kept too: the
 * kernels use it to centre unsigned weight codes (see {@link Panels}) and for the mins of the
 * asymmetric formats.
 */
final class Int8Activations {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final int BLOCK = 32;

    int tokens, cols, blocks;
    /** {@code [tokens][cols]}: code {@code q} as {@code q & 0xffff | q << 16}. */
    int[] q2 = new int[0];
    /** {@code [tokens][blocks]}: the block scale. */
    float[] d = new float[0];
    /** {@code [tokens][blocks]}: the sum of the block's codes. */
    int[] sum = new int[0];
    /** {@code [tokens][cols / 8]}: sums of 8 consecutive codes (formats that widen every 8 columns centre with them). */
    int[] sum8 = new int[0];
    /**
     * {@code [tokens][blocks][34]}: the multipliers of the four-nibble kernels of Q4_0 and Q4_K (see
     * {@link FourNibbles}), in the order they read them: per block {@code -8 sum(q)}, then per unit
     * {@code u < 8} (a 16-bit lane {@code L = n0 + 16 n1 + 256 n2 + 4096 n3} holding the codes of
     * columns {@code 2u, 2u + 16, 2u + 1, 2u + 17}) {@code q[2u], q[2u+16] - 16 q[2u], q[2u+1] - 16
     * q[2u+16], q[2u+17] - 16 q[2u+1]}, then the block scale's bits; all but the scale stored as in
     * {@link #q2}. {@code L m0 + (L >>> 4) m1 + (L >>> 8) m2 + (L >>> 12) m3} is then the four codes
     * times their four x codes: four products per lane for three shifts and no mask. The 16-bit
     * products wrap, but their sum over a block is exact (the true sum, started at {@code -8 sum(q)},
     * fits in 16 bits: 32 * 8 * 127 = 32512). One array rather than four (codes, these, sums,
     * scales): see {@link #pairs6}. Made only when asked for ({@link #NIB4}).
     */
    int[] nib4 = new int[0];
    /**
     * {@code [tokens][blocks][33]}: Q8_0's decode kernel's activations in one array, in reading order:
     * per block the codes as in {@link #q2}, then the block scale's bits (see {@link #pairs6}). Made
     * only when asked for ({@link #Q80}).
     */
    int[] q80 = new int[0];
    /**
     * {@code [tokens][cols / 16][Y5_RUN]}: per run of 16 codes {@code x0..x15}, the multipliers of the
     * five-bit panel kernel ({@link FiveBits#run}: three 5-bit codes per 16-bit lane and a bit of the
     * sixteenth on top), stored as in {@link #q2}: per lane k < 5 {@code x3k, x3k+1 - 32 x3k, x3k+2 -
     * 32 x3k+1}, then {@code x15}, then per lane {@code 2^k x15 - 32 x3k+2}. Made only when asked for
     * ({@link #Y5}).
     */
    int[] y5 = new int[0];
    /** Ints of {@link #y5} per run of 16 codes. */
    static final int Y5_RUN = 21;
    /** {@link #lanes6} ints per run of 8 columns, and per block of 32. */
    static final int LANES6_RUN = 11, LANES6_BLOCK = 4 * LANES6_RUN + 1;
    /**
     * {@code [tokens][blocks][45]}: everything Q6_K's six-bit panel kernel reads, in its order (see
     * Q6_KTensor.int8Block). Per half block of 16 codes, two runs of 8 codes {@code x0..x7}: the first
     * 8 multipliers of each run, {@code x0, x1 - 64 x0, x2 - 64 x1, x3, x4 - 64 x3, x5 - 64 x4, x6, x7 -
     * 64 x6} (8 six-bit codes in three 16-bit lanes), of both runs together (as their codes lie, so
     * vector code makes them), then each run's other two, {@code 16 x2 - 64 x7, 16 x5 - 64 x2}, then
     * each run's centring term {@code -32 sum}: 22 per 16 codes; after both halves the block scale's
     * bits. All stored as in {@link #q2} (the scale as is). One array, as {@link #pairs6}. Made only
     * when asked for ({@link #Y6}).
     */
    int[] y6 = new int[0];
    /**
     * {@code [tokens][blocks][45]}: everything Q6_K's lane kernel reads (Q6_KTensor.fours), in its
     * order: per run of 8 codes {@code x0..x7}, the multipliers of its three 16-bit lanes' shifts. Lanes
     * A and B hold codes {@code a, b} whole and the low four bits {@code u} of code {@code c} (0, 1, 2
     * and 3, 4, 5), {@code a + 64 b + 4096 u}: multipliers of the lane and its shifts by 6 and 12,
     * {@code xa, xb - 64 xa, xc - 64 xb}. Lane C holds codes 6 and 7 whole and the top two bits of codes
     * 2 and 5, {@code c6 + 64 c7 + 4096 h2 + 16384 h5}: multipliers of the lane and its shifts by 6, 12
     * and 14, {@code x6, x7 - 64 x6, 16 x2 - 64 x7, 16 x5 - 64 x2}. Then the run's centring term
     * {@code -32 sum}: {@value #LANES6_RUN} per run; after the four runs the block scale's bits. All
     * stored as in {@link #q2} (the scale as is). The 16-bit products wrap, but the run's sum, at most
     * 8 * 32 * 127 = 32512 in magnitude, is exact. One array, because the streams count: a kernel
     * reading multipliers, sums of 8 and scales from three arrays ran 0.86x from memory against one
     * reading them from one (AMD EPYC, AVX2, paired passes; the byte layout's kernel before this one).
     * Made only when asked for ({@link #LANES6}).
     */
    int[] lanes6 = new int[0];
    /** Which of the optional arrays this fill made. */
    private int extras;

    /** {@link #extras} flags: the optional arrays a format's kernel reads ({@link QuantTensor#activationExtras}). */
    static final int NIB4 = 1, Y5 = 2, Y6 = 4, LANES6 = 8, Q80 = 16, ALL = NIB4 | Y5 | Y6 | LANES6 | Q80;

    private static final ThreadLocal<Int8Activations> SCRATCH = ThreadLocal.withInitial(Int8Activations::new);

    /**
     * {@code tokens} rows of {@code x [*, cols]} quantized into this thread's scratch (valid until its
     * next call), with the optional arrays named by {@code extras}.
     */
    static Int8Activations of(Parallel par, float[] x, int tokens, int cols, int extras) {
        Int8Activations a = SCRATCH.get();
        a.fill(par, x, tokens, cols, extras);
        return a;
    }

    /** As {@link #of}, into this object, with everything a kernel may read. */
    void fill(Parallel par, float[] x, int tokens, int cols) { fill(par, x, tokens, cols, ALL); }

    void fill(Parallel par, float[] x, int tokens, int cols, int extras) {
        this.extras = extras;
        if (cols % BLOCK != 0) throw new IllegalArgumentException("int8 activations need a multiple of " + BLOCK + " columns, got " + cols);
        this.tokens = tokens;
        this.cols = cols;
        this.blocks = cols / BLOCK;
        int n = tokens * cols, nb = tokens * blocks;
        if (q2.length < n) q2 = new int[n];
        if ((extras & NIB4) != 0 && nib4.length < nb * 34) nib4 = new int[nb * 34];
        if ((extras & Q80) != 0 && q80.length < nb * 33) q80 = new int[nb * 33];
        if ((extras & Y5) != 0 && y5.length < n / 16 * Y5_RUN) y5 = new int[n / 16 * Y5_RUN];
        if ((extras & Y6) != 0 && y6.length < nb * 45) y6 = new int[nb * 45];
        if ((extras & LANES6) != 0 && lanes6.length < nb * LANES6_BLOCK) lanes6 = new int[nb * LANES6_BLOCK];
        if (d.length < nb) { d = new float[nb]; sum = new int[nb]; sum8 = new int[4 * nb]; }
        if (par == null || tokens == 1) {
            quantizeBlocks(x, 0, nb);
            return;
        }
        par.forRange(nb, 256, (b0, b1) -> quantizeBlocks(x, b0, b1));
    }

    /** Int lanes per vector; the sums below are written for 4, 8 and 16. */
    private static final int L = I.length();
    /** Lanes [0, 8) of a 16-lane vector (the two sums of 8 in one vector). */
    private static final VectorMask<Integer> LOW8 = VectorMask.fromLong(I, 0xffL);
    /** Per position in a run of 16: 32 where Q5_K's multiplier subtracts 32 times the previous code. */
    private static final int[] Y5_BORROW = {0, 32, 32, 0, 32, 32, 0, 32, 32, 0, 32, 32, 0, 32, 32, 0};
    /** The same for Q6_K's runs of 8: 64 where its multiplier subtracts 64 times the previous code. */
    private static final int[] Y6_BORROW = {0, 64, 64, 0, 64, 64, 0, 64, 0, 64, 64, 0, 64, 64, 0, 64};
    /**
     * Per run of 8 in a vector, lanes 2 and 5 and the lanes whose 64-fold they lose (7 and 2): y6's last
     * two multipliers {@code 16 x2 - 64 x7, 16 x5 - 64 x2}, packed into the first L / 4 lanes.
     */
    private static final VectorShuffle<Integer> Y6_AT = runLanes(2, 5), Y6_LESS = runLanes(7, 2);
    private static final VectorMask<Integer> Y6_LAST = VectorMask.fromLong(I, (1L << Math.max(1, L / 4)) - 1);
    /** The odd lanes (pairs6's second multipliers). */
    private static final VectorMask<Integer> ODD = VectorMask.fromLong(I, 0xaaaaaaaaaaaaaaaaL);
    /** nib4: lanes {@code h L / 2 + i / 2} (half h of a vector, each lane twice: zipped with blend on ODD). */
    private static final VectorShuffle<Integer>[] ZIP = zips();
    /** nib4: each lane's previous lane within its unit of 4 (the unit's first lane: itself, and not in IN_UNIT). */
    private static final VectorShuffle<Integer> BEFORE = VectorShuffle.fromOp(I, i -> (i & 3) == 0 ? i : i - 1);
    private static final VectorMask<Integer> IN_UNIT = VectorMask.fromLong(I, 0xeeeeeeeeeeeeeeeeL);

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Integer>[] zips() {
        VectorShuffle<Integer>[] z = new VectorShuffle[2];
        for (int h = 0; h < 2; h++) {
            int base = h * L / 2;
            z[h] = VectorShuffle.fromOp(I, i -> base + i / 2);
        }
        return z;
    }

    private static VectorShuffle<Integer> runLanes(int first, int second) {
        int[] at = new int[L];
        for (int h = 0; h + 8 <= L; h += 8) {
            at[h / 4] = h + first;
            at[h / 4 + 1] = h + second;
        }
        return VectorShuffle.fromArray(I, at, 0);
    }

    /**
     * Blocks {@code [b0, b1)} counted over all tokens (rows are whole blocks, so a block never spans
     * two tokens). Everything is vector code (each code stored twice as in {@link Panels#twice}):
     * with the sums, Q4_0's multipliers and y5 as scalar loops over the codes this took 3.5 us for
     * 2048 values and 15 us for 8192 (22 with y5), on the calling thread of every decode matmul while the other threads
     * waited; now 1.9 and 8 (y5: 9, y6: 2.5 and 11; AMD EPYC).
     */
    private void quantizeBlocks(float[] x, int b0, int b1) {
        boolean withNib4 = (extras & NIB4) != 0, withQ80 = (extras & Q80) != 0, withY5 = (extras & Y5) != 0, withY6 = (extras & Y6) != 0, withLanes6 = (extras & LANES6) != 0;
        for (int b = b0; b < b1; b++) {
            int o = b * BLOCK;
            FloatVector m = FloatVector.zero(F);
            for (int j = 0; j < BLOCK; j += F.length()) m = m.max(FloatVector.fromArray(F, x, o + j).abs());
            float max = m.reduceLanes(VectorOperators.MAX);
            float scale = max / 127, inv = max == 0 ? 0 : 127 / max;
            int total = 0;
            IntVector prev = IntVector.zero(I), pair = prev;
            for (int j = 0; j < BLOCK; j += L) {
                FloatVector v = FloatVector.fromArray(F, x, o + j).mul(inv);
                // round half away from zero: add 0.5 with v's sign, then truncate (F2I)
                FloatVector half = (FloatVector) ((IntVector) v.reinterpretShape(I, 0)).and(0x80000000).or(0x3f000000).reinterpretShape(F, 0);
                IntVector q = (IntVector) v.add(half).convertShape(VectorOperators.F2I, I, 0);
                IntVector twice = q.and(0xffff).or(q.lanewise(VectorOperators.LSHL, 16));
                twice.intoArray(q2, o + j);
                if (withQ80) twice.intoArray(q80, 33 * b + j);
                // sums of 8 codes
                if (L == 16) {
                    int lo = q.reduceLanes(VectorOperators.ADD, LOW8), hi = q.reduceLanes(VectorOperators.ADD, LOW8.not());
                    sum8[4 * b + j / 8] = lo;
                    sum8[4 * b + j / 8 + 1] = hi;
                    total += lo + hi;
                } else if (L == 8) {
                    int s8 = q.reduceLanes(VectorOperators.ADD);
                    sum8[4 * b + j / 8] = s8;
                    total += s8;
                } else if (L == 4) {
                    if ((j & 4) == 0) pair = q;
                    else {
                        int s8 = pair.add(q).reduceLanes(VectorOperators.ADD);
                        sum8[4 * b + j / 8] = s8;
                        total += s8;
                    }
                } else throw new IllegalStateException(L + " int lanes per vector");
                // each lane's previous code (for y5 and y6; a run starts at lane 0, where nothing is borrowed)
                IntVector before = withY5 || withY6 ? prev.slice(L - 1, q) : q;
                // y6: each code less 64 times the one before it, where Y6_BORROW says so; then the
                // last two per run of 8, from the codes in this register (lanes: no store-to-load wait)
                if (withY6) {
                    IntVector y = q.sub(before.mul(IntVector.fromArray(I, Y6_BORROW, j & 15)));
                    y.and(0xffff).or(y.lanewise(VectorOperators.LSHL, 16)).intoArray(y6, 45 * b + 22 * (j >> 4) + (j & 15));
                    if (L >= 8) {
                        IntVector e = q.rearrange(Y6_AT).mul(16).sub(q.rearrange(Y6_LESS).mul(64));
                        e.and(0xffff).or(e.lanewise(VectorOperators.LSHL, 16)).intoArray(y6, 45 * b + 22 * (j >> 4) + 16 + (j & 8) / 4, Y6_LAST);
                    }
                }
                // y5: each code less 32 times the one before it, where Y5_BORROW says so
                if (withY5) {
                    IntVector y = q.sub(before.mul(IntVector.fromArray(I, Y5_BORROW, j & 15)));
                    y.and(0xffff).or(y.lanewise(VectorOperators.LSHL, 16)).intoArray(y5, (o + j) / 16 * Y5_RUN + (j & 15));
                }
                prev = q;
            }
            // nib4: the codes in unit order (columns 2u, 2u + 16, 2u + 1, 2u + 17: the first and the
            // second half's codes zipped), each less 16 times the one before it within its unit; read
            // back from q2 with the widths of the stores above, so each load takes its store's data
            for (int v = 0; withNib4 && v < BLOCK / L; v++) {
                VectorShuffle<Integer> zip = ZIP[v & 1];
                IntVector e = IntVector.fromArray(I, q2, o + (v >> 1) * L), f = IntVector.fromArray(I, q2, o + 16 + (v >> 1) * L);
                IntVector z = e.rearrange(zip).blend(f.rearrange(zip), ODD).lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16);
                IntVector y = z.sub(z.rearrange(BEFORE).lanewise(VectorOperators.LSHL, 4), IN_UNIT);
                y.and(0xffff).or(y.lanewise(VectorOperators.LSHL, 16)).intoArray(nib4, 34 * b + 1 + v * L);
            }
            d[b] = scale;
            sum[b] = total;
            if (withQ80) q80[33 * b + 32] = Float.floatToRawIntBits(scale);
            if (withNib4) {
                nib4[34 * b] = Panels.twice(-8 * total);
                nib4[34 * b + 33] = Float.floatToRawIntBits(scale);
            }
            if (withY6) {
                for (int r = 0; r < 4; r++) y6[45 * b + 22 * (r >> 1) + 20 + (r & 1)] = Panels.twice(-32 * sum8[4 * b + r]);
                y6[45 * b + 44] = Float.floatToRawIntBits(scale);
            }
            if (withLanes6) {
                for (int r = 0; r < 4; r++) lanes6[LANES6_BLOCK * b + LANES6_RUN * r + 10] = Panels.twice(-32 * sum8[4 * b + r]);
                lanes6[LANES6_BLOCK * b + 4 * LANES6_RUN] = Float.floatToRawIntBits(scale);
            }
        }
        // y5's last five per run (the sixteenth code's bits), from the stored codes once all are stored
        for (int k = b0 * BLOCK; withY5 && k < b1 * BLOCK; k += 16) {
            int at = k / 16 * Y5_RUN + 16, x15 = (short) q2[k + 15];
            for (int j = 0; j < 5; j++) y5[at + j] = Panels.twice((x15 << j) - 32 * (short) q2[k + 3 * j + 2]);
        }
        // lanes6's multipliers, from the stored codes once all are stored (a scalar loop: ~5 ns a
        // run, under 2% of a Q6_K matmul's time per token at any shape)
        for (int k = b0 * BLOCK; withLanes6 && k < b1 * BLOCK; k += 8) {
            int at = LANES6_BLOCK * (k / 32) + LANES6_RUN * ((k & 31) >> 3), x2 = (short) q2[k + 2], x5 = (short) q2[k + 5];
            for (int j = 0; j < 2; j++, at += 3) {  // lanes A and B: codes 3j and 3j + 1 whole, the low four bits of code 3j + 2
                int xa = (short) q2[k + 3 * j], xb = (short) q2[k + 3 * j + 1], xc = (short) q2[k + 3 * j + 2];
                lanes6[at] = Panels.twice(xa);
                lanes6[at + 1] = Panels.twice(xb - 64 * xa);
                lanes6[at + 2] = Panels.twice(xc - 64 * xb);
            }
            int x6 = (short) q2[k + 6], x7 = (short) q2[k + 7];  // lane C: codes 6 and 7 whole, the top two bits of codes 2 and 5
            lanes6[at] = Panels.twice(x6);
            lanes6[at + 1] = Panels.twice(x7 - 64 * x6);
            lanes6[at + 2] = Panels.twice(16 * x2 - 64 * x7);
            lanes6[at + 3] = Panels.twice(16 * x5 - 64 * x2);
        }
        // y6's last two per run with vectors narrower than a run: from the stored codes once all are
        // stored (read right after the vector stores that wrote them, each load waits for its store)
        for (int k = b0 * BLOCK; withY6 && L < 8 && k < b1 * BLOCK; k += 8) {
            int x2 = (short) q2[k + 2], x5 = (short) q2[k + 5], x7 = (short) q2[k + 7], at = 45 * (k / 32) + 22 * ((k & 31) >> 4) + 16 + (k & 8) / 4;
            y6[at] = Panels.twice(16 * x2 - 64 * x7);
            y6[at + 1] = Panels.twice(16 * x5 - 64 * x2);
        }
    }
}

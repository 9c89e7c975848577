package jllm.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Common base of the dense formats: a little-endian byte segment of {@code numel * bytes} bytes. */
abstract sealed class SegmentTensor extends Tensor permits F32Tensor, F16Tensor, BF16Tensor {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** The 16-bit formats' halves: one load of these widens to one fp32 vector. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, jdk.incubator.vector.VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;

    final MemorySegment seg;

    SegmentTensor(MemorySegment seg, long[] shape) {
        super(shape);
        long need = Math.multiplyExact(numel, (long) dtype().bytes);
        if (seg.byteSize() != need)
            throw new IllegalArgumentException(dtype() + Shapes.str(shape) + " needs " + need + " bytes, got " + seg.byteSize());
        this.seg = seg;
    }

    @Override
    public final MemorySegment segment() { return seg; }

    abstract Tensor make(MemorySegment seg, long[] shape);

    /** Counts elements whose exponent bits are all ones: {@code mask} is the exponent field of a 2- or 4-byte element. */
    final long countExponentAllOnes(int mask) {
        int bytes = dtype().bytes;
        long n = numel, bad = 0, i = 0;
        if (bytes == 2) {
            VectorSpecies<Short> sp = ShortVector.SPECIES_PREFERRED;
            short m = (short) mask;
            for (long end = n - sp.length(); i <= end; i += sp.length())
                bad += ShortVector.fromMemorySegment(sp, seg, i * 2, LE).and(m).compare(VectorOperators.EQ, m).trueCount();
            for (; i < n; i++) if ((seg.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, i * 2) & mask) == mask) bad++;
        } else {
            VectorSpecies<Integer> sp = IntVector.SPECIES_PREFERRED;
            for (long end = n - sp.length(); i <= end; i += sp.length())
                bad += IntVector.fromMemorySegment(sp, seg, i * 4, LE).and(mask).compare(VectorOperators.EQ, mask).trueCount();
            for (; i < n; i++) if ((seg.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, i * 4) & mask) == mask) bad++;
        }
        return bad;
    }

    @Override
    public final Tensor rows(long from, long count) {
        checkRows(from, count);
        long rs = rowSize() * dtype().bytes;
        return make(seg.asSlice(from * rs, count * rs), rowsShape(count));
    }

    @Override
    public final Tensor reshape(long... newShape) {
        checkReshape(newShape);
        return make(seg, newShape);
    }

    /** Rows a decode pass reads side by side ({@link #streams}). */
    static final int STREAMS = 4;

    /**
     * Decode (1-3 tokens) of a 16-bit format's rows {@code [r0, r0 + 4q)}, {@code q = (r1 - r0) / 4}, through
     * {@link #streams}; returns the first row left to the caller (all of them where the rows' length is
     * not a multiple of two vectors). The widening of a half {@code h}, sign-extended to 32 bits, is
     * {@code (h << shift) & mask} read as an fp32: BF16 16 and -1 (exact), F16 13 and 0x8fffffff
     * (the half's value times 2^-112, for finite halves: {@code x} comes pre-scaled, F16Tensor.prescaled).
     */
    final int streamRows(MemorySegment g, int shift, int mask, float[] x, int tokens, float[] y, int r0, int r1, float[] bias) {
        int in = dim(1), out = dim(0), q = (r1 - r0) / STREAMS;
        if (q == 0 || in % (2 * F.length()) != 0) return r0;
        long rb = in * 2L;
        for (int i = 0; i < q; i++)
            for (int t = 0; t < tokens; t++) streams(g, (r0 + i) * rb, q * rb, shift, mask, x, t * in, in, y, t * out + r0 + i, q, bias, r0 + i);
        return r0 + STREAMS * q;
    }

    /**
     * Rows {@code r + s q} for {@code s < }{@value #STREAMS} at once (rows {@code q} apart, {@code stride
     * = q in 2} bytes), each in two accumulators (even and odd vectors of columns, the formats' {@code
     * dot} order): {@code y[yo + s q] = row (r + s q) . x + bias}. Decode streams the weights once per
     * token, and one row after another (a 4 KiB row at 2048 columns, one page of the file mapping)
     * kept too few reads in flight: on the AMD EPYC Zen 3 (AVX2, 2 threads, an F16 [65536, 2048] file
     * mapping) rows one at a time read at 12.8-15.9 GB/s, two rows half a chunk apart at 16.7-17.1,
     * four rows a quarter apart at 17.1-18.3 (median passes); at 8192 columns 13.0-13.2 against
     * 19.0-19.4, where the row-interleaved copy that long rows used to decode from (one stream) read at
     * 10.5-11.1. Each x load also feeds four rows, which is what that copy was for: a long row's fp32 x
     * (32 KiB at 8192 columns) does not stay in L1 beside the weight stream. The widening is written
     * out: a helper returning a vector was not inlined and boxed every vector (5 Gw/s instead of 14.6,
     * AMD EPYC Zen 4); the shift count and mask are loop-invariant.
     */
    private static void streams(MemorySegment g, long base, long stride, int shift, int mask, float[] x, int xOff, int n, float[] y, int yo, int q, float[] bias, int r) {
        int step = F.length();
        long o = base, s2 = 2 * stride, s3 = 3 * stride, half = step * 2L;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        for (int i = 0; i < n; i += 2 * step, o += 2 * half) {
            if (Prefetch.KERNELS && (i & (Prefetch.ROW_EVERY - 1)) == 0) Prefetch.rowsAhead(g, o, stride);
            FloatVector x0 = FloatVector.fromArray(F, x, xOff + i), x1 = FloatVector.fromArray(F, x, xOff + i + step);
            a0 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretShape(F, 0)).fma(x0, a0);
            a1 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + half, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretShape(F, 0)).fma(x1, a1);
            b0 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + stride, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretShape(F, 0)).fma(x0, b0);
            b1 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + stride + half, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretShape(F, 0)).fma(x1, b1);
            c0 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + s2, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretShape(F, 0)).fma(x0, c0);
            c1 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + s2 + half, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretShape(F, 0)).fma(x1, c1);
            d0 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + s3, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretShape(F, 0)).fma(x0, d0);
            d1 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + s3 + half, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretShape(F, 0)).fma(x1, d1);
        }
        y[yo] = a0.add(a1).reduceLanes(VectorOperators.ADD) + (bias == null ? 0f : bias[r]);
        y[yo + q] = b0.add(b1).reduceLanes(VectorOperators.ADD) + (bias == null ? 0f : bias[r + q]);
        y[yo + 2 * q] = c0.add(c1).reduceLanes(VectorOperators.ADD) + (bias == null ? 0f : bias[r + 2 * q]);
        y[yo + 3 * q] = d0.add(d1).reduceLanes(VectorOperators.ADD) + (bias == null ? 0f : bias[r + 3 * q]);
    }

    /**
     * For prefill ({@link PanelMatmul}): rows {@code [row0, row0 + rows)} of a 16-bit format four at a
     * time, per L columns the four rows' halves widened in registers ({@code ((h << shift) & mask)
     * scale}, see {@link #streamRows}) and transposed ({@link PanelMatmul#storeQuads}) into its
     * interleaved layout, instead of a widening pass into a scratch array and an interleaving pass over
     * it (F16: 13% of a 1B model's prefill samples for the two passes, 10% for this one, AMD EPYC Zen
     * 3). False where the rows do not come in fours or their length is not a multiple of L.
     */
    final boolean interleaveHalves(MemorySegment g, int row0, int rows, int shift, int mask, float scale, float[] wt) {
        int in = dim(1), step = F.length();
        if (rows % 4 != 0 || in % step != 0) return false;
        long rb = in * 2L;
        int d = 0;
        for (int r = row0; r < row0 + rows; r += 4) {
            long o = (long) r * rb;
            for (int k = 0; k < in; k += step, d += 4 * step, o += step * 2L) {
                FloatVector w0 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretShape(F, 0)).mul(scale);
                FloatVector w1 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + rb, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretShape(F, 0)).mul(scale);
                FloatVector w2 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + 2 * rb, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretShape(F, 0)).mul(scale);
                FloatVector w3 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + 3 * rb, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretShape(F, 0)).mul(scale);
                PanelMatmul.storeQuads(w0, w1, w2, w3, wt, d);
            }
        }
        return true;
    }
}

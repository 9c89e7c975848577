package jllm.tensor;

import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/** bfloat16: the top 16 bits of an fp32, so widening is an exact shift. */
public final class BF16Tensor extends SegmentTensor {
    private static final java.lang.foreign.ValueLayout.OfShort LES = JAVA_SHORT_UNALIGNED.withOrder(LE);

    public BF16Tensor(MemorySegment seg, long... shape) { super(seg, shape); }

    @Override public long nonFinite() { return countExponentAllOnes(0x7f80); }

    @Override public DType dtype() { return DType.BF16; }

    @Override Tensor make(MemorySegment s, long[] shape) { return new BF16Tensor(s, shape); }

    public static float toFloat(short bits) { return Float.intBitsToFloat((bits & 0xffff) << 16); }

    /** Round-to-nearest-even, as torch's {@code .to(torch.bfloat16)}; NaN stays NaN. */
    public static short fromFloat(float f) {
        int b = Float.floatToRawIntBits(f);
        if ((b & 0x7fffffff) > 0x7f800000) return (short) ((b >>> 16) | 0x40);
        return (short) ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16);
    }

    @Override public float get(long i) { return toFloat(seg.get(LES, i * 2)); }

    @Override
    public void read(long from, float[] dst, int dstOff, int n) {
        int i = 0;
        for (int upper = n - F.length(); i <= upper; i += F.length()) load((from + i) * 2).intoArray(dst, dstOff + i);
        for (; i < n; i++) dst[dstOff + i] = toFloat(seg.get(LES, (from + i) * 2));
    }

    private FloatVector load(long byteOff) {
        return ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, seg, byteOff, LE).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0));
    }

    /** Two accumulators, even and odd vectors of columns, as {@link #streamRows} sums each row. */
    @Override
    public float dot(long from, float[] x, int xOff, int n) {
        long base = from * 2;
        int step = F.length(), i = 0;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        for (int upper = n - 2 * step; i <= upper; i += 2 * step) {
            a0 = load(base + i * 2L).fma(FloatVector.fromArray(F, x, xOff + i), a0);
            a1 = load(base + (i + step) * 2L).fma(FloatVector.fromArray(F, x, xOff + i + step), a1);
        }
        for (int upper = n - step; i <= upper; i += step)
            a0 = load(base + i * 2L).fma(FloatVector.fromArray(F, x, xOff + i), a0);
        float r = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) r += toFloat(seg.get(LES, base + i * 2L)) * x[xOff + i];
        return r;
    }

    /** Decode: four rows a quarter of the range apart at a time ({@link #streamRows}), the rest row by row. */
    @Override
    public void matmulRows(float[] x, int tokens, float[] y, int r0, int r1, float[] bias) {
        int rest = tokens < 4 ? streamRows(seg, 16, -1, x, tokens, y, r0, r1, bias) : r0;
        super.matmulRows(x, tokens, y, rest, r1, bias);
    }

    /** For prefill: {@link #interleaveHalves}, widening by a shift. */
    @Override
    boolean readInterleaved(int row0, int rows, float[] wt) {
        return interleaveHalves(seg, row0, rows, 16, -1, 1f, wt);
    }
}

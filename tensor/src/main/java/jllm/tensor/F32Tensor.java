package jllm.tensor;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

public final class F32Tensor extends SegmentTensor {
    private static final java.lang.foreign.ValueLayout.OfFloat LEF = JAVA_FLOAT_UNALIGNED.withOrder(LE);

    public F32Tensor(MemorySegment seg, long... shape) { super(seg, shape); }

    /** Copies {@code data} off-heap (Vector API loads from heap segments need byte[] backing). */
    public static F32Tensor of(float[] data, long... shape) {
        MemorySegment s = Arena.ofAuto().allocate((long) data.length * 4, 64);
        MemorySegment.copy(data, 0, s, LEF, 0, data.length);
        return new F32Tensor(s, shape);
    }

    @Override public long nonFinite() { return countExponentAllOnes(0x7f800000); }

    @Override public DType dtype() { return DType.F32; }

    @Override Tensor make(MemorySegment s, long[] shape) { return new F32Tensor(s, shape); }

    @Override public float get(long i) { return seg.get(LEF, i * 4); }

    @Override
    public void read(long from, float[] dst, int dstOff, int n) {
        MemorySegment.copy(seg, LEF, from * 4, dst, dstOff, n);
    }

    @Override
    public float dot(long from, float[] x, int xOff, int n) {
        long base = from * 4;
        int step = F.length(), i = 0;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        for (int upper = n - 2 * step; i <= upper; i += 2 * step) {
            a0 = FloatVector.fromMemorySegment(F, seg, base + i * 4L, LE).fma(FloatVector.fromArray(F, x, xOff + i), a0);
            a1 = FloatVector.fromMemorySegment(F, seg, base + (i + step) * 4L, LE).fma(FloatVector.fromArray(F, x, xOff + i + step), a1);
        }
        for (int upper = n - step; i <= upper; i += step)
            a0 = FloatVector.fromMemorySegment(F, seg, base + i * 4L, LE).fma(FloatVector.fromArray(F, x, xOff + i), a0);
        float r = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) r += seg.get(LEF, base + i * 4L) * x[xOff + i];
        return r;
    }
}

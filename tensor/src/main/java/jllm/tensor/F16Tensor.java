package jllm.tensor;

import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** IEEE half precision. */
public final class F16Tensor extends SegmentTensor {
    private static final java.lang.foreign.ValueLayout.OfShort LES = JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, jdk.incubator.vector.VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** 2^112: rebiases a half exponent (bias 15) placed in an fp32 exponent field (bias 127). */
    private static final float REBIAS = 0x1p112f;

    public F16Tensor(MemorySegment seg, long... shape) { super(seg, shape); }

    @Override public DType dtype() { return DType.F16; }

    @Override Tensor make(MemorySegment s, long[] shape) { return new F16Tensor(s, shape); }

    @Override public float get(long i) { return Float.float16ToFloat(seg.get(LES, i * 2)); }

    @Override
    public void read(long from, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) dst[dstOff + i] = Float.float16ToFloat(seg.get(LES, (from + i) * 2));
    }

    /**
     * Widening without a per-lane branch: the 15 magnitude bits shifted into an fp32 and multiplied
     * by 2^112 give exactly the half's value for normals and subnormals alike; exponent 31 (inf/NaN)
     * is patched with a mask, and the sign is or-ed back in.
     */
    private FloatVector load(long byteOff) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, seg, byteOff, LE).convertShape(VectorOperators.S2I, I, 0);
        IntVector mag = h.and(0x7fff);
        FloatVector v = mag.lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(REBIAS);
        VectorMask<Integer> special = mag.compare(VectorOperators.GE, 0x7c00);
        IntVector bits = v.reinterpretAsInts().blend(mag.lanewise(VectorOperators.LSHL, 13).or(0x7f800000), special);
        return bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    @Override
    public float dot(long from, float[] x, int xOff, int n) {
        long base = from * 2;
        int step = F.length(), i = 0;
        FloatVector acc = FloatVector.zero(F);
        for (int upper = n - step; i <= upper; i += step)
            acc = load(base + i * 2L).fma(FloatVector.fromArray(F, x, xOff + i), acc);
        float r = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) r += Float.float16ToFloat(seg.get(LES, base + i * 2L)) * x[xOff + i];
        return r;
    }
}

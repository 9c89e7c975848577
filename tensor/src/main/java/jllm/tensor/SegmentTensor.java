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
}

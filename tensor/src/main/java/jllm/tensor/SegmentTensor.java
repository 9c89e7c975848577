package jllm.tensor;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
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

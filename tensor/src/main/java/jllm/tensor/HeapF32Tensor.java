package jllm.tensor;

import java.lang.foreign.MemorySegment;

/**
 * An fp32 weight over a heap {@code float[]} that the caller owns and may change between calls: a
 * trainable weight's master values (the optimiser updates the array, the next forward reads it).
 * Stored weights stay in their mapped formats; this is for the ones being trained.
 */
public final class HeapF32Tensor extends Tensor {
    private final float[] a;
    private final int off;

    public HeapF32Tensor(float[] a, long... shape) { this(a, 0, shape); }

    private HeapF32Tensor(float[] a, int off, long[] shape) {
        super(shape);
        if (off < 0 || off + numel > a.length) throw new IllegalArgumentException(Shapes.str(shape) + " at " + off + " does not fit " + a.length + " values");
        this.a = a;
        this.off = off;
    }

    /** The values (shared, not copied); element i of this tensor is {@code values()[offset() + i]}. */
    public float[] values() { return a; }

    public int offset() { return off; }

    @Override public DType dtype() { return DType.F32; }

    @Override public float get(long i) { return a[off + (int) i]; }

    @Override
    public void read(long from, float[] dst, int dstOff, int n) {
        System.arraycopy(a, off + (int) from, dst, dstOff, n);
    }

    @Override
    public float dot(long from, float[] x, int xOff, int n) {
        return CpuBackend.dot(a, off + (int) from, x, xOff, n);
    }

    @Override public MemorySegment segment() { return MemorySegment.ofArray(a).asSlice(4L * off, 4L * numel); }

    @Override
    public Tensor rows(long from, long count) {
        checkRows(from, count);
        return new HeapF32Tensor(a, off + (int) (from * rowSize()), rowsShape(count));
    }

    @Override
    public Tensor reshape(long... newShape) {
        checkReshape(newShape);
        return new HeapF32Tensor(a, off, newShape);
    }

}

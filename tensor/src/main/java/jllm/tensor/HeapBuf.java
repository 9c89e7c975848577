package jllm.tensor;

import java.lang.foreign.MemorySegment;

/**
 * The CPU backend's buffer: a heap {@code float[]}. A heap array rather than an off-heap segment
 * because every tuned CPU kernel (the format dot kernels, {@link PanelMatmul}, the attention and
 * norm loops) loads with {@code FloatVector.fromArray}, which C2 compiles to plain vector loads
 * with hoisted bounds checks; loads from heap segments need {@code byte[]} backing and off-heap ones
 * add a liveness check per access. {@link #segment()} gives a {@link MemorySegment} view of the
 * same memory for FFM users (copying to a device, writing files) without a copy.
 */
public final class HeapBuf extends Buf {
    private final float[] a;

    public HeapBuf(int size) {
        super(size);
        this.a = new float[size];
    }

    /** A buffer over {@code a} itself (shared, not copied): trainable values and their gradients on the CPU. */
    public HeapBuf(float[] a) {
        super(a.length);
        this.a = a;
    }

    public float[] array() { return a; }

    public MemorySegment segment() { return MemorySegment.ofArray(a); }

    /** The array behind a CPU buffer; anything else is a programming error (a buffer from another backend). */
    public static float[] of(Buf b) {
        if (b == null) return null;
        if (b instanceof HeapBuf h) return h.a;
        throw new IllegalArgumentException(b + " is not a CPU buffer");
    }
}

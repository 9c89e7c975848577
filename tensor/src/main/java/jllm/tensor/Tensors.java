package jllm.tensor;

import java.lang.foreign.MemorySegment;

/** Builds a tensor of any supported ggml type over bytes laid out as GGUF stores them. */
public final class Tensors {
    private Tensors() {}

    /**
     * A view of {@code seg} as a tensor of {@code type} with {@code shape} in HF order (last dimension
     * fastest, i.e. GGUF's {@code ne} reversed). The segment must hold exactly the tensor's bytes and the
     * last dimension must be a whole number of blocks.
     */
    public static Tensor of(GgmlType type, MemorySegment seg, long... shape) {
        for (long d : shape) if (d < 0) throw new IllegalArgumentException("negative dimension in " + Shapes.str(shape));
        if (type.factory == null) throw new IllegalArgumentException("ggml type " + type + " (id " + type.id + ") has no tensor implementation");
        return type.factory.make(seg, shape);
    }

    /** As {@link #of(GgmlType, MemorySegment, long...)} from a ggml type id. */
    public static Tensor of(int typeId, MemorySegment seg, long... shape) {
        return of(GgmlType.fromId(typeId), seg, shape);
    }
}

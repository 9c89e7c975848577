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
        return switch (type) {
            case F32 -> new F32Tensor(seg, shape);
            case F16 -> new F16Tensor(seg, shape);
            case BF16 -> new BF16Tensor(seg, shape);
            case Q8_0 -> new Q8_0Tensor(seg, shape);
            case Q4_0 -> new Q4_0Tensor(seg, shape);
            case Q4_1 -> new Q4_1Tensor(seg, shape);
            case Q5_0 -> new Q5_0Tensor(seg, shape);
            case Q5_1 -> new Q5_1Tensor(seg, shape);
            case Q4_K -> new Q4_KTensor(seg, shape);
            case Q5_K -> new Q5_KTensor(seg, shape);
            case Q6_K -> new Q6_KTensor(seg, shape);
            default -> throw new IllegalArgumentException("ggml type " + type + " (id " + type.id + ") has no tensor implementation");
        };
    }

    /** As {@link #of(GgmlType, MemorySegment, long...)} from a ggml type id. */
    public static Tensor of(int typeId, MemorySegment seg, long... shape) {
        return of(GgmlType.fromId(typeId), seg, shape);
    }
}

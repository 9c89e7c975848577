package jllm.tensor;

/** Element types of stored tensors. Float types can be read as fp32; integer types hold ids and masks. */
public enum DType {
    F32(4, true), F16(2, true), BF16(2, true), F64(8, true),
    I8(1, false), U8(1, false), I16(2, false), U16(2, false), I32(4, false), U32(4, false),
    I64(8, false), U64(8, false), BOOL(1, false), F8_E4M3(1, true), F8_E5M2(1, true),
    /** Block-quantized ggml types: {@code bytes} is 0, sizes come from {@link GgmlType}. */
    Q4_0(0, true), Q4_1(0, true), Q5_0(0, true), Q5_1(0, true), Q8_0(0, true), Q4_K(0, true), Q5_K(0, true), Q6_K(0, true);

    public final int bytes;
    public final boolean floating;

    DType(int bytes, boolean floating) {
        this.bytes = bytes;
        this.floating = floating;
    }
}

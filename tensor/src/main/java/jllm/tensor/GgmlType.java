package jllm.tensor;

import java.lang.foreign.MemorySegment;

/**
 * ggml tensor types as GGUF numbers them, and the one table of what each type is here (in the manner
 * of ggml's type traits): id, values and bytes per block, the {@link DType} its tensors report, how a
 * tensor is built over its bytes ({@link Tensors#of}) and how fp32 values are encoded into it
 * ({@link Quantizer}). Adding a format is one line here plus its {@link QuantTensor} class and encoder.
 * Types without a tensor class are listed so readers can size, skip and name them in errors.
 */
public enum GgmlType {
    F32(0, 1, 4, DType.F32, F32Tensor::new, Quantizer::f32),
    F16(1, 1, 2, DType.F16, F16Tensor::new, Quantizer::f16),
    Q4_0(2, 32, 18, DType.Q4_0, Q4_0Tensor::new, Quantizer::q4_0),
    Q4_1(3, 32, 20, DType.Q4_1, Q4_1Tensor::new, Quantizer::q4_1),
    Q5_0(6, 32, 22, DType.Q5_0, Q5_0Tensor::new, Quantizer::q5_0),
    Q5_1(7, 32, 24, DType.Q5_1, Q5_1Tensor::new, Quantizer::q5_1),
    Q8_0(8, 32, 34, DType.Q8_0, Q8_0Tensor::new, Quantizer::q8_0),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84), Q3_K(11, 256, 110),
    Q4_K(12, 256, 144, DType.Q4_K, Q4_KTensor::new, Quantizer::q4_K),
    Q5_K(13, 256, 176, DType.Q5_K, Q5_KTensor::new, Quantizer::q5_K),
    Q6_K(14, 256, 210, DType.Q6_K, Q6_KTensor::new, Quantizer::q6_K),
    Q8_K(15, 256, 292), IQ2_XXS(16, 256, 66), IQ2_XS(17, 256, 74), IQ3_XXS(18, 256, 98), IQ1_S(19, 256, 50),
    IQ4_NL(20, 32, 18), IQ3_S(21, 256, 110), IQ2_S(22, 256, 82), IQ4_XS(23, 256, 136),
    I8(24, 1, 1, DType.I8), I16(25, 1, 2, DType.I16), I32(26, 1, 4, DType.I32), I64(27, 1, 8, DType.I64), F64(28, 1, 8, DType.F64),
    IQ1_M(29, 256, 56),
    BF16(30, 1, 2, DType.BF16, BF16Tensor::new, Quantizer::bf16),
    TQ1_0(34, 256, 54), TQ2_0(35, 256, 66), MXFP4(39, 32, 17);

    /** Builds a tensor of this type over its stored bytes (shape in HF order). */
    @FunctionalInterface
    interface Factory { Tensor make(MemorySegment seg, long[] shape); }

    /** Encodes one block of fp32 values {@code src[s .. s + blockSize)} into {@code out[o .. o + blockBytes)}. */
    @FunctionalInterface
    interface Encoder { void encode(float[] src, int s, byte[] out, int o); }

    public final int id, blockSize, blockBytes;
    /** Whether {@link Tensors#of} can build a tensor of this type. */
    public final boolean supported;
    /** The element type its tensors report; null for types this project does not read. */
    public final DType dtype;
    final Factory factory;
    final Encoder encoder;

    private static final GgmlType[] BY_ID = new GgmlType[40];

    static {
        for (GgmlType t : values()) BY_ID[t.id] = t;
    }

    GgmlType(int id, int blockSize, int blockBytes) { this(id, blockSize, blockBytes, null, null, null); }

    GgmlType(int id, int blockSize, int blockBytes, DType dtype) { this(id, blockSize, blockBytes, dtype, null, null); }

    GgmlType(int id, int blockSize, int blockBytes, DType dtype, Factory factory, Encoder encoder) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.dtype = dtype;
        this.factory = factory;
        this.encoder = encoder;
        this.supported = factory != null;
    }

    /** The type with ggml id {@code id}; ids ggml retired or never assigned are refused. */
    public static GgmlType fromId(int id) {
        GgmlType t = byId(id);
        if (t == null) throw new IllegalArgumentException("unknown ggml type id " + id);
        return t;
    }

    /** The type with ggml id {@code id}, or null when ggml has none. */
    public static GgmlType byId(int id) { return id >= 0 && id < BY_ID.length ? BY_ID[id] : null; }

    /** Bytes of a row of {@code cols} values; {@code cols} must be a whole number of blocks. */
    public long rowBytes(long cols) {
        if (cols < 0 || cols % blockSize != 0)
            throw new IllegalArgumentException(this + " rows must hold a multiple of " + blockSize + " values, got " + cols);
        return Math.multiplyExact(cols / blockSize, (long) blockBytes);
    }

    /** Bytes of a tensor of {@code shape} (HF order, last dimension fastest). */
    public long bytes(long... shape) {
        if (shape.length == 0) return rowBytes(1);
        long rows = 1;
        for (int i = 0; i < shape.length - 1; i++) rows = Math.multiplyExact(rows, shape[i]);
        if (rows < 0) throw new IllegalArgumentException("negative dimension");
        return Math.multiplyExact(rows, rowBytes(shape[shape.length - 1]));
    }

    /** The dense dtype behind a one-value-per-block type, or null for block-quantized types. */
    public DType dense() { return blockSize == 1 ? dtype : null; }
}

package jllm.tensor;

/**
 * ggml tensor types as GGUF numbers them: id, values per block and bytes per block. Only some of
 * them have a {@link Tensor} implementation ({@link #supported}); the rest are listed so a reader
 * can name them in its errors and compute their sizes to skip them.
 */
public enum GgmlType {
    F32(0, 1, 4, true), F16(1, 1, 2, true), Q4_0(2, 32, 18, true), Q4_1(3, 32, 20, true),
    Q5_0(6, 32, 22, true), Q5_1(7, 32, 24, true), Q8_0(8, 32, 34, true), Q8_1(9, 32, 36, false),
    Q2_K(10, 256, 84, false), Q3_K(11, 256, 110, false), Q4_K(12, 256, 144, true), Q5_K(13, 256, 176, true),
    Q6_K(14, 256, 210, true), Q8_K(15, 256, 292, false), IQ2_XXS(16, 256, 66, false), IQ2_XS(17, 256, 74, false),
    IQ3_XXS(18, 256, 98, false), IQ1_S(19, 256, 50, false), IQ4_NL(20, 32, 18, false), IQ3_S(21, 256, 110, false),
    IQ2_S(22, 256, 82, false), IQ4_XS(23, 256, 136, false), I8(24, 1, 1, false), I16(25, 1, 2, false),
    I32(26, 1, 4, false), I64(27, 1, 8, false), F64(28, 1, 8, false), IQ1_M(29, 256, 56, false),
    BF16(30, 1, 2, true), TQ1_0(34, 256, 54, false), TQ2_0(35, 256, 66, false), MXFP4(39, 32, 17, false);

    public final int id, blockSize, blockBytes;
    /** Whether {@link Tensors#of} can build a tensor of this type. */
    public final boolean supported;

    private static final GgmlType[] BY_ID = new GgmlType[40];

    static {
        for (GgmlType t : values()) BY_ID[t.id] = t;
    }

    GgmlType(int id, int blockSize, int blockBytes, boolean supported) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.supported = supported;
    }

    /** The type with ggml id {@code id}; ids ggml retired or never assigned are refused. */
    public static GgmlType fromId(int id) {
        GgmlType t = id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
        if (t == null) throw new IllegalArgumentException("unknown ggml type id " + id);
        return t;
    }

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
    public DType dense() {
        return switch (this) {
            case F32 -> DType.F32;
            case F16 -> DType.F16;
            case BF16 -> DType.BF16;
            case F64 -> DType.F64;
            case I8 -> DType.I8;
            case I16 -> DType.I16;
            case I32 -> DType.I32;
            case I64 -> DType.I64;
            default -> null;
        };
    }
}

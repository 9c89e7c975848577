package jllm.tensor;

import java.util.Locale;

/**
 * How a KV cache stores keys and values. F32 keeps the values transformers computes (exact parity);
 * F16 (llama.cpp's default) and Q8_0 (8-bit blocks of 32 values along the head dimension, one fp32
 * scale per block, ggml's q8_0 rounding) halve and quarter the memory and the bytes each decode
 * step reads, at a bounded error (docs/quantization-and-speed.md, "Long context").
 */
public enum KvType {
    F32, F16, Q8_0;

    /** Values per Q8_0 block (and scale), along the head dimension. */
    public static final int Q8_BLOCK = 32;

    /** Bytes per position for one layer of {@code kvHeads x headDim} keys and as many values. */
    public long bytesPerPosition(int kvHeads, int headDim) {
        long perHead = switch (this) {
            case F32 -> 4L * headDim;
            case F16 -> 2L * headDim;
            case Q8_0 -> headDim + 4L * ((headDim + Q8_BLOCK - 1) / Q8_BLOCK);
        };
        return 2 * kvHeads * perHead;
    }

    /** Parses {@code f32 | f16 | q8_0} (any case), naming the accepted values otherwise. */
    public static KvType parse(String s) {
        for (KvType t : values()) if (t.name().equalsIgnoreCase(s)) return t;
        throw new IllegalArgumentException("unknown KV cache type '" + s + "': use f32, f16 or q8_0");
    }

    @Override public String toString() { return name().toLowerCase(Locale.ROOT); }
}

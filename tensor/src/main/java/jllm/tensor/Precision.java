package jllm.tensor;

import java.util.Locale;

/**
 * A floating-point dtype a forward pass can hold values in: what a PyTorch tensor cast to it keeps
 * ({@code x.to(torch.bfloat16)}: round to nearest, ties to even; overflow to infinity; NaN stays NaN).
 * Values stay Java floats; rounding only drops the bits the dtype does not have.
 */
public enum Precision {
    FP32("fp32"), BF16("bf16"), FP16("fp16");

    /** The name used on the command line and in JSON. */
    public final String key;

    Precision(String key) { this.key = key; }

    public float round(float x) {
        return switch (this) {
            case FP32 -> x;
            case BF16 -> BF16Tensor.toFloat(BF16Tensor.fromFloat(x));
            case FP16 -> Float.float16ToFloat(Float.floatToFloat16(x));
        };
    }

    /** Rounds {@code a[off, off + n)} in place. */
    public void round(float[] a, int off, int n) {
        if (this == FP32) return;
        for (int i = off; i < off + n; i++) a[i] = round(a[i]);
    }

    public void round(float[] a) { round(a, 0, a.length); }

    /** {@code fp32|float32|f32}, {@code bf16|bfloat16}, {@code fp16|float16|f16}. */
    public static Precision of(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "fp32", "float32", "f32" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            case "fp16", "float16", "f16", "half" -> FP16;
            default -> throw new IllegalArgumentException("unknown precision '" + name + "' (expected fp32, bf16 or fp16)");
        };
    }

    @Override public String toString() { return key; }
}

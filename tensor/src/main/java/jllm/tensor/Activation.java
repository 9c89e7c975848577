package jllm.tensor;

/** MLP non-linearities, by the names Hugging Face configs use. */
public enum Activation {
    SILU, GELU_EXACT, GELU_TANH, RELU, RELU2;

    /** Maps a config's {@code hidden_act} / {@code hidden_activation} string. */
    public static Activation fromHf(String name) {
        return switch (name) {
            case "silu", "swish" -> SILU;
            case "gelu" -> GELU_EXACT;
            case "gelu_pytorch_tanh", "gelu_new", "gelu_fast", "gelu_python_tanh" -> GELU_TANH;
            case "relu" -> RELU;
            case "relu2" -> RELU2;
            default -> throw new IllegalArgumentException("unsupported activation '" + name
                    + "' (supported: silu, gelu, gelu_pytorch_tanh, gelu_new, relu, relu2)");
        };
    }

    public float apply(float x) {
        return switch (this) {
            case SILU -> (float) (x / (1.0 + Math.exp(-x)));
            case GELU_EXACT -> (float) (0.5 * x * (1.0 + MathUtil.erf(x / Math.sqrt(2.0))));
            case GELU_TANH -> (float) (0.5 * x * (1.0 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))));
            case RELU -> Math.max(x, 0f);
            case RELU2 -> { float r = Math.max(x, 0f); yield r * r; }
        };
    }

    /** d act / dx, the backward partner of {@link #apply}. */
    public float derivative(float x) {
        return switch (this) {
            case SILU -> {
                double s = 1.0 / (1.0 + Math.exp(-x));
                yield (float) (s * (1.0 + x * (1.0 - s)));
            }
            case GELU_EXACT -> (float) (0.5 * (1.0 + MathUtil.erf(x / Math.sqrt(2.0))) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI));
            case GELU_TANH -> {
                double k = 0.7978845608028654, u = k * (x + 0.044715 * x * x * x), t = Math.tanh(u);
                yield (float) (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * k * (1.0 + 3 * 0.044715 * x * x));
            }
            case RELU -> x > 0 ? 1f : 0f;
            case RELU2 -> x > 0 ? 2f * x : 0f;
        };
    }
}

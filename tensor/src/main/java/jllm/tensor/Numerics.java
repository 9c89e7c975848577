package jllm.tensor;

/**
 * Where a forward pass rounds, as settings: the dtype activations are held in and the precision of
 * the steps that implementations (and PyTorch models run in bf16/fp16) disagree on. The default,
 * {@link #FP32}, is fp32 everywhere: transformers' fp32 forward, what jllm runs and trains with.
 * Anything else is an emulation for {@code jllm doctor} (inference only): the decoder then rounds
 * each op's output to {@link #activations} and calls the backend's low-precision ops.
 *
 * <ul>
 * <li>{@code activations}: every op's output is rounded to it, as a PyTorch model in that dtype
 *     stores it (matmuls and reductions still accumulate in fp32; norms and softmax compute in fp32
 *     and round their result).
 * <li>{@code rope}: the dtype RoPE's inverse frequencies, positions and angles are computed in
 *     (each rounded, then cos/sin taken and rounded): fp32 is right; bf16 is the bug that merges
 *     positions beyond a few hundred.
 * <li>{@code normUpcast}: in RMSNorm, whether the fp32 section ends before or after the weight:
 *     {@link NormUpcast#BEFORE_WEIGHT} {@code y = round(xhat * g)} with xhat and g in fp32 (Gemma's
 *     {@code (x * (1 + w.float())).type_as(x)}, OLMo 2); {@link NormUpcast#AFTER_WEIGHT}
 *     {@code y = round(round(xhat) * round(g))}, the weight applied in the activation dtype (HF
 *     Llama's {@code weight * hidden.to(input_dtype)}). Equal when activations are fp32.
 * <li>{@code embedScale}: the dtype the embedding multiplier is cast to before it multiplies
 *     (Gemma's {@code sqrt(hidden)} normalizer in bf16: sqrt(3072) = 55.5, not 55.43).
 * <li>{@code softmax}: attention softmax in fp32 (scores, exponentials and sum in fp32, one
 *     rounding of the probabilities to the activation dtype), or in a low-precision dtype: scores
 *     rounded to it, {@code e = round(exp(round(s - max)))}, sum of the e in fp32,
 *     {@code p = round(e / sum)}.
 * </ul>
 */
public record Numerics(Precision activations, Precision rope, NormUpcast normUpcast, Precision embedScale, Precision softmax) {
    public enum NormUpcast {
        BEFORE_WEIGHT("before_weight"), AFTER_WEIGHT("after_weight");

        public final String key;

        NormUpcast(String key) { this.key = key; }

        @Override public String toString() { return key; }
    }

    public static final Numerics FP32 = new Numerics(Precision.FP32, Precision.FP32, NormUpcast.AFTER_WEIGHT, Precision.FP32, Precision.FP32);

    public Numerics {
        if (activations == null || rope == null || normUpcast == null || embedScale == null || softmax == null)
            throw new IllegalArgumentException("numerics settings must not be null");
    }

    /** fp32 throughout: the decoder's ordinary path (normUpcast makes no difference in fp32). */
    public boolean isDefault() {
        return activations == Precision.FP32 && rope == Precision.FP32 && embedScale == Precision.FP32 && softmax == Precision.FP32;
    }

    /** Whether attention needs the low-precision kernel. */
    public boolean roundsAttention() { return activations != Precision.FP32 || softmax != Precision.FP32; }

    public Numerics withActivations(Precision p) { return new Numerics(p, rope, normUpcast, embedScale, softmax); }

    public Numerics withRope(Precision p) { return new Numerics(activations, p, normUpcast, embedScale, softmax); }

    public Numerics withNormUpcast(NormUpcast u) { return new Numerics(activations, rope, u, embedScale, softmax); }

    public Numerics withEmbedScale(Precision p) { return new Numerics(activations, rope, normUpcast, p, softmax); }

    public Numerics withSoftmax(Precision p) { return new Numerics(activations, rope, normUpcast, embedScale, p); }
}

package jllm.train.peft;

/**
 * The two LoRA factors of one linear layer {@code y = W x + scale * B (A x)}, row-major as PEFT stores
 * them: A is [r, in], B is [out, r].
 *
 * @param module the layer's module path in the Hugging Face model, e.g. {@code model.layers.0.self_attn.q_proj}
 */
public record LoraPair(String module, int r, int in, int out, float[] a, float[] b) {
    public LoraPair {
        if (r < 1 || in < 1 || out < 1) throw new IllegalArgumentException(module + ": bad LoRA shape r=" + r + " in=" + in + " out=" + out);
        if (a.length != (long) r * in) throw new IllegalArgumentException(module + ": A has " + a.length + " values, expected [" + r + ", " + in + "]");
        if (b.length != (long) out * r) throw new IllegalArgumentException(module + ": B has " + b.length + " values, expected [" + out + ", " + r + "]");
    }
}

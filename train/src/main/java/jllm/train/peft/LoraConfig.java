package jllm.train.peft;

import java.util.List;

/**
 * The LoRA settings an adapter was trained with, as PEFT's {@code LoraConfig} names them.
 *
 * @param r             rank
 * @param alpha         lora_alpha; the update is scale * B A with scale = alpha / r (rsLoRA: alpha / sqrt(r))
 * @param targetModules module names the adapter wraps (PEFT matches them against the end of module paths)
 * @param modulesToSave modules trained in full and saved whole (e.g. lm_head, embed_tokens), or empty
 * @param baseModel     base_model_name_or_path: what the adapter was trained on (a path or hub id), may be null
 */
public record LoraConfig(int r, double alpha, double dropout, List<String> targetModules, boolean useRslora,
                         List<String> modulesToSave, String baseModel) {
    /** Unsloth's default and PEFT's usual choice for Llama-family models: every linear layer of attention and MLP. */
    public static final List<String> ALL_LINEAR = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    public LoraConfig {
        if (r < 1) throw new IllegalArgumentException("LoRA rank r must be at least 1, not " + r);
        if (!Double.isFinite(alpha) || alpha <= 0) throw new IllegalArgumentException("lora_alpha must be a positive number, not " + alpha);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("lora_dropout must be in [0, 1), not " + dropout);
        if (targetModules == null || targetModules.isEmpty()) throw new IllegalArgumentException("no target modules");
        targetModules = List.copyOf(targetModules);
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
    }

    /** The factor B A is multiplied by. */
    public double scale() { return useRslora ? alpha / Math.sqrt(r) : alpha / r; }
}

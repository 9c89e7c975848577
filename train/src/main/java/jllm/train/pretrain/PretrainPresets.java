package jllm.train.pretrain;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Small Llama-architecture geometries for training from scratch on a CPU ({@code jllm train --preset}),
 * vocabulary and special ids filled in from the tokenizer. SwiGLU width about 8/3 of the hidden
 * size, tied embeddings, RoPE θ 10,000, RMSNorm ε 1e-5.
 */
public final class PretrainPresets {
    private static final Map<String, int[]> GEOMETRY = new LinkedHashMap<>();

    static {
        // hidden, layers, heads, kv heads, intermediate, context
        GEOMETRY.put("nano", new int[] {128, 4, 4, 4, 352, 256});
        GEOMETRY.put("micro", new int[] {256, 6, 8, 8, 704, 256});
        GEOMETRY.put("mini", new int[] {384, 6, 6, 6, 1024, 256});
        GEOMETRY.put("small", new int[] {512, 8, 8, 8, 1376, 512});
    }

    private PretrainPresets() { }

    public static java.util.Set<String> names() { return GEOMETRY.keySet(); }

    /** The config.json of a preset (null when {@code name} is none of them). */
    public static String config(String name) {
        int[] g = GEOMETRY.get(name.toLowerCase(Locale.ROOT));
        if (g == null) return null;
        return String.format(Locale.ROOT, """
                {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": %d, "num_hidden_layers": %d,
                 "num_attention_heads": %d, "num_key_value_heads": %d, "intermediate_size": %d, "max_position_embeddings": %d,
                 "hidden_act": "silu", "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": true,
                 "attention_bias": false, "mlp_bias": false, "initializer_range": 0.02}""", g[0], g[1], g[2], g[3], g[4], g[5]);
    }
}

package jllm.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * config.json of well-known models with their published shapes, for benchmarks and random models
 * ({@link RandomWeights}) without downloading anything.
 */
public final class Presets {
    private Presets() {}

    private static final Map<String, String> CONFIGS = new LinkedHashMap<>();

    static {
        CONFIGS.put("llama-3.2-1b", llama(2048, 16, 32, 8, 64, 8192, true, 131072));
        CONFIGS.put("llama-3.2-3b", llama(3072, 28, 24, 8, 128, 8192, true, 131072));
        CONFIGS.put("llama-3.1-8b", llama(4096, 32, 32, 8, 128, 14336, false, 131072));
        // The training benchmark's geometry (issue 9; ../shared/tools/torch_lora_bench.py measures PyTorch on the same shape):
        // a Llama 3 style model of ~276M parameters, 131M of them the tied embedding. Not a published model.
        CONFIGS.put("small-270m", """
                {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 128256, "hidden_size": 1024,
                 "num_hidden_layers": 12, "num_attention_heads": 16, "num_key_value_heads": 4, "head_dim": 64,
                 "intermediate_size": 3072, "hidden_act": "silu", "max_position_embeddings": 8192, "rms_norm_eps": 1e-5,
                 "rope_theta": 500000.0, "tie_word_embeddings": true, "bos_token_id": 128000, "eos_token_id": 128001}""");
        // A toy geometry for smoke tests of the bench and random-model paths (not a published model).
        CONFIGS.put("tiny-llama", """
                {"model_type": "llama", "vocab_size": 96, "hidden_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "num_key_value_heads": 2, "intermediate_size": 512, "max_position_embeddings": 256, "rms_norm_eps": 1e-5,
                 "tie_word_embeddings": true}""");
        CONFIGS.put("qwen3-0.6b", """
                {"model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"], "vocab_size": 151936, "hidden_size": 1024,
                 "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128,
                 "intermediate_size": 3072, "hidden_act": "silu", "max_position_embeddings": 40960, "rms_norm_eps": 1e-6,
                 "rope_theta": 1000000, "tie_word_embeddings": true, "attention_bias": false,
                 "bos_token_id": 151643, "eos_token_id": 151645}""");
        CONFIGS.put("gemma-2-2b", """
                {"model_type": "gemma2", "architectures": ["Gemma2ForCausalLM"], "vocab_size": 256000, "hidden_size": 2304,
                 "num_hidden_layers": 26, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256,
                 "intermediate_size": 9216, "hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 8192,
                 "rms_norm_eps": 1e-6, "rope_theta": 10000, "query_pre_attn_scalar": 256, "sliding_window": 4096,
                 "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0, "tie_word_embeddings": true,
                 "bos_token_id": 2, "eos_token_id": 1}""");
    }

    private static String llama(int hidden, int layers, int heads, int kv, int headDim, int inter, boolean tied, int maxPos) {
        return """
                {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 128256, "hidden_size": %d,
                 "num_hidden_layers": %d, "num_attention_heads": %d, "num_key_value_heads": %d, "head_dim": %d,
                 "intermediate_size": %d, "hidden_act": "silu", "max_position_embeddings": %d, "rms_norm_eps": 1e-5,
                 "rope_theta": 500000.0, "rope_scaling": {"factor": %s, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                 "original_max_position_embeddings": 8192, "rope_type": "llama3"}, "tie_word_embeddings": %b,
                 "bos_token_id": 128000, "eos_token_id": 128001}""".formatted(hidden, layers, heads, kv, headDim, inter, maxPos,
                tied ? "32.0" : "8.0", tied);
    }

    public static java.util.Set<String> names() { return CONFIGS.keySet(); }

    /** The preset's config.json. */
    public static Config config(String name) {
        String json = CONFIGS.get(name);
        if (json == null) throw new IllegalArgumentException("unknown preset '" + name + "'; known: " + String.join(", ", CONFIGS.keySet()));
        return new Config((com.fasterxml.jackson.databind.node.ObjectNode) Config.of(json).json(), "preset " + name);
    }
}

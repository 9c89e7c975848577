package jllm.model.gguf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import jllm.formats.FormatException;
import jllm.formats.gguf.GgufFile;
import jllm.formats.gguf.GgufTensorInfo;

/**
 * GGUF metadata ({@code <arch>.*} keys as llama.cpp writes them) to the equivalent Hugging Face
 * config.json, and the model types both sides call each architecture.
 */
public final class GgufConfig {
    private GgufConfig() {}

    /** GGUF {@code general.architecture} for each HF model type we can write. */
    public static final Map<String, String> GGUF_ARCH = Map.ofEntries(
            Map.entry("llama", "llama"), Map.entry("mistral", "llama"), Map.entry("mixtral", "llama"),
            Map.entry("qwen2", "qwen2"), Map.entry("qwen3", "qwen3"), Map.entry("qwen3_moe", "qwen3moe"),
            Map.entry("gemma", "gemma"), Map.entry("gemma2", "gemma2"), Map.entry("gemma3_text", "gemma3"),
            Map.entry("phi3", "phi3"), Map.entry("olmo2", "olmo2"), Map.entry("granite", "granite"));

    public static ObjectNode toHf(GgufFile f) {
        String a = f.getString("general.architecture", null);
        if (a == null) throw new FormatException(f.source() + ": no general.architecture (a vocabulary-only or adapter file?)");
        String type = switch (a) {
            case "llama" -> f.getLong(a + ".expert_count", 0) > 0 ? "mixtral" : f.has(a + ".attention.sliding_window") ? "mistral" : "llama";
            case "qwen2", "qwen3", "gemma", "gemma2", "phi3", "olmo2", "granite" -> a;
            case "qwen3moe" -> "qwen3_moe";
            case "gemma3" -> "gemma3_text";
            default -> throw new FormatException(f.source() + ": GGUF architecture '" + a + "' is not supported (supported: "
                    + String.join(", ", new java.util.TreeSet<>(GGUF_ARCH.values())) + ")");
        };
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.put("model_type", type);
        c.put("hidden_size", req(f, a + ".embedding_length"));
        c.put("num_hidden_layers", req(f, a + ".block_count"));
        c.put("num_attention_heads", perLayer(f, a + ".attention.head_count", true));
        long kv = perLayer(f, a + ".attention.head_count_kv", false);
        if (kv > 0) c.put("num_key_value_heads", kv);
        long ff = perLayer(f, a + ".feed_forward_length", false);
        if (ff > 0) c.put("intermediate_size", ff);
        if (f.has(a + ".attention.key_length")) c.put("head_dim", f.getLong(a + ".attention.key_length", 0));
        c.put("rms_norm_eps", f.getDouble(a + ".attention.layer_norm_rms_epsilon", f.getDouble(a + ".attention.layer_norm_epsilon", 1e-5)));
        c.put("norm_eps", f.getDouble(a + ".attention.layer_norm_epsilon", 1e-5));
        c.put("rope_theta", f.getDouble(a + ".rope.freq_base", 10000.0));
        c.put("max_position_embeddings", f.getLong(a + ".context_length", 4096));
        GgufTensorInfo embd = f.tensor("token_embd.weight");
        if (embd == null) throw new FormatException(f.source() + ": missing tensor 'token_embd.weight'");
        c.put("vocab_size", f.getLong(a + ".vocab_size", embd.dims().length == 2 ? embd.dims()[1] : 0));
        c.put("tie_word_embeddings", f.tensor("output.weight") == null);
        c.put("attention_bias", f.tensor("blk.0.attn_q.bias") != null);
        c.put("mlp_bias", f.tensor("blk.0.ffn_up.bias") != null || f.tensor("blk.0.ffn_down.bias") != null);
        // jllm writes per-layer attention types under its own key (llama.cpp ignores unknown keys).
        if (f.get("jllm.layer_types") instanceof String[] lt) {
            var arr = c.putArray("layer_types");
            for (String t : lt) arr.add(t);
            c.put("use_sliding_window", true);
        }
        double scale = f.getDouble(a + ".attention.scale", 0);
        if (f.has(a + ".attention.sliding_window")) c.put("sliding_window", f.getLong(a + ".attention.sliding_window", 0));
        if (f.has("tokenizer.ggml.bos_token_id")) c.put("bos_token_id", f.getLong("tokenizer.ggml.bos_token_id", 0));
        if (f.has("tokenizer.ggml.eos_token_id")) c.put("eos_token_id", f.getLong("tokenizer.ggml.eos_token_id", 0));
        long headDim = c.has("head_dim") ? c.get("head_dim").asLong() : c.get("hidden_size").asLong() / Math.max(1, c.get("num_attention_heads").asLong());
        long rotDim = f.getLong(a + ".rope.dimension_count", headDim);
        if (rotDim != headDim && headDim > 0) c.put("partial_rotary_factor", (double) rotDim / headDim);
        String scaling = f.getString(a + ".rope.scaling.type", "none");
        switch (scaling) {
            case "none" -> { }
            case "linear", "yarn" -> {
                ObjectNode rs = c.putObject("rope_scaling");
                rs.put("rope_type", scaling);
                rs.put("factor", f.getDouble(a + ".rope.scaling.factor", 1.0));
                if (f.has(a + ".rope.scaling.original_context_length"))
                    rs.put("original_max_position_embeddings", f.getLong(a + ".rope.scaling.original_context_length", 0));
                if (scaling.equals("yarn") && f.has(a + ".rope.scaling.yarn_beta_fast")) rs.put("beta_fast", f.getDouble(a + ".rope.scaling.yarn_beta_fast", 32));
                if (scaling.equals("yarn") && f.has(a + ".rope.scaling.yarn_beta_slow")) rs.put("beta_slow", f.getDouble(a + ".rope.scaling.yarn_beta_slow", 1));
            }
            case "longrope" -> { }
            default -> throw new FormatException(f.source() + ": unsupported rope scaling type '" + scaling + "'");
        }
        switch (type) {
            case "mixtral", "qwen3_moe" -> {
                c.put("num_local_experts", req(f, a + ".expert_count"));
                c.put("num_experts", req(f, a + ".expert_count"));
                c.put("num_experts_per_tok", req(f, a + ".expert_used_count"));
                var dense = c.putArray("mlp_only_layers");
                for (int i = 0; i < c.get("num_hidden_layers").asInt(); i++) if (f.tensor("blk." + i + ".ffn_gate_inp.weight") == null) dense.add(i);
                if (type.equals("qwen3_moe")) {
                    c.put("moe_intermediate_size", req(f, a + ".expert_feed_forward_length"));
                    c.put("norm_topk_prob", f.getBool(a + ".expert_weights_norm", true));
                    if (!c.has("intermediate_size")) c.put("intermediate_size", req(f, a + ".expert_feed_forward_length"));
                }
            }
            case "gemma", "gemma2", "gemma3_text" -> {
                c.put("hidden_activation", "gelu_pytorch_tanh");
                c.put("query_pre_attn_scalar", scale > 0 ? 1.0 / (scale * scale) : headDim);
                if (f.has(a + ".attn_logit_softcapping")) c.put("attn_logit_softcapping", f.getDouble(a + ".attn_logit_softcapping", 0));
                if (f.has(a + ".final_logit_softcapping")) c.put("final_logit_softcapping", f.getDouble(a + ".final_logit_softcapping", 0));
                if (type.equals("gemma3_text")) {
                    c.put("rope_local_base_freq", 10000.0);
                    c.put("sliding_window_pattern", 6);
                }
            }
            case "phi3" -> {
                if (f.has(a + ".rope.scaling.original_context_length"))
                    c.put("original_max_position_embeddings", f.getLong(a + ".rope.scaling.original_context_length", 0));
                float[] lf = factors(f, "rope_factors_long.weight"), sf = factors(f, "rope_factors_short.weight");
                if (lf != null && sf != null) {
                    ObjectNode rs = c.putObject("rope_scaling");
                    rs.put("rope_type", "longrope");
                    var la = rs.putArray("long_factor");
                    for (float x : lf) la.add(x);
                    var sa = rs.putArray("short_factor");
                    for (float x : sf) sa.add(x);
                    if (f.has(a + ".rope.scaling.attn_factor")) rs.put("attention_factor", f.getDouble(a + ".rope.scaling.attn_factor", 1));
                }
            }
            case "granite" -> {
                c.put("embedding_multiplier", f.getDouble(a + ".embedding_scale", 1));
                c.put("residual_multiplier", f.getDouble(a + ".residual_scale", 1));
                c.put("attention_multiplier", scale > 0 ? scale : 1.0 / Math.sqrt(headDim));
                c.put("logits_scaling", f.getDouble(a + ".logit_scale", 1));
            }
            default -> { }
        }
        return c;
    }

    static float[] factors(GgufFile f, String name) {
        GgufTensorInfo t = f.tensor(name);
        if (t == null) return null;
        if (t.ggmlType() != 0) throw new FormatException(f.source() + ": " + name + " must be F32");
        float[] v = new float[(int) t.elementCount()];
        java.lang.foreign.MemorySegment.copy(t.data(), java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, v, 0, v.length);
        return v;
    }

    private static long req(GgufFile f, String key) {
        if (!f.has(key)) throw new FormatException(f.source() + ": missing metadata '" + key + "'");
        return f.getLong(key, 0);
    }

    /** A count that llama.cpp allows per layer (an array); uniform arrays collapse to one value. */
    private static long perLayer(GgufFile f, String key, boolean required) {
        Object v = f.get(key);
        if (v == null) {
            if (required) throw new FormatException(f.source() + ": missing metadata '" + key + "'");
            return 0;
        }
        if (v instanceof int[] arr) {
            for (int x : arr) if (x != arr[0]) throw new FormatException(f.source() + ": per-layer '" + key + "' values differ; not supported");
            return arr.length == 0 ? 0 : Integer.toUnsignedLong(arr[0]);
        }
        return f.getLong(key, 0);
    }
}

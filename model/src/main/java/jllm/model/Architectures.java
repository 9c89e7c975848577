package jllm.model;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import jllm.model.arch.Gemma;
import jllm.model.arch.Gemma2;
import jllm.model.arch.Gemma3;
import jllm.model.arch.Granite;
import jllm.model.arch.Llama;
import jllm.model.arch.Llama4;
import jllm.model.arch.Mistral;
import jllm.model.arch.Mixtral;
import jllm.model.arch.Nemotron;
import jllm.model.arch.Olmo2;
import jllm.model.arch.Phi3;
import jllm.model.arch.Qwen2;
import jllm.model.arch.Qwen3;
import jllm.model.arch.Qwen3Moe;

/** The supported architectures, found by config.json's {@code model_type} (or {@code architectures}). */
public final class Architectures {
    private static final Map<String, Supplier<Architecture>> BY_TYPE = new LinkedHashMap<>();
    private static final Map<String, String> BY_CLASS = new LinkedHashMap<>();

    static {
        reg("llama", Llama::new, "LlamaForCausalLM");
        reg("mistral", Mistral::new, "MistralForCausalLM");
        reg("mixtral", Mixtral::new, "MixtralForCausalLM");
        reg("gemma", Gemma::new, "GemmaForCausalLM");
        reg("gemma2", Gemma2::new, "Gemma2ForCausalLM");
        reg("gemma3_text", Gemma3::new, "Gemma3ForCausalLM");
        reg("phi3", Phi3::new, "Phi3ForCausalLM");
        reg("qwen2", Qwen2::new, "Qwen2ForCausalLM");
        reg("qwen3", Qwen3::new, "Qwen3ForCausalLM");
        reg("qwen3_moe", Qwen3Moe::new, "Qwen3MoeForCausalLM");
        reg("nemotron", Nemotron::new, "NemotronForCausalLM");
        reg("granite", Granite::new, "GraniteForCausalLM");
        reg("olmo2", Olmo2::new, "Olmo2ForCausalLM");
        reg("llama4_text", Llama4::new, "Llama4ForCausalLM");
    }

    private static void reg(String type, Supplier<Architecture> s, String cls) {
        BY_TYPE.put(type, s);
        BY_CLASS.put(cls, type);
    }

    private Architectures() {}

    public static java.util.Set<String> supported() { return BY_TYPE.keySet(); }

    public static Architecture forConfig(Config c) {
        String type = c.str("model_type", null);
        if (type != null && BY_TYPE.containsKey(type)) return BY_TYPE.get(type).get();
        for (String cls : c.strings("architectures"))
            if (BY_CLASS.containsKey(cls)) return BY_TYPE.get(BY_CLASS.get(cls)).get();
        throw c.bad("unsupported architecture: model_type '" + type + "'" + (c.strings("architectures").isEmpty() ? "" : " " + c.strings("architectures"))
                + "; supported model types: " + String.join(", ", BY_TYPE.keySet()));
    }
}

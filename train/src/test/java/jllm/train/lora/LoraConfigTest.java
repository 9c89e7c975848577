package jllm.train.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoraConfigTest {
    static List<String> llama(int layers) {
        List<String> m = new ArrayList<>();
        for (int l = 0; l < layers; l++)
            for (String s : List.of("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"))
                m.add("model.layers." + l + "." + s);
        m.add("lm_head");
        return m;
    }

    static List<String> phi3() {
        return List.of("model.layers.0.self_attn.qkv_proj", "model.layers.0.self_attn.o_proj", "model.layers.0.mlp.gate_up_proj", "model.layers.0.mlp.down_proj", "lm_head");
    }

    @Test
    void targetsResolveLikePeft() {
        LoraConfig qv = new LoraConfig(8, 16, 0.05, false, List.of("q_proj", "v_proj"));
        assertEquals(List.of("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"),
                qv.resolve(llama(2)));
        assertEquals(14, new LoraConfig(8, 16, 0, false, List.of("all-linear")).resolve(llama(2)).size());
        assertEquals(14, LoraConfig.defaults().resolve(llama(2)).size());
        assertEquals(4, new LoraConfig(8, 16, 0, false, LoraConfig.parseTargets("all-linear")).resolve(phi3()).size());
        assertEquals(List.of("model.layers.0.self_attn.qkv_proj"), new LoraConfig(8, 16, 0, false, List.of("qkv_proj")).resolve(phi3()));
        // a dotted suffix selects one place
        assertEquals(List.of("model.layers.1.mlp.up_proj"), new LoraConfig(8, 16, 0, false, List.of("layers.1.mlp.up_proj")).resolve(llama(2)));
    }

    @Test
    void invalidSettingsAreOneLineErrors() {
        assertEquals("LoRA: rank r must be an integer >= 1, got 0", msg(() -> new LoraConfig(0, 16, 0, false, List.of("q_proj"))));
        assertEquals("LoRA: alpha must be a finite number > 0, got -1", msg(() -> new LoraConfig(8, -1, 0, false, List.of("q_proj"))));
        assertEquals("LoRA: alpha must be a finite number > 0, got NaN", msg(() -> new LoraConfig(8, Double.NaN, 0, false, List.of("q_proj"))));
        assertEquals("LoRA: dropout must be in [0, 1), got 1", msg(() -> new LoraConfig(8, 16, 1, false, List.of("q_proj"))));
        assertEquals("LoRA: dropout must be in [0, 1), got -0.1", msg(() -> new LoraConfig(8, 16, -0.1, false, List.of("q_proj"))));
        assertEquals("LoRA: no target modules; name some (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj) or all-linear",
                msg(() -> new LoraConfig(8, 16, 0, false, List.of())));
        assertEquals("LoRA: target module names may not be empty or padded with spaces, got ''", msg(() -> new LoraConfig(8, 16, 0, false, LoraConfig.parseTargets("q_proj,"))));
        assertEquals("LoRA: unknown target module 'q_prj'; valid: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj or all-linear",
                msg(() -> new LoraConfig(8, 16, 0, false, List.of("q_proj", "q_prj")).resolve(llama(1))));
        assertEquals("LoRA: unknown target module 'q_proj' (this model fuses them: use qkv_proj); valid: qkv_proj, o_proj, gate_up_proj, down_proj or all-linear",
                msg(() -> new LoraConfig(8, 16, 0, false, List.of("q_proj")).resolve(phi3())));
        assertEquals("LoRA: all-linear already names every linear layer; give it alone, not with [all-linear, q_proj]",
                msg(() -> new LoraConfig(8, 16, 0, false, List.of("all-linear", "q_proj"))));
    }

    static String msg(org.junit.jupiter.api.function.Executable e) {
        return assertThrows(IllegalArgumentException.class, e).getMessage();
    }
}

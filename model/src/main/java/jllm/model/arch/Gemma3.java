package jllm.model.arch;

import jllm.model.Config;
import jllm.model.Rope;
import jllm.model.Spec;
import jllm.tensor.AttentionMask;

/**
 * Gemma 3 (text): Gemma 2's layer layout plus per-head (1 + w) QK norm, no soft-caps by default,
 * and separate RoPE for local (sliding) and global layers — {@code rope_parameters} keyed by layer
 * type, or the legacy {@code rope_local_base_freq}. Default pattern: 5 local : 1 global.
 */
public final class Gemma3 extends Gemma2 {
    public Gemma3() { super("gemma3_text"); }

    @Override
    protected void customize(Config c, Spec s) {
        super.customize(c, s);
        s.qkNorm = Spec.QkNorm.PER_HEAD;
        Rope global = Rope.fromConfig(c, "full_attention", s.headDim, false);
        Rope local;
        if (c.node("rope_parameters") != null && c.node("rope_parameters").has("sliding_attention"))
            local = Rope.fromConfig(c, "sliding_attention", s.headDim, false);
        else {
            var p = (com.fasterxml.jackson.databind.node.ObjectNode) c.json().deepCopy();
            p.remove("rope_scaling");
            p.remove("rope_parameters");
            p.put("rope_theta", c.positive("rope_local_base_freq", 10000.0));
            local = Rope.fromConfig(new Config(p, c.source()), null, s.headDim, false);
        }
        for (int i = 0; i < s.layers; i++) {
            Spec.LayerSpec l = s.layer[i];
            boolean sliding = l.mask().kind() == AttentionMask.Kind.SLIDING;
            s.layer[i] = new Spec.LayerSpec(l.mask(), sliding ? local : global, l.ffn(), null);
        }
    }

    @Override
    protected void defaultPattern(Config c, Spec s, int window) {
        int pattern = c.size("sliding_window_pattern", 1 << 10, c.size("_sliding_window_pattern", 1 << 10, 6));
        for (int i = 0; i < s.layers; i++) {
            if ((i + 1) % pattern == 0) continue;
            Spec.LayerSpec l = s.layer[i];
            s.layer[i] = new Spec.LayerSpec(AttentionMask.sliding(window), l.rope(), l.ffn(), null);
        }
    }
}

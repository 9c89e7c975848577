package jllm.model.arch;

import jllm.model.Config;
import jllm.model.Spec;
import jllm.tensor.AttentionMask;

/**
 * Gemma 2: four norms per layer (post-attention and pre/post-feed-forward), query scale from
 * {@code query_pre_attn_scalar}, soft-capped attention scores and logits, and a sliding window on
 * alternating layers (even ones, unless {@code layer_types} says otherwise).
 */
public class Gemma2 extends Gemma {
    public Gemma2() { this("gemma2"); }

    protected Gemma2(String type) { super(type); }

    @Override
    protected void customize(Config c, Spec s) {
        super.customize(c, s);
        s.names.postAttnNorm = "post_attention_layernorm";
        s.names.ffnNorm = "pre_feedforward_layernorm";
        s.names.postFfnNorm = "post_feedforward_layernorm";
        s.attnScale = (float) Math.pow(c.positive("query_pre_attn_scalar", s.headDim), -0.5);
        s.attnSoftcap = (float) c.finite("attn_logit_softcapping", 0);
        s.finalSoftcap = (float) c.finite("final_logit_softcapping", 0);
        int window = c.has("sliding_window") ? c.size("sliding_window", 1 << 30) : 0;
        if (!c.strings("layer_types").isEmpty()) applyLayerTypes(c, s, window);
        else if (window > 0) defaultPattern(c, s, window);
    }

    /** Layer types when config.json has none: Gemma 2 alternates, starting with a sliding layer. */
    protected void defaultPattern(Config c, Spec s, int window) {
        for (int i = 0; i < s.layers; i += 2) {
            Spec.LayerSpec l = s.layer[i];
            s.layer[i] = new Spec.LayerSpec(AttentionMask.sliding(window), l.rope(), l.ffn(), null);
        }
    }
}

package jllm.model.arch;

import jllm.model.Architecture;
import jllm.model.Config;
import jllm.model.Spec;
import jllm.tensor.AttentionMask;

/**
 * Qwen 2: q/k/v always have a bias (o never). Sliding window only with {@code use_sliding_window},
 * on layers at or past {@code max_window_layers} (or as {@code layer_types} lists). Qwen 3 adds QK norm.
 */
public class Qwen2 extends Architecture {
    public Qwen2() { this("qwen2"); }

    protected Qwen2(String type) { super(type); }

    @Override
    protected void customize(Config c, Spec s) {
        s.qkvBias = true;
        s.oBias = false;
        slidingLayers(c, s);
    }

    static void slidingLayers(Config c, Spec s) {
        int window = c.has("sliding_window") ? c.size("sliding_window", 1 << 30) : 0;
        if (!c.strings("layer_types").isEmpty()) {
            applyLayerTypes(c, s, window);
            return;
        }
        if (!c.bool("use_sliding_window", false) || window == 0) return;
        int from = (int) c.num("max_window_layers", s.layers);
        for (int i = from; i < s.layers; i++) {
            Spec.LayerSpec l = s.layer[i];
            s.layer[i] = new Spec.LayerSpec(AttentionMask.sliding(window), l.rope(), l.ffn(), null);
        }
    }
}

package jllm.model.arch;

import jllm.model.Architecture;
import jllm.model.Config;
import jllm.model.Spec;

/** Qwen 3: per-head RMS QK norm before RoPE, biases per {@code attention_bias}; Qwen 2's sliding rules. */
public class Qwen3 extends Architecture {
    public Qwen3() { this("qwen3"); }

    protected Qwen3(String type) { super(type); }

    @Override
    protected void customize(Config c, Spec s) {
        s.qkNorm = Spec.QkNorm.PER_HEAD;
        Qwen2.slidingLayers(c, s);
    }
}

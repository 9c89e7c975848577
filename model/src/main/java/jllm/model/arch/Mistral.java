package jllm.model.arch;

import jllm.model.Architecture;
import jllm.model.Config;
import jllm.model.Spec;
import jllm.tensor.AttentionMask;

/** Llama with a sliding window on every layer, when {@code sliding_window} is set. */
public final class Mistral extends Architecture {
    public Mistral() { super("mistral"); }

    @Override
    protected void customize(Config c, Spec s) {
        if (c.has("sliding_window")) setAllMasks(s, AttentionMask.sliding(c.size("sliding_window", 1 << 30)));
    }
}

package jllm.model.arch;

import jllm.model.Architecture;
import jllm.model.Config;
import jllm.model.Spec;

/**
 * Nemotron: LayerNorm with bias and (1 + w) gain, eps from {@code norm_eps}; MLP not gated,
 * {@code down(relu(up x)^2)}; partial rotary via the RoPE parameters. No default for kv heads.
 */
public final class Nemotron extends Architecture {
    public Nemotron() { super("nemotron"); }

    @Override
    protected void customize(Config c, Spec s) {
        if (!c.has("num_key_value_heads")) throw c.bad("nemotron needs 'num_key_value_heads'");
        s.layerNorm = true;
        s.normOnePlus = true;
        s.normEps = (float) c.positive("norm_eps", 1e-5);
        s.gated = false;
    }
}

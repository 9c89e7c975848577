package jllm.model.arch;

import jllm.model.Architecture;
import jllm.model.Config;
import jllm.model.Spec;
import jllm.tensor.Activation;
import jllm.tensor.Numerics;

/**
 * Gemma 1: (1 + w) RMSNorm, embeddings times sqrt(hidden) rounded to the activation dtype, tanh
 * GELU (read from {@code hidden_activation} first), tied embeddings by default. Gemma 2 and 3
 * build on this.
 */
public class Gemma extends Architecture {
    public Gemma() { this("gemma"); }

    protected Gemma(String type) { super(type); }

    @Override
    protected boolean tiedByDefault() { return true; }

    @Override
    protected void customize(Config c, Spec s) {
        s.normOnePlus = true;
        s.embedScale = (float) Math.sqrt(s.hidden);
        s.embedScaleInActivations = true;
        s.normUpcast = Numerics.NormUpcast.BEFORE_WEIGHT; // (x * (1 + w.float())).type_as(x)
        s.act = Activation.fromHf(c.str("hidden_activation", c.str("hidden_act", "gelu_pytorch_tanh")));
    }
}

package jllm.model.arch;

import jllm.model.Architecture;
import jllm.model.Config;
import jllm.model.Spec;

/** Granite: embedding, residual-branch and logit multipliers, and attention scale from the config. */
public final class Granite extends Architecture {
    public Granite() { super("granite"); }

    @Override
    protected void customize(Config c, Spec s) {
        s.embedScale = (float) c.finite("embedding_multiplier", 1.0);
        s.residualScale = (float) c.finite("residual_multiplier", 1.0);
        s.logitScale = (float) (1.0 / c.positive("logits_scaling", 1.0));
        s.attnScale = (float) c.finite("attention_multiplier", s.attnScale);
    }
}

package jllm.model.arch;

import jllm.model.Architecture;
import jllm.model.Config;
import jllm.model.Spec;
import jllm.tensor.Numerics;

/**
 * OLMo 2: norms after each block instead of before, and RMS QK norm over the whole projected q and k;
 * its RMSNorm multiplies by the weight before casting back to the activation dtype.
 */
public final class Olmo2 extends Architecture {
    public Olmo2() { super("olmo2"); }

    @Override
    protected void customize(Config c, Spec s) {
        s.names.attnNorm = null;
        s.names.ffnNorm = null;
        s.names.postAttnNorm = "post_attention_layernorm";
        s.names.postFfnNorm = "post_feedforward_layernorm";
        s.qkNorm = Spec.QkNorm.WHOLE;
        s.normUpcast = Numerics.NormUpcast.BEFORE_WEIGHT; // (weight * x).to(input_dtype)
    }
}

package jllm.model.arch;

import jllm.model.Config;
import jllm.model.Spec;

/**
 * Qwen3-MoE: Qwen 3 whose MLP is a softmax-routed mixture on layers not in {@code mlp_only_layers}
 * with {@code (i + 1) % decoder_sparse_step == 0}; top-k weights renormalised only with
 * {@code norm_topk_prob}.
 */
public final class Qwen3Moe extends Qwen3 {
    public Qwen3Moe() { super("qwen3_moe"); }

    @Override
    protected void customize(Config c, Spec s) {
        super.customize(c, s);
        int experts = c.size("num_experts", 1 << 12, c.size("num_local_experts", 1 << 12, 0 + 1));
        if (!c.has("num_experts") && !c.has("num_local_experts")) throw c.bad("missing 'num_experts'");
        int topK = c.size("num_experts_per_tok", experts);
        int inter = c.size("moe_intermediate_size", 1 << 20);
        int step = c.size("decoder_sparse_step", 1 << 10, 1);
        var dense = c.ints("mlp_only_layers");
        boolean renorm = c.bool("norm_topk_prob", false);
        for (int i = 0; i < s.layers; i++)
            if (!dense.contains(i) && (i + 1) % step == 0)
                setFfn(s, i, new Spec.Moe(experts, topK, inter, Spec.Routing.SOFTMAX_TOPK, renorm, 0));
        s.names.router = "mlp.gate";
        s.names.expert = "mlp.experts.%d.";
    }
}

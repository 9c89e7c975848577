package jllm.model.arch;

import jllm.model.Architecture;
import jllm.model.Config;
import jllm.model.Spec;
import jllm.model.Weights;
import jllm.tensor.AttentionMask;

/** Mistral whose every MLP is a softmax-routed mixture of experts (w1 = gate, w3 = up, w2 = down). */
public final class Mixtral extends Architecture {
    public Mixtral() { super("mixtral"); }

    @Override
    protected void customize(Config c, Spec s) {
        if (c.has("sliding_window")) setAllMasks(s, AttentionMask.sliding(c.size("sliding_window", 1 << 30)));
        int experts = c.size("num_local_experts", 1 << 12), topK = c.size("num_experts_per_tok", experts);
        int inter = c.size("intermediate_size", 1 << 20);
        for (int i = 0; i < s.layers; i++) setFfn(s, i, new Spec.Moe(experts, topK, inter, Spec.Routing.SOFTMAX_TOPK, true, 0));
        s.names.router = "block_sparse_moe.gate";
        s.names.expert = "block_sparse_moe.experts.%d.";
        s.names.expertGate = "w1";
        s.names.expertUp = "w3";
        s.names.expertDown = "w2";
    }

    /** transformers 5 renames the checkpoint's {@code block_sparse_moe} to {@code mlp} in memory. */
    @Override
    protected Weights.Origin routerOrigin(String p, Spec s) {
        return Weights.Origin.of(p + "mlp.gate.weight");
    }
}

package jllm.model.arch;

import jllm.formats.TensorStore;
import jllm.model.Architecture;
import jllm.model.Config;
import jllm.model.Spec;
import jllm.model.Weights;
import jllm.tensor.AttentionMask;
import jllm.tensor.Tensor;

/**
 * Phi-3: fused {@code qkv_proj} (rows Q, then K, then V) and {@code gate_up_proj} (gate rows, then
 * up), split here into row views without copying; sliding window on all layers when set; partial
 * rotary and longrope come from the RoPE parameters.
 */
public final class Phi3 extends Architecture {
    public Phi3() { super("phi3"); }

    @Override
    protected void customize(Config c, Spec s) {
        if (c.has("sliding_window")) setAllMasks(s, AttentionMask.sliding(c.size("sliding_window", 1 << 30)));
        s.names.q = "self_attn.qkv_proj";
        s.names.gate = "mlp.gate_up_proj";
    }

    @Override
    protected Tensor[] qkv(TensorStore st, String p, Spec s) {
        Tensor w = st.tensor(p + "self_attn.qkv_proj.weight");
        long q = (long) s.heads * s.headDim, kv = (long) s.kvHeads * s.headDim;
        if (w.rank() != 2 || w.dim(0) != q + 2 * kv)
            throw new jllm.formats.FormatException(st.source() + ": " + p + "self_attn.qkv_proj.weight is " + w + ", expected [" + (q + 2 * kv) + ", " + s.hidden + "]");
        return new Tensor[] {w.rows(0, q), w.rows(q, kv), w.rows(q + kv, kv)};
    }

    @Override
    protected Weights.Origin[] qkvOrigins(String p, Spec s) {
        String n = p + "self_attn.qkv_proj.weight";
        int q = s.heads * s.headDim, kv = s.kvHeads * s.headDim;
        return new Weights.Origin[] {new Weights.Origin(n, -1, 0, false), new Weights.Origin(n, -1, q, false), new Weights.Origin(n, -1, q + kv, false)};
    }

    @Override
    protected Weights.Origin[] gateUpOrigins(String p, Spec s) {
        String n = p + "mlp.gate_up_proj.weight";
        int inter = ((Spec.Dense) s.layer[0].ffn()).intermediate();
        return new Weights.Origin[] {new Weights.Origin(n, -1, 0, false), new Weights.Origin(n, -1, inter, false)};
    }

    @Override
    protected Tensor[] gateUp(TensorStore st, String p, Spec s) {
        Tensor w = st.tensor(p + "mlp.gate_up_proj.weight");
        if (w.rank() != 2 || w.dim(0) % 2 != 0)
            throw new jllm.formats.FormatException(st.source() + ": " + p + "mlp.gate_up_proj.weight is " + w + ", expected [2 * intermediate, hidden]");
        long half = w.dim(0) / 2;
        return new Tensor[] {w.rows(0, half), w.rows(half, half)};
    }
}

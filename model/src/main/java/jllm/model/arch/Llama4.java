package jllm.model.arch;

import jllm.formats.FormatException;
import jllm.formats.TensorStore;
import jllm.model.Architecture;
import jllm.model.Config;
import jllm.model.Rope;
import jllm.model.Spec;
import jllm.model.Weights;
import jllm.tensor.F32Tensor;
import jllm.tensor.Tensor;

/**
 * Llama 4 (text): RoPE on interleaved pairs; NoPE layers ({@code no_rope_layers[i] == 0}) attend
 * globally with query temperature tuning, RoPE layers attend within chunks and L2-normalise q/k
 * after RoPE; MoE every {@code interleave_moe_layer_step} layers (sigmoid-scaled inputs plus a
 * shared expert), dense layers with {@code intermediate_size_mlp}. Experts are stored fused and
 * input-major ({@code gate_up_proj [E, H, 2I]}, {@code down_proj [E, I, H]}).
 */
public final class Llama4 extends Architecture {
    public Llama4() { super("llama4_text"); }

    @Override
    protected void customize(Config c, Spec s) {
        Rope rope = Rope.fromConfig(c, null, s.headDim, true);
        var noRope = c.ints("no_rope_layers");
        int interval = c.size("no_rope_layer_interval", 1 << 10, 4);
        boolean tempTuning = c.bool("attn_temperature_tuning", true);
        Spec.QueryScale temperature = temperatureTuning((float) c.finite("attn_scale", 0.1), (float) c.positive("floor_scale", 8192));
        int denseInter = c.size("intermediate_size_mlp", 1 << 20, c.size("intermediate_size", 1 << 20));
        for (int i = 0; i < s.layers; i++) {
            boolean useRope = noRope.isEmpty() ? (i + 1) % interval != 0 : noRope.get(i) != 0;
            s.layer[i] = new Spec.LayerSpec(s.layer[i].mask(), useRope ? rope : null, new Spec.Dense(denseInter), !useRope && tempTuning ? temperature : null);
        }
        applyLayerTypes(c, s, 0);
        if (c.strings("layer_types").isEmpty() && c.has("attention_chunk_size"))
            for (int i = 0; i < s.layers; i++)
                if (s.layer[i].rope() != null) {
                    Spec.LayerSpec l = s.layer[i];
                    s.layer[i] = new Spec.LayerSpec(jllm.tensor.AttentionMask.chunked(c.size("attention_chunk_size", 1 << 24)), l.rope(), l.ffn(), l.queryScale());
                }
        if (c.bool("use_qk_norm", true)) s.qkNorm = Spec.QkNorm.L2_AFTER_ROPE;
        int experts = c.size("num_local_experts", 1 << 12), topK = c.size("num_experts_per_tok", experts);
        int inter = c.size("intermediate_size", 1 << 20);
        var moeLayers = c.ints("moe_layers");
        int step = c.size("interleave_moe_layer_step", 1 << 10, 1);
        for (int i = 0; i < s.layers; i++) {
            boolean moe = c.has("moe_layers") ? moeLayers.contains(i) : (i + 1) % step == 0;
            if (moe) setFfn(s, i, new Spec.Moe(experts, topK, inter, Spec.Routing.SIGMOID_TOPK, false, inter));
        }
        s.names.gate = "feed_forward.gate_proj";
        s.names.up = "feed_forward.up_proj";
        s.names.down = "feed_forward.down_proj";
        s.names.router = "feed_forward.router";
        s.names.shared = "feed_forward.shared_expert.";
        s.names.expert = "feed_forward.experts.";
    }

    /**
     * NoPE layers scale queries by {@code log(floor((pos + 1) / floor_scale) + 1) * attn_scale + 1}
     * so attention stays sharp over long contexts without positions.
     */
    static Spec.QueryScale temperatureTuning(float attnScale, float floorScale) {
        return pos -> (float) (Math.log(Math.floor((pos + 1f) / floorScale) + 1.0) * attnScale + 1.0);
    }

    @Override
    protected Tensor[] expert(TensorStore st, String p, int e, Spec s) {
        Tensor gateUp = st.tensor(p + "feed_forward.experts.gate_up_proj"), down = st.tensor(p + "feed_forward.experts.down_proj");
        int h = s.hidden;
        if (gateUp.rank() != 3 || gateUp.dim(1) != h || gateUp.dim(2) % 2 != 0 || down.rank() != 3 || down.dim(2) != h || down.dim(1) * 2 != gateUp.dim(2))
            throw new FormatException(st.source() + ": " + p + "feed_forward.experts has shapes " + gateUp + " and " + down + ", expected [E, " + h + ", 2I] and [E, I, " + h + "]");
        int inter = down.dim(1);
        // Stored input-major for batched matmul; our kernels want [out, in] rows, so transpose once at load.
        return new Tensor[] {transposed(gateUp, e, h, 2 * inter, 0, inter), transposed(gateUp, e, h, 2 * inter, inter, inter),
                transposed(down, e, inter, h, 0, h)};
    }

    /** The experts stay fused and input-major in memory too: {@code gate_up_proj [E, H, 2I]}, {@code down_proj [E, I, H]}. */
    @Override
    protected Weights.Origin[] expertOrigins(String p, int e, int inter, Spec s) {
        String gu = p + "feed_forward.experts.gate_up_proj", down = p + "feed_forward.experts.down_proj";
        return new Weights.Origin[] {new Weights.Origin(gu, e, 0, true), new Weights.Origin(gu, e, inter, true), new Weights.Origin(down, e, 0, true)};
    }

    /** Columns {@code [c0, c0 + n)} of matrix {@code e} ({@code [rows, cols]}) of a 3-D tensor, as an {@code [n, rows]} fp32 tensor. */
    private static Tensor transposed(Tensor t, int e, int rows, int cols, int c0, int n) {
        float[] m = new float[rows * cols];
        t.read((long) e * rows * cols, m, 0, m.length);
        float[] out = new float[n * rows];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < n; j++) out[j * rows + r] = m[r * cols + c0 + j];
        return F32Tensor.of(out, n, rows);
    }
}

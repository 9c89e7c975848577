package jllm.model;

import jllm.formats.TensorStore;
import jllm.tensor.Activation;
import jllm.tensor.AttentionMask;
import jllm.tensor.Tensor;

/**
 * How one architecture differs from the Llama baseline. {@link #spec} reads config.json the Llama
 * way; subclasses override {@link #customize} for their differences and, where a checkpoint stores
 * weights differently (fused projections), the loading hooks.
 */
public class Architecture {
    private final String modelType;

    protected Architecture(String modelType) { this.modelType = modelType; }

    public String modelType() { return modelType; }

    public final Spec spec(Config c) {
        Spec s = new Spec();
        s.modelType = modelType;
        s.vocab = c.size("vocab_size", Config.MAX_VOCAB);
        s.hidden = c.size("hidden_size", Config.MAX_HIDDEN);
        s.layers = c.size("num_hidden_layers", Config.MAX_LAYERS);
        s.heads = c.size("num_attention_heads", Config.MAX_HEADS);
        s.kvHeads = c.size("num_key_value_heads", Config.MAX_HEADS, s.heads);
        if (s.heads % s.kvHeads != 0) throw c.bad("num_attention_heads " + s.heads + " is not a multiple of num_key_value_heads " + s.kvHeads);
        if (c.has("head_dim")) s.headDim = c.size("head_dim", Config.MAX_HEAD_DIM);
        else {
            if (s.hidden % s.heads != 0) throw c.bad("hidden_size " + s.hidden + " is not divisible by num_attention_heads " + s.heads);
            s.headDim = s.hidden / s.heads;
        }
        s.maxPositions = c.size("max_position_embeddings", 1 << 24, 2048);
        s.normEps = (float) c.positive("rms_norm_eps", 1e-6);
        s.attnScale = (float) (1.0 / Math.sqrt(s.headDim));
        s.act = Activation.fromHf(c.str("hidden_act", c.str("hidden_activation", "silu")));
        s.qkvBias = c.bool("attention_bias", false);
        s.oBias = s.qkvBias;
        s.mlpBias = c.bool("mlp_bias", false);
        s.tiedEmbeddings = c.bool("tie_word_embeddings", tiedByDefault());
        s.bosId = c.has("bos_token_id") ? (int) c.num("bos_token_id", -1) : -1;
        s.eosIds = c.ints("eos_token_id").stream().mapToInt(Integer::intValue).toArray();
        int inter = c.size("intermediate_size", Config.MAX_INTERMEDIATE);
        s.layer = new Spec.LayerSpec[s.layers];
        Rope rope = Rope.fromConfig(c, null, s.headDim, false);
        for (int i = 0; i < s.layers; i++) s.layer[i] = new Spec.LayerSpec(AttentionMask.CAUSAL, rope, new Spec.Dense(inter), null);
        customize(c, s);
        checkSizes(c, s);
        return s;
    }

    /** Gemma ties embeddings unless told otherwise; Llama-style configs default to untied. */
    protected boolean tiedByDefault() { return false; }

    /** Architecture-specific reading of config.json; the baseline is plain Llama. */
    protected void customize(Config c, Spec s) {}

    /** Sets a sliding-window mask on the layers whose {@code layer_types} entry says so. */
    protected static void applyLayerTypes(Config c, Spec s, int window) {
        var types = c.strings("layer_types");
        if (types.isEmpty()) return;
        if (types.size() != s.layers) throw c.bad("layer_types has " + types.size() + " entries for " + s.layers + " layers");
        for (int i = 0; i < s.layers; i++) {
            String t = types.get(i);
            Spec.LayerSpec l = s.layer[i];
            switch (t) {
                case "full_attention" -> s.layer[i] = new Spec.LayerSpec(AttentionMask.CAUSAL, l.rope(), l.ffn(), l.queryScale());
                case "sliding_attention" -> {
                    if (window <= 0) throw c.bad("layer " + i + " is sliding_attention but sliding_window is not set");
                    s.layer[i] = new Spec.LayerSpec(AttentionMask.sliding(window), l.rope(), l.ffn(), l.queryScale());
                }
                case "chunked_attention" -> {
                    int chunk = c.size("attention_chunk_size", 1 << 24);
                    s.layer[i] = new Spec.LayerSpec(AttentionMask.chunked(chunk), l.rope(), l.ffn(), l.queryScale());
                }
                default -> throw c.bad("unknown layer type '" + t + "' in layer_types");
            }
        }
    }

    protected static void setFfn(Spec s, int layer, Spec.Ffn ffn) {
        Spec.LayerSpec l = s.layer[layer];
        s.layer[layer] = new Spec.LayerSpec(l.mask(), l.rope(), ffn, l.queryScale());
    }

    protected static void setAllMasks(Spec s, AttentionMask m) {
        for (int i = 0; i < s.layers; i++) {
            Spec.LayerSpec l = s.layer[i];
            s.layer[i] = new Spec.LayerSpec(m, l.rope(), l.ffn(), l.queryScale());
        }
    }

    private static void checkSizes(Config c, Spec s) {
        // Guard against configs whose product of sizes would ask for absurd memory.
        long perLayer = (long) s.hidden * s.headDim * (s.heads + 2L * s.kvHeads) + (long) s.heads * s.headDim * s.hidden;
        long params = (long) s.vocab * s.hidden * 2 + perLayer * s.layers;
        if (params > (1L << 41)) throw c.bad("model would have " + params + " parameters in attention and embeddings alone; config is not plausible");
    }

    // ---- loading hooks -------------------------------------------------------------------

    /** Q, K and V projection weights of a layer ({@code p} = layer prefix). */
    protected Tensor[] qkv(TensorStore st, String p, Spec s) {
        Spec.Names n = s.names;
        return new Tensor[] {st.tensor(p + n.q + ".weight"), st.tensor(p + n.k + ".weight"), st.tensor(p + n.v + ".weight")};
    }

    /** Gate and up weights of the dense MLP (gate is null for non-gated MLPs). */
    protected Tensor[] gateUp(TensorStore st, String p, Spec s) {
        Spec.Names n = s.names;
        return new Tensor[] {s.gated ? st.tensor(p + n.gate + ".weight") : null, st.tensor(p + n.up + ".weight")};
    }

    // ---- where weights sit among transformers' in-memory parameters (gradients, full fine-tuning) ----

    /** Q, K and V: their own tensors by default. */
    protected Weights.Origin[] qkvOrigins(String p, Spec s) {
        Spec.Names n = s.names;
        return new Weights.Origin[] {Weights.Origin.of(p + n.q + ".weight"), Weights.Origin.of(p + n.k + ".weight"), Weights.Origin.of(p + n.v + ".weight")};
    }

    /** Gate and up of the dense MLP: their own tensors by default. */
    protected Weights.Origin[] gateUpOrigins(String p, Spec s) {
        Spec.Names n = s.names;
        return new Weights.Origin[] {Weights.Origin.of(p + n.gate + ".weight"), Weights.Origin.of(p + n.up + ".weight")};
    }

    protected Weights.Origin routerOrigin(String p, Spec s) {
        return Weights.Origin.of(p + s.names.router + ".weight");
    }

    /**
     * Expert {@code e}'s gate, up and down. transformers 5 keeps a layer's experts fused whatever the
     * checkpoint stores: {@code mlp.experts.gate_up_proj [E, 2I, H]} (gate rows first, then up) and
     * {@code mlp.experts.down_proj [E, H, I]}.
     */
    protected Weights.Origin[] expertOrigins(String p, int e, int inter, Spec s) {
        String gu = p + "mlp.experts.gate_up_proj", down = p + "mlp.experts.down_proj";
        return new Weights.Origin[] {new Weights.Origin(gu, e, 0, false), new Weights.Origin(gu, e, inter, false), new Weights.Origin(down, e, 0, false)};
    }

    /** Gate, up and down weights of expert {@code e}, each {@code [out, in]}. */
    protected Tensor[] expert(TensorStore st, String p, int e, Spec s) {
        Spec.Names n = s.names;
        String ep = p + String.format(n.expert, e);
        return new Tensor[] {st.tensor(ep + n.expertGate + ".weight"), st.tensor(ep + n.expertUp + ".weight"), st.tensor(ep + n.expertDown + ".weight")};
    }
}

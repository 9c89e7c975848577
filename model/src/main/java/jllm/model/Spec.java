package jllm.model;

import jllm.tensor.Activation;
import jllm.tensor.AttentionMask;
import jllm.tensor.Numerics;
import jllm.tensor.Precision;

/**
 * Everything the shared decoder needs to know about one model, filled in by its
 * {@link Architecture} from config.json. Defaults are the Llama baseline; an architecture changes
 * only what differs.
 */
public final class Spec implements Cloneable {
    public String modelType;
    public int vocab, hidden, layers, heads, kvHeads, headDim, maxPositions;

    public float normEps;
    /** LayerNorm (mean-centred, with bias) instead of RMSNorm. */
    public boolean layerNorm;
    /** Norm gain is (1 + w): Gemma, Nemotron. */
    public boolean normOnePlus;

    /** Embedding output multiplier (Gemma: sqrt(hidden) in the activation dtype; Granite: embedding_multiplier). */
    public float embedScale = 1f;
    /** Each residual branch is scaled before the add (Granite). */
    public float residualScale = 1f;
    /** Logits are multiplied by this (Granite: 1 / logits_scaling). */
    public float logitScale = 1f;
    /** c * tanh(x / c) on attention scores / final logits when > 0 (Gemma 2). */
    public float attnSoftcap, finalSoftcap;
    public float attnScale;

    public Activation act = Activation.SILU;
    /** down(act(gate x) * up x); false = down(act(up x)) (Nemotron). */
    public boolean gated = true;

    public QkNorm qkNorm = QkNorm.NONE;
    public boolean qkvBias, oBias, mlpBias;
    public boolean tiedEmbeddings;

    /**
     * Where the forward rounds ({@link Numerics}): fp32 throughout unless {@code jllm doctor} emulates
     * a low-precision run or an implementation variant.
     */
    public Numerics numerics = Numerics.FP32;
    /** How transformers rounds this architecture's RMSNorm in bf16/fp16: the weight applied after the rounding (Llama) or before (Gemma, OLMo 2). */
    public Numerics.NormUpcast normUpcast = Numerics.NormUpcast.AFTER_WEIGHT;
    /** The embedding multiplier is cast to the activation dtype before it multiplies (Gemma's normalizer), not applied in fp32. */
    public boolean embedScaleInActivations;

    public int bosId = -1;
    public int[] eosIds = new int[0];

    public LayerSpec[] layer;
    public final Names names = new Names();

    /** transformers' numerics for this architecture when the model is held in {@code activations}. */
    public Numerics numericsFor(Precision activations) {
        return new Numerics(activations, Precision.FP32, normUpcast, embedScaleInActivations ? activations : Precision.FP32, Precision.FP32);
    }

    /**
     * A copy whose scalar fields (activation, norm offset, soft-caps, numerics) can be changed to run
     * an implementation variant on the same weights; layer specs and names are shared.
     */
    public Spec copy() {
        try {
            return (Spec) clone();
        } catch (CloneNotSupportedException e) {
            throw new AssertionError(e);
        }
    }

    public enum QkNorm {
        NONE,
        /** RMSNorm over each head's vector, before RoPE (Qwen3, Gemma 3 with (1+w)). */
        PER_HEAD,
        /** RMSNorm over all heads' projections together, before RoPE (OLMo 2). */
        WHOLE,
        /** Weightless RMS norm of each head after RoPE, on RoPE layers only (Llama 4). */
        L2_AFTER_ROPE
    }

    /**
     * Per-layer differences: which keys attention sees, its RoPE (null = none), the feed-forward, and
     * an optional per-position query multiplier applied after RoPE (null = none).
     */
    public record LayerSpec(AttentionMask mask, Rope rope, Ffn ffn, QueryScale queryScale) {}

    /**
     * A factor each query row is multiplied by, from its position in the sequence (Llama 4's attention
     * temperature tuning on NoPE layers). The shared decoder applies it as a per-row scale (its own
     * backward); the formula lives with the architecture that needs it.
     */
    @FunctionalInterface
    public interface QueryScale {
        float factor(int position);
    }

    public sealed interface Ffn permits Dense, Moe {}

    public record Dense(int intermediate) implements Ffn {}

    /**
     * Mixture of experts. SOFTMAX_TOPK: softmax over all router logits in fp32, top-k, optionally
     * renormalised (Mixtral, Qwen3-MoE). SIGMOID_TOPK: top-k of raw logits, sigmoid of each chosen
     * score scales the expert's input, plus an always-on shared expert (Llama 4).
     */
    public record Moe(int experts, int topK, int intermediate, Routing routing, boolean renormalize, int sharedIntermediate) implements Ffn {}

    public enum Routing { SOFTMAX_TOPK, SIGMOID_TOPK }

    /** Tensor names; {@code %d} is the layer (and then expert) index. */
    public static final class Names {
        public String embed = "model.embed_tokens.weight", finalNorm = "model.norm", lmHead = "lm_head.weight";
        public String layer = "model.layers.%d.";
        public String attnNorm = "input_layernorm", postAttnNorm = null, ffnNorm = "post_attention_layernorm", postFfnNorm = null;
        public String q = "self_attn.q_proj", k = "self_attn.k_proj", v = "self_attn.v_proj", o = "self_attn.o_proj";
        public String qNorm = "self_attn.q_norm", kNorm = "self_attn.k_norm";
        public String gate = "mlp.gate_proj", up = "mlp.up_proj", down = "mlp.down_proj";
        public String router = "mlp.gate";
        public String expert = "mlp.experts.%d.", expertGate = "gate_proj", expertUp = "up_proj", expertDown = "down_proj";
        public String shared = null;
    }
}

package jllm.doctor.variants;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import jllm.model.Spec;
import jllm.tensor.Activation;
import jllm.tensor.Numerics;
import jllm.tensor.Precision;

/**
 * One implementation choice that released models and their ports have got wrong, as a key with
 * string values (stable: they are the JSON of {@code doctor compare --variants}). Each knows which
 * models it applies to, the value a model's spec has, and how to set a value on a copy of the spec.
 * What each value computes is defined in {@link Numerics} (precisions) and {@link Spec} (data).
 */
public enum Setting {
    /** The MLP non-linearity, for models whose config says a GELU: exact erf GELU vs the tanh approximation. */
    ACTIVATION("activation"),
    /** Precision of RoPE's frequencies, positions and angles ({@link Numerics#rope}). */
    ROPE_PRECISION("rope_precision"),
    /** RMSNorm's weight applied before or after the rounding to the activation dtype (low-precision runs only). */
    NORM_UPCAST("norm_upcast"),
    /** Norm gain {@code w} or {@code 1 + w}. */
    NORM_OFFSET("norm_offset"),
    /** Precision the embedding multiplier is cast to (models that scale embeddings). */
    EMBED_SCALE_PRECISION("embed_scale_precision"),
    /** Attention softmax in fp32 or in bf16 ({@link Numerics#softmax}). */
    SOFTMAX_PRECISION("softmax_precision"),
    /** Attention-score and final-logit soft-capping on or off (models that soft-cap). */
    SOFTCAP("softcap");

    public final String key;

    Setting(String key) { this.key = key; }

    public static Setting of(String key) {
        for (Setting s : values()) if (s.key.equals(key)) return s;
        throw new IllegalArgumentException("unknown setting '" + key + "' (known: " + Arrays.stream(values()).map(s -> s.key).toList() + ")");
    }

    /** The values worth trying on a model with this (unmodified) spec; empty when the setting does not apply. */
    public List<String> candidates(Spec base) {
        Numerics nx = base.numerics;
        return switch (this) {
            case ACTIVATION -> base.act == Activation.GELU_EXACT || base.act == Activation.GELU_TANH ? List.of("gelu_exact", "gelu_tanh") : List.of();
            case ROPE_PRECISION -> Arrays.stream(base.layer).anyMatch(l -> l.rope() != null) ? List.of("fp32", "bf16", "fp16") : List.of();
            case NORM_UPCAST -> nx.activations() != Precision.FP32 && !base.layerNorm ? List.of("before_weight", "after_weight") : List.of();
            case NORM_OFFSET -> List.of("w", "one_plus_w");
            case EMBED_SCALE_PRECISION -> distinctScales(base);
            case SOFTMAX_PRECISION -> withCurrent(List.of("fp32", "bf16"), valueOf(base));
            case SOFTCAP -> base.attnSoftcap > 0 || base.finalSoftcap > 0 ? List.of("on", "off") : List.of();
        };
    }

    /** The embedding-scale precisions that give different multipliers (sqrt(64) = 8 is the same in every dtype: nothing to vary). */
    private List<String> distinctScales(Spec base) {
        String current = valueOf(base);
        List<String> out = new ArrayList<>(List.of(current));
        List<Float> seen = new ArrayList<>(List.of(Precision.of(current).round(base.embedScale)));
        for (String v : List.of("fp32", "bf16")) {
            float scale = Precision.of(v).round(base.embedScale);
            if (!seen.contains(scale)) { seen.add(scale); out.add(v); }
        }
        return out.size() > 1 ? out : List.of();
    }

    private static List<String> withCurrent(List<String> values, String current) {
        List<String> out = new ArrayList<>(values);
        if (!out.contains(current)) out.add(current);
        return out;
    }

    /** The value {@code s} has. */
    public String valueOf(Spec s) {
        Numerics nx = s.numerics;
        return switch (this) {
            case ACTIVATION -> switch (s.act) {
                case GELU_EXACT -> "gelu_exact";
                case GELU_TANH -> "gelu_tanh";
                default -> s.act.name().toLowerCase(Locale.ROOT);
            };
            case ROPE_PRECISION -> nx.rope().key;
            case NORM_UPCAST -> nx.normUpcast().key;
            case NORM_OFFSET -> s.normOnePlus ? "one_plus_w" : "w";
            case EMBED_SCALE_PRECISION -> nx.embedScale().key;
            case SOFTMAX_PRECISION -> nx.softmax().key;
            case SOFTCAP -> s.attnSoftcap > 0 || s.finalSoftcap > 0 ? "on" : "off";
        };
    }

    /** Sets {@code value} on {@code s} (a copy of {@code base}; soft-caps come back from base when turned on). */
    public void apply(Spec s, Spec base, String value) {
        Numerics nx = s.numerics;
        switch (this) {
            case ACTIVATION -> s.act = switch (value) {
                case "gelu_exact" -> Activation.GELU_EXACT;
                case "gelu_tanh" -> Activation.GELU_TANH;
                default -> Activation.valueOf(value.toUpperCase(Locale.ROOT));
            };
            case ROPE_PRECISION -> s.numerics = nx.withRope(Precision.of(value));
            case NORM_UPCAST -> s.numerics = nx.withNormUpcast(switch (value) {
                case "before_weight" -> Numerics.NormUpcast.BEFORE_WEIGHT;
                case "after_weight" -> Numerics.NormUpcast.AFTER_WEIGHT;
                default -> throw bad(value);
            });
            case NORM_OFFSET -> s.normOnePlus = switch (value) {
                case "w" -> false;
                case "one_plus_w" -> true;
                default -> throw bad(value);
            };
            case EMBED_SCALE_PRECISION -> s.numerics = nx.withEmbedScale(Precision.of(value));
            case SOFTMAX_PRECISION -> s.numerics = nx.withSoftmax(Precision.of(value));
            case SOFTCAP -> {
                boolean on = switch (value) {
                    case "on" -> true;
                    case "off" -> false;
                    default -> throw bad(value);
                };
                s.attnSoftcap = on ? base.attnSoftcap : 0f;
                s.finalSoftcap = on ? base.finalSoftcap : 0f;
            }
        }
    }

    private IllegalArgumentException bad(String value) {
        return new IllegalArgumentException("setting " + key + " has no value '" + value + "'");
    }
}

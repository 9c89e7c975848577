package jllm.train.lora;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A LoRA adapter's settings with PEFT's meaning: rank {@code r}, {@code lora_alpha}, {@code lora_dropout},
 * {@code use_rslora} and {@code target_modules} (module names such as {@code q_proj}, matched against the
 * end of each linear layer's dotted name, or {@value #ALL_LINEAR}: every linear layer but the output
 * head). Scaling is {@code alpha / r}, or {@code alpha / sqrt(r)} with rsLoRA.
 *
 * <p>Fused projections (Phi-3's {@code qkv_proj} and {@code gate_up_proj}) are one linear layer each,
 * so, as in PEFT, they get one A/B pair; {@link LoraWeights#split} divides such a pair exactly.
 */
public record LoraConfig(int r, double alpha, double dropout, boolean rsLora, List<String> targetModules) {
    public static final String ALL_LINEAR = "all-linear";
    /** PEFT's usual targets for Llama-family models (Unsloth's default set: all seven). */
    public static final List<String> LLAMA_MODULES = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    public LoraConfig {
        if (r < 1) throw new IllegalArgumentException("LoRA: rank r must be an integer >= 1, got " + r);
        if (!(alpha > 0) || Double.isInfinite(alpha)) throw new IllegalArgumentException("LoRA: alpha must be a finite number > 0, got " + num(alpha));
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("LoRA: dropout must be in [0, 1), got " + num(dropout));
        if (targetModules == null || targetModules.isEmpty())
            throw new IllegalArgumentException("LoRA: no target modules; name some (" + String.join(", ", LLAMA_MODULES) + ") or " + ALL_LINEAR);
        for (String t : targetModules)
            if (t == null || t.isBlank() || !t.equals(t.strip()))
                throw new IllegalArgumentException("LoRA: target module names may not be empty or padded with spaces, got '" + t + "'");
        targetModules = List.copyOf(new LinkedHashSet<>(targetModules));
        if (targetModules.contains(ALL_LINEAR) && targetModules.size() > 1)
            throw new IllegalArgumentException("LoRA: " + ALL_LINEAR + " already names every linear layer; give it alone, not with " + targetModules);
    }

    /** {@code r 16, alpha 16, dropout 0, all seven projections} (Unsloth's defaults). */
    public static LoraConfig defaults() { return new LoraConfig(16, 16, 0, false, LLAMA_MODULES); }

    /** A comma-separated target list as a command line gives it ({@code q_proj,v_proj} or {@code all-linear}). */
    public static List<String> parseTargets(String csv) {
        List<String> out = new ArrayList<>();
        for (String s : csv.split(",", -1)) out.add(s.strip());
        return out;
    }

    /** The factor on the adapter's output: {@code alpha / r}, or {@code alpha / sqrt(r)} for rsLoRA. */
    public double scale() { return rsLora ? alpha / Math.sqrt(r) : alpha / r; }

    /**
     * The linear layers this adapter trains, in the model's order, out of {@code linearModules} (the
     * dotted names of the model's linear layers, e.g. {@code model.layers.0.self_attn.q_proj}). A target
     * that matches none of them is an error listing the names that would.
     */
    public List<String> resolve(Collection<String> linearModules) {
        List<String> out = new ArrayList<>();
        if (targetModules.contains(ALL_LINEAR)) {
            for (String m : linearModules) if (!leaf(m).equals("lm_head")) out.add(m);
            if (out.isEmpty()) throw new IllegalArgumentException("LoRA: the model has no linear layers to adapt");
            return out;
        }
        Set<String> leaves = new LinkedHashSet<>();
        for (String m : linearModules) if (!leaf(m).equals("lm_head")) leaves.add(leaf(m));
        for (String t : targetModules) {
            boolean hit = false;
            for (String m : linearModules) hit |= matches(m, t);
            if (!hit) {
                String hint = leaves.contains("qkv_proj") && Set.of("q_proj", "k_proj", "v_proj").contains(t) ? " (this model fuses them: use qkv_proj)"
                        : leaves.contains("gate_up_proj") && Set.of("gate_proj", "up_proj").contains(t) ? " (this model fuses them: use gate_up_proj)" : "";
                throw new IllegalArgumentException("LoRA: unknown target module '" + t + "'" + hint + "; valid: "
                        + String.join(", ", leaves) + " or " + ALL_LINEAR);
            }
        }
        for (String m : linearModules) {
            for (String t : targetModules) {
                if (matches(m, t)) { out.add(m); break; }
            }
        }
        return out;
    }

    /** PEFT's rule: the target is the whole name or its dotted suffix. */
    static boolean matches(String module, String target) {
        return module.equals(target) || module.endsWith("." + target);
    }

    private static String leaf(String module) { return module.substring(module.lastIndexOf('.') + 1); }

    private static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%s", v);
    }
}

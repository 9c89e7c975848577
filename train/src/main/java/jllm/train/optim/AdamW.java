package jllm.train.optim;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import jllm.tensor.Parallel;
import jllm.train.Param;

/**
 * Adam with decoupled weight decay, step for step as {@code torch.optim.AdamW} (non-amsgrad), in fp32
 * with the scalars formed in double and rounded once, as torch does:
 * <pre>
 *   p  = p * (1 - lr * wd)                        (decoupled: the decay never enters m or v)
 *   m  = lerp(m, g, 1 - beta1)                    v = v * beta2 + (1 - beta2) * g * g
 *   p  = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * so the first step moves every weight by {@code lr * g / (|g| + eps)}, i.e. about {@code lr * sign(g)}.
 * Weight decay applies to the parameters {@code decays} accepts (all by default; {@link #noBiasOrNorm()}
 * is Hugging Face Trainer's rule).
 */
public final class AdamW extends Optimizer {
    /** torch's defaults except the learning rate, which the schedule owns. */
    public record Config(double beta1, double beta2, double eps, double weightDecay) {
        public static final Config DEFAULT = new Config(0.9, 0.999, 1e-8, 0.01);

        public Config {
            Checks.unitOpen("AdamW", "beta1", beta1);
            Checks.unitOpen("AdamW", "beta2", beta2);
            Checks.positive("AdamW", "eps", eps);
            Checks.nonNegative("AdamW", "weight decay", weightDecay);
        }
    }

    private final Config cfg;
    private final boolean[] decay;
    private final List<float[]> m = new ArrayList<>(), v = new ArrayList<>();

    public AdamW(List<Param> params, Config cfg) { this(params, cfg, p -> true, null); }

    public AdamW(List<Param> params, Config cfg, Predicate<Param> decays, Parallel par) {
        super("AdamW", params, par);
        this.cfg = cfg;
        this.decay = new boolean[this.params.size()];
        for (int i = 0; i < decay.length; i++) {
            decay[i] = decays.test(this.params.get(i));
            m.add(null);
            v.add(null);
        }
    }

    /** Hugging Face Trainer's weight-decay rule: every parameter except biases and norm weights. */
    public static Predicate<Param> noBiasOrNorm() {
        return p -> {
            String n = p.name.toLowerCase(java.util.Locale.ROOT);
            return !n.endsWith(".bias") && !n.endsWith("bias") && !n.contains("norm");
        };
    }

    public Config config() { return cfg; }

    @Override public String kind() { return "adamw"; }

    @Override
    void update(int index, Param p, double lr, long step, int from, int to) {
        float[] w = p.value, g = p.grad, mm = state(index, "exp_avg"), vv = state(index, "exp_avg_sq");
        float keep = (float) (1 - lr * (decay[index] ? cfg.weightDecay : 0));
        float c1 = (float) (1 - cfg.beta1), b2 = (float) cfg.beta2, c2 = (float) (1 - cfg.beta2);
        double bc1 = 1 - Math.pow(cfg.beta1, step), bc2 = 1 - Math.pow(cfg.beta2, step);
        float stepSize = (float) (lr / bc1), bc2Sqrt = (float) Math.sqrt(bc2), eps = (float) cfg.eps;
        for (int i = from; i < to; i++) {
            float gi = g[i];
            float mi = mm[i] + c1 * (gi - mm[i]);
            float vi = vv[i] * b2 + c2 * gi * gi;
            mm[i] = mi;
            vv[i] = vi;
            w[i] = w[i] * keep - stepSize * (mi / ((float) Math.sqrt(vi) / bc2Sqrt + eps));
        }
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return ordered("beta1", cfg.beta1, "beta2", cfg.beta2, "eps", cfg.eps, "weight_decay", cfg.weightDecay);
    }

    @Override List<String> stateSuffixes() { return List.of("exp_avg", "exp_avg_sq"); }

    @Override
    float[] state(int index, String suffix) {
        List<float[]> list = switch (suffix) {
            case "exp_avg" -> m;
            case "exp_avg_sq" -> v;
            default -> throw new IllegalArgumentException("AdamW has no state " + suffix);
        };
        float[] s = list.get(index);
        if (s == null) list.set(index, s = new float[params.get(index).value.length]);
        return s;
    }
}

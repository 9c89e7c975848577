package jllm.train.optim;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jllm.tensor.Parallel;
import jllm.train.Param;

/**
 * Stochastic gradient descent as {@code torch.optim.SGD}: with {@code d = g + wd * p} (coupled weight
 * decay), the momentum buffer starts as {@code d} on the first step and is then
 * {@code b = momentum * b + (1 - dampening) * d}; the step is {@code p -= lr * b}, or with Nesterov
 * {@code p -= lr * (d + momentum * b)}.
 */
public final class Sgd extends Optimizer {
    public record Config(double momentum, double dampening, double weightDecay, boolean nesterov) {
        public static final Config PLAIN = new Config(0, 0, 0, false);

        public Config {
            Checks.unitOpen("SGD", "momentum", momentum);
            Checks.unitClosed("SGD", "dampening", dampening);
            Checks.nonNegative("SGD", "weight decay", weightDecay);
            if (nesterov && (momentum == 0 || dampening != 0))
                throw new IllegalArgumentException("SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum "
                        + Checks.fmt(momentum) + ", dampening " + Checks.fmt(dampening));
        }
    }

    private final Config cfg;
    private final List<float[]> buf = new ArrayList<>();

    public Sgd(List<Param> params, Config cfg) { this(params, cfg, null); }

    public Sgd(List<Param> params, Config cfg, Parallel par) {
        super("SGD", params, par);
        this.cfg = cfg;
        for (int i = 0; i < this.params.size(); i++) buf.add(null);
    }

    public Config config() { return cfg; }

    @Override public String kind() { return "sgd"; }

    @Override
    void update(int index, Param p, double lr, long step, int from, int to) {
        float[] w = p.value, g = p.grad;
        float wd = (float) cfg.weightDecay, mu = (float) cfg.momentum, damp = (float) (1 - cfg.dampening), rate = (float) lr;
        float[] b = cfg.momentum == 0 ? null : state(index, "momentum_buffer");
        boolean first = step == 1;
        for (int i = from; i < to; i++) {
            float d = wd == 0 ? g[i] : g[i] + wd * w[i];
            if (b != null) {
                b[i] = first ? d : mu * b[i] + damp * d;
                d = cfg.nesterov ? d + mu * b[i] : b[i];
            }
            w[i] -= rate * d;
        }
    }

    @Override
    public Map<String, Object> hyperparameters() {
        return ordered("momentum", cfg.momentum, "dampening", cfg.dampening, "weight_decay", cfg.weightDecay, "nesterov", cfg.nesterov);
    }

    @Override List<String> stateSuffixes() { return cfg.momentum == 0 ? List.of() : List.of("momentum_buffer"); }

    @Override
    float[] state(int index, String suffix) {
        if (!suffix.equals("momentum_buffer") || cfg.momentum == 0) throw new IllegalArgumentException("SGD has no state " + suffix);
        float[] s = buf.get(index);
        if (s == null) buf.set(index, s = new float[params.get(index).value.length]);
        return s;
    }
}

package jllm.train.optim;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jllm.tensor.Parallel;
import jllm.train.Param;

/**
 * Updates a fixed list of {@link Param}s from their gradients, one {@link #step} per optimizer step,
 * with the learning rate the caller's {@link LrSchedule} gives for that step. Subclasses hold their
 * per-parameter state as fp32 arrays named after the parameter ({@code NAME.exp_avg}, ...), which is
 * what {@link OptimizerState} saves and loads.
 *
 * <p>Updates are element-wise and spread over a {@link Parallel} pool in fixed chunks, so they are
 * bit-identical for any thread count.
 */
public abstract sealed class Optimizer permits AdamW, Sgd {
    /** Elements per parallel chunk: small tensors (LoRA factors, norms) stay on one thread. */
    private static final int CHUNK = 1 << 15;

    final List<Param> params;
    final Parallel par;
    private final String label;
    long steps;

    Optimizer(String kind, List<Param> params, Parallel par) {
        if (params.isEmpty()) throw new IllegalArgumentException(kind + ": no trainable parameters");
        Set<String> names = new HashSet<>();
        for (Param p : params)
            if (!names.add(p.name)) throw new IllegalArgumentException(kind + ": parameter " + p.name + " is listed twice");
        this.label = kind;
        this.params = List.copyOf(params);
        this.par = par == null ? Parallel.shared(1) : par;
    }

    /** {@code "adamw"} or {@code "sgd"}: the name saved with the state. */
    public abstract String kind();

    public final List<Param> params() { return params; }

    /** Optimizer steps taken so far (the bias-correction count of AdamW). */
    public final long steps() { return steps; }

    /**
     * One update with learning rate {@code lr} (0 is allowed: the first step of a warmup). Every
     * gradient is checked first: a NaN or infinity stops with a {@link NonFiniteException} naming this
     * step and the parameter, before any parameter changes.
     */
    public final void step(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) throw Checks.bad(label, "learning rate", lr, "a finite number >= 0");
        long next = steps + 1;
        requireFiniteGrads(params, next);
        stateTensors(); // allocate every state array here, not racing inside the parallel update
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            int index = i;
            int n = p.value.length;
            par.forRange(n, CHUNK, (a, b) -> update(index, p, lr, next, a, b));
        }
        steps = next;
    }

    /** Updates elements {@code [from, to)} of parameter {@code index} for step {@code step} (1-based). */
    abstract void update(int index, Param p, double lr, long step, int from, int to);

    public final void zeroGrad() {
        for (Param p : params) p.zeroGrad();
    }

    /** Hyperparameters as saved in the state file (the learning rate belongs to the schedule). */
    public abstract Map<String, Object> hyperparameters();

    /** A map of {@code key, value, key, value, ...} in that order (for the state file). */
    static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    /** Suffixes of the per-parameter state arrays, e.g. {@code exp_avg}. */
    abstract List<String> stateSuffixes();

    /** The state array {@code suffix} of parameter {@code index} (allocated on first use). */
    abstract float[] state(int index, String suffix);

    /** Every state array by its saved name, {@code PARAM.SUFFIX}, in parameter order. */
    public final Map<String, float[]> stateTensors() {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++)
            for (String s : stateSuffixes()) out.put(params.get(i).name + "." + s, state(i, s));
        return out;
    }

    /** Throws {@link NonFiniteException} for the first parameter whose gradient holds a NaN or infinity. */
    public static void requireFiniteGrads(List<Param> params, long step) {
        for (Param p : params) {
            float[] g = p.grad;
            for (int i = 0; i < g.length; i++) {
                // one test per element on the fast path: x - x is 0 for every finite x, NaN otherwise
                if (g[i] - g[i] != 0f) throw NonFiniteException.grad(step, p.name, i, g[i]);
            }
        }
    }
}

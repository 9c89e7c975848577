package jllm.train.optim;

import java.util.List;
import jllm.tensor.Parallel;
import jllm.train.Param;

/**
 * Gradient clipping by the global norm, as {@code torch.nn.utils.clip_grad_norm_}: the norm of all
 * gradients taken together, and if it exceeds {@code maxNorm} every gradient is scaled by
 * {@code maxNorm / (norm + 1e-6)}. The sum of squares is accumulated in fp64 over fixed chunks (so the
 * norm is the same for any thread count); a NaN or infinite gradient stops with a
 * {@link NonFiniteException} naming the step and parameter instead of spreading NaN into every weight.
 */
public final class GradClip {
    private static final int CHUNK = 1 << 16;

    private GradClip() { }

    /** The L2 norm of all gradients; scales them down to {@code maxNorm} when it is larger. Returns the norm before clipping. */
    public static double clip(List<Param> params, double maxNorm, long step, Parallel par) {
        Checks.positive("gradient clipping", "max norm", maxNorm);
        double norm = norm(params, par);
        if (!Double.isFinite(norm)) {
            Optimizer.requireFiniteGrads(params, step);
            throw new IllegalStateException("gradient norm is " + norm + " but every gradient is finite");
        }
        float coef = (float) (maxNorm / (norm + 1e-6));
        if (coef < 1f) {
            for (Param p : params) {
                float[] g = p.grad;
                (par == null ? Parallel.shared(1) : par).forRange(g.length, CHUNK, (a, b) -> {
                    for (int i = a; i < b; i++) g[i] *= coef;
                });
            }
        }
        return norm;
    }

    /** {@code sqrt(sum g^2)} over every gradient element, in fp64; NaN/infinite if any gradient is. */
    public static double norm(List<Param> params, Parallel par) {
        Parallel pool = par == null ? Parallel.shared(1) : par;
        double total = 0;
        for (Param p : params) {
            float[] g = p.grad;
            int chunks = (g.length + CHUNK - 1) / CHUNK;
            double[] part = new double[chunks];
            pool.forRange(chunks, 1, (c0, c1) -> {
                for (int c = c0; c < c1; c++) {
                    double s = 0;
                    for (int i = c * CHUNK, end = Math.min(g.length, i + CHUNK); i < end; i++) s += (double) g[i] * g[i];
                    part[c] = s;
                }
            });
            for (double s : part) total += s;
        }
        return Math.sqrt(total);
    }
}

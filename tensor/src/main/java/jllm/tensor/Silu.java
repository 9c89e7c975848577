package jllm.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * The gated SiLU product {@code h = silu(g) u} and its backward, vectorised with {@link VecMath#exp}
 * (one exp per element for both directions: {@code s = sigmoid(g)}, {@code silu(g) = g s},
 * {@code silu'(g) = s (1 + g (1 - s))}). A libm exp per element made this the costliest element-wise
 * op of a training step (3 of the MLP's 4 passes over {@code [tokens, intermediate]}). fp32 throughout,
 * within a few ulp of the double-precision form; the scalar tail uses the same steps, so every element
 * gets the same bits wherever it falls.
 */
final class Silu {
    private Silu() { }

    private static final jdk.incubator.vector.VectorSpecies<Float> F = VecMath.F;

    static void forward(float[] g, float[] u, float[] h, int from, int to) {
        int i = from, L = F.length();
        for (; i <= to - L; i += L) {
            FloatVector x = FloatVector.fromArray(F, g, i);
            FloatVector s = VecMath.exp(x.neg()).add(1f);
            x.div(s).mul(FloatVector.fromArray(F, u, i)).intoArray(h, i);
        }
        for (; i < to; i++) h[i] = g[i] / (VecMath.exp(-g[i]) + 1f) * u[i];
    }

    static void backward(float[] g, float[] u, float[] dy, float[] dg, float[] du, int from, int to) {
        int i = from, L = F.length();
        for (; i <= to - L; i += L) {
            FloatVector x = FloatVector.fromArray(F, g, i), d = FloatVector.fromArray(F, dy, i);
            FloatVector s = FloatVector.broadcast(F, 1f).div(VecMath.exp(x.neg()).add(1f));
            FloatVector slope = s.mul(x.mul(s.neg().add(1f)).add(1f));
            d.mul(FloatVector.fromArray(F, u, i)).mul(slope).intoArray(dg, i);
            d.mul(x.mul(s)).intoArray(du, i);
        }
        for (; i < to; i++) {
            float x = g[i], d = dy[i], s = 1f / (VecMath.exp(-x) + 1f);
            dg[i] = d * u[i] * (s * (x * (1f - s) + 1f));
            du[i] = d * (x * s);
        }
    }
}

package jllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Cross-entropy over the vocabulary, forward and backward in one pass per row (llm.c's fused
 * classifier): the caller hands in one chunk of raw logits and gets the summed loss back with the
 * chunk overwritten by its gradient, so no {@code [tokens, vocab]} tensor outlives its chunk.
 * Vectorised with {@link VecMath}'s exp (a 128k vocabulary means 2 exps per logit per step);
 * the exp sum is taken in fp32 blocks of {@link #BLOCK} added in double.
 */
final class CpuLoss {
    private CpuLoss() { }

    private static final int L = CpuBackend.F.length();
    private static final int BLOCK = 256;

    static double crossEntropy(Parallel par, float[] z, int rows, int vocab, int[] labels, int labelOff, float logitScale,
                               float softcap, float dScale, float[] rowLoss) {
        double[] loss = new double[rows];
        par.forRange(rows, 1, (r0, r1) -> {
            for (int t = r0; t < r1; t++) loss[t] = row(z, t * vocab, vocab, labels[labelOff + t], logitScale, softcap, dScale);
        });
        double sum = 0;
        for (int t = 0; t < rows; t++) {
            if (rowLoss != null) rowLoss[t] = (float) loss[t];
            sum += loss[t];
        }
        return sum;
    }

    /**
     * One row: y = m z, capped c tanh(y / c); loss = logsumexp(y) - y[label]; gradient
     * dScale (softmax(y) - onehot) (1 - tanh^2) m written over z.
     */
    private static double row(float[] z, int o, int vocab, int label, float m, float cap, float dScale) {
        if (label < 0) {
            if (dScale != 0f) java.util.Arrays.fill(z, o, o + vocab, 0f);
            return 0;
        }
        if (label >= vocab) throw new IllegalArgumentException("label " + label + " outside the vocabulary [0, " + vocab + ")");
        int end = o + vocab, vend = o + (vocab / L) * L;
        // y = m z (capped), and its max: max is exact in any order
        FloatVector vmax = FloatVector.broadcast(CpuBackend.F, Float.NEGATIVE_INFINITY);
        int i = o;
        for (; i < vend; i += L) {
            FloatVector y = FloatVector.fromArray(CpuBackend.F, z, i).mul(m);
            if (cap > 0) {
                y.intoArray(z, i);
                for (int j = i; j < i + L; j++) z[j] = (float) (cap * Math.tanh(z[j] / cap));
                y = FloatVector.fromArray(CpuBackend.F, z, i);
            }
            y.intoArray(z, i);
            vmax = vmax.max(y);
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (; i < end; i++) {
            float y = z[i] * m;
            if (cap > 0) y = (float) (cap * Math.tanh(y / cap));
            z[i] = y;
            max = Math.max(max, y);
        }
        double sum = 0;
        for (int b = o; b < end; b += BLOCK) {
            int bend = Math.min(end, b + BLOCK), bv = b + ((bend - b) / L) * L;
            FloatVector acc = FloatVector.zero(CpuBackend.F);
            int j = b;
            for (; j < bv; j += L) acc = acc.add(VecMath.exp(FloatVector.fromArray(CpuBackend.F, z, j).sub(max)));
            float s = VecMath.sum(acc);
            for (; j < bend; j++) s += VecMath.exp(z[j] - max);
            sum += s;
        }
        float lse = (float) (max + Math.log(sum));
        double loss = (double) lse - z[o + label];
        if (dScale != 0f) {
            float yLabel = z[o + label];
            FloatVector scale = FloatVector.broadcast(CpuBackend.F, dScale * m);
            for (i = o; i < vend; i += L) {
                FloatVector y = FloatVector.fromArray(CpuBackend.F, z, i), g = VecMath.exp(y.sub(lse));
                if (cap > 0) {
                    FloatVector t = y.div(cap);
                    g = g.mul(t.mul(t).neg().add(1f));
                }
                g.mul(scale).intoArray(z, i);
            }
            for (; i < end; i++) {
                float y = z[i], g = VecMath.exp(y - lse);
                if (cap > 0) { float t = y / cap; g *= 1 - t * t; }
                z[i] = g * dScale * m;
            }
            // the one-hot term, with the label's own soft-cap slope
            float slope = 1f;
            if (cap > 0) { float t = yLabel / cap; slope = 1 - t * t; }
            z[o + label] -= slope * dScale * m;
        }
        return loss;
    }
}

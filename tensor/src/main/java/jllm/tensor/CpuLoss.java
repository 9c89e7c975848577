package jllm.tensor;

/**
 * Cross-entropy over the vocabulary, forward and backward in one pass per row (llm.c's fused
 * classifier): the caller hands in one chunk of raw logits and gets the summed loss back with the
 * chunk overwritten by its gradient, so no {@code [tokens, vocab]} tensor outlives its chunk.
 */
final class CpuLoss {
    private CpuLoss() { }

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
     * One row: y = m z, capped c tanh(y / c); loss = logsumexp(y) - y[label] (fp32 logits, sums in
     * double); gradient dScale (softmax(y) - onehot) * (1 - tanh^2) * m written over z.
     */
    private static double row(float[] z, int o, int vocab, int label, float m, float cap, float dScale) {
        if (label < 0) {
            if (dScale != 0f) java.util.Arrays.fill(z, o, o + vocab, 0f);
            return 0;
        }
        if (label >= vocab) throw new IllegalArgumentException("label " + label + " outside the vocabulary [0, " + vocab + ")");
        float max = Float.NEGATIVE_INFINITY;
        for (int i = o; i < o + vocab; i++) {
            float y = z[i] * m;
            if (cap > 0) y = (float) (cap * Math.tanh(y / cap));
            z[i] = y;
            if (y > max) max = y;
        }
        double sum = 0;
        for (int i = o; i < o + vocab; i++) sum += Math.exp(z[i] - max);
        double lse = max + Math.log(sum);
        double loss = lse - z[o + label];
        if (dScale != 0f) {
            for (int i = o; i < o + vocab; i++) {
                float y = z[i];
                double g = Math.exp(y - lse) - (i == o + label ? 1 : 0);
                if (cap > 0) { double t = y / cap; g *= 1 - t * t; }
                z[i] = (float) (g * dScale * m);
            }
        }
        return loss;
    }
}

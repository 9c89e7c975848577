package jllm.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import jllm.train.Param;
import org.junit.jupiter.api.Test;

/**
 * Four micro-batches of different lengths (some positions masked) on a small softmax-regression model:
 * accumulating sum-reduced gradients scaled by 1 / (all targets of the step) gives the gradient of the
 * one-batch mean loss; the mean of per-micro-batch means (the pre-2024 transformers way) does not.
 */
class GradAccumulationTest {
    static final int V = 7, D = 5;

    /** Adds {@code scale * d(sum of token losses)/dW} of one sequence into {@code grad}; returns the summed loss. */
    static double sumLossAndGrad(float[] w, float[][] x, int[] targets, double scale, float[] grad) {
        double loss = 0;
        for (int t = 0; t < x.length; t++) {
            if (targets[t] == GradAccumulation.IGNORE) continue;
            double[] logit = new double[V];
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (int v = 0; v < V; v++) {
                for (int k = 0; k < D; k++) logit[v] += (double) w[v * D + k] * x[t][k];
                max = Math.max(max, logit[v]);
            }
            for (int v = 0; v < V; v++) z += Math.exp(logit[v] - max);
            loss += Math.log(z) + max - logit[targets[t]];
            for (int v = 0; v < V; v++) {
                double d = Math.exp(logit[v] - max) / z - (v == targets[t] ? 1 : 0);
                for (int k = 0; k < D; k++) grad[v * D + k] += (float) (scale * d * x[t][k]);
            }
        }
        return loss;
    }

    @Test
    void accumulatedMicroBatchesEqualOneBatch() {
        Random r = new Random(9);
        float[] w = new float[V * D];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        int[] lengths = {3, 11, 2, 6};
        List<float[][]> xs = new ArrayList<>();
        List<int[]> targets = new ArrayList<>();
        for (int len : lengths) {
            float[][] x = new float[len][D];
            int[] labels = new int[len];
            for (int t = 0; t < len; t++) {
                for (int k = 0; k < D; k++) x[t][k] = (float) r.nextGaussian();
                labels[t] = t == 1 ? GradAccumulation.IGNORE : r.nextInt(V);
            }
            xs.add(x);
            targets.add(GradAccumulation.targets(labels, null));
        }
        // one batch of all sequences: the mean over every target token
        long all = 0;
        for (int[] t : targets) all += GradAccumulation.count(t);
        float[] full = new float[V * D];
        double fullLoss = 0;
        for (int i = 0; i < lengths.length; i++) fullLoss += sumLossAndGrad(w, xs.get(i), targets.get(i), 1.0 / all, full);
        fullLoss /= all;

        Param p = new Param("w", new long[] {V, D}, w.clone());
        GradAccumulation acc = GradAccumulation.of(targets);
        assertEquals(all, acc.targetTokens());
        for (int i = 0; i < lengths.length; i++) acc.add(sumLossAndGrad(w, xs.get(i), targets.get(i), acc.lossScale(), p.grad));
        assertEquals(fullLoss, acc.meanLoss(), 1e-12 * fullLoss);
        assertArrayEquals(full, p.grad, 1e-6f);

        // the mean of per-micro-batch means weighs tokens unequally
        float[] naive = new float[V * D];
        for (int i = 0; i < lengths.length; i++)
            sumLossAndGrad(w, xs.get(i), targets.get(i), 1.0 / GradAccumulation.count(targets.get(i)) / lengths.length, naive);
        double diff = 0, norm = 0;
        for (int i = 0; i < naive.length; i++) { diff += Math.abs(naive[i] - full[i]); norm += Math.abs(full[i]); }
        assertTrue(diff > 0.05 * norm, "the naive mean should differ, differs by " + diff / norm);
    }

    @Test
    void targetsShiftAndStopAtDocumentBoundaries() {
        int[] labels = {10, 11, 12, -100, 14, 15, 16};
        assertArrayEquals(new int[] {11, 12, -100, 14, 15, 16, -100}, GradAccumulation.targets(labels, null));
        boolean[] starts = {true, false, false, false, true, false, false};
        // position 3 would predict 14, the first token of the next packed document
        assertArrayEquals(new int[] {11, 12, -100, -100, 15, 16, -100}, GradAccumulation.targets(labels, starts));
        assertEquals(4, GradAccumulation.count(GradAccumulation.targets(labels, starts)));
    }

    @Test
    void aStepWithoutTargetsIsRefused() {
        String m = assertThrows(IllegalArgumentException.class, () -> GradAccumulation.of(List.of(new int[] {-100, -100}, new int[] {-100}))).getMessage();
        assertEquals("gradient accumulation: no target tokens in this step's 2 micro-batch(es) (every label is -100): nothing to learn from; check the label masking", m);
        GradAccumulation a = GradAccumulation.of(List.<int[]>of(new int[] {1}));
        assertThrows(IllegalStateException.class, a::meanLoss);
        a.add(0.5);
        assertThrows(IllegalStateException.class, () -> a.add(0.5));
    }
}

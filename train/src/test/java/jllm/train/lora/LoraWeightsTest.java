package jllm.train.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import jllm.tensor.Parallel;
import org.junit.jupiter.api.Test;

/**
 * LoRA's forward and backward against an fp64 reference: central finite differences of the scalar
 * {@code L = sum(G * Y)} (so {@code dY = G}), and the full-weight identity {@code dA = s B^T dW},
 * {@code dB = s dW A^T} with {@code dW = dY^T X}, for several shapes, ranks, dropout and threads.
 */
class LoraWeightsTest {
    static float[] gaussian(int n, Random r, double sd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * sd);
        return a;
    }

    /** A pair with random (non-zero) A and B, so every gradient path carries signal. */
    static LoraWeights random(int in, int out, int r, double dropout, boolean rs, Random rnd) {
        LoraWeights w = LoraWeights.create("model.layers.0.mlp.up_proj", in, out, new LoraConfig(r, 2 * r + 1, dropout, rs, List.of("up_proj")), 1);
        System.arraycopy(gaussian(out * r, rnd, 0.5), 0, w.b.value, 0, out * r);
        return w;
    }

    /** fp64 {@code L = sum G * s (m ⊙ X) A^T B^T}, with the dropout multiplier {@code m} as forward drew it. */
    static double loss(double[] a, double[] b, double[] x, double[] m, double[] g, int rows, int in, int out, int r, double s) {
        double l = 0;
        for (int t = 0; t < rows; t++) {
            double[] u = new double[r];
            for (int j = 0; j < r; j++)
                for (int c = 0; c < in; c++) u[j] += m[t * in + c] * x[t * in + c] * a[j * in + c];
            for (int o = 0; o < out; o++) {
                double y = 0;
                for (int j = 0; j < r; j++) y += b[o * r + j] * u[j];
                l += g[t * out + o] * s * y;
            }
        }
        return l;
    }

    static double[] d(float[] f) {
        double[] o = new double[f.length];
        for (int i = 0; i < f.length; i++) o[i] = f[i];
        return o;
    }

    /** Central difference of {@code loss} in element {@code i} of {@code v} (which is one of a, b, x). */
    static double fd(double[] v, int i, java.util.function.DoubleSupplier l) {
        double h = 1e-4 * Math.max(1, Math.abs(v[i])), keep = v[i];
        v[i] = keep + h;
        double p = l.getAsDouble();
        v[i] = keep - h;
        double q = l.getAsDouble();
        v[i] = keep;
        return (p - q) / (2 * h);
    }

    static void check(int rows, int in, int out, int r, double dropout, boolean rs, int threads, long seed) {
        Random rnd = new Random(seed);
        LoraWeights w = random(in, out, r, dropout, rs, rnd);
        Parallel par = Parallel.shared(threads);
        float[] x = gaussian(rows * in, rnd, 1), g = gaussian(rows * out, rnd, 1);
        float[] y0 = gaussian(rows * out, rnd, 1), y = y0.clone();
        long maskSeed = LoraWeights.maskSeed(7, 3, 0, w.module);
        LoraWeights.Saved saved = w.forward(par, x, rows, y, maskSeed);
        float[] dx0 = gaussian(rows * in, rnd, 1), dx = dx0.clone();
        float[] ga0 = gaussian(r * in, rnd, 1), gb0 = gaussian(out * r, rnd, 1);
        System.arraycopy(ga0, 0, w.a.grad, 0, ga0.length);
        System.arraycopy(gb0, 0, w.b.grad, 0, gb0.length);
        w.backward(par, saved, x, g, dx);

        // the multiplier dropout applied, recovered from the kernel itself: 0 or 1 / (1 - p)
        double[] m = new double[rows * in];
        float[] ones = new float[rows * in];
        java.util.Arrays.fill(ones, 1f);
        if (dropout == 0) java.util.Arrays.fill(m, 1);
        else {
            float[] mf = new float[rows * in];
            Dropout.apply(par, ones, mf, rows * in, (float) dropout, maskSeed);
            for (int i = 0; i < m.length; i++) m[i] = mf[i];
        }
        double[] a = d(w.a.value), b = d(w.b.value), xd = d(x), gd = d(g);
        double s = w.scale;
        String where = "rows=" + rows + " in=" + in + " out=" + out + " r=" + r + " dropout=" + dropout + " rs=" + rs + " threads=" + threads;
        java.util.function.DoubleSupplier l = () -> loss(a, b, xd, m, gd, rows, in, out, r, s);

        // forward: y - y0 = s (m x) A^T B^T, checked through the derivative of L in G (linear: exact)
        for (int t = 0; t < rows; t++)
            for (int o = 0; o < out; o++) {
                double[] e = new double[rows * out];
                e[t * out + o] = 1;
                double want = loss(a, b, xd, m, e, rows, in, out, r, s);
                assertEquals(want, y[t * out + o] - (double) y0[t * out + o], 2e-5 * (1 + Math.abs(want)), "y " + where);
            }
        double scaleA = 0, scaleB = 0, scaleX = 0;
        for (int i = 0; i < a.length; i++) scaleA = Math.max(scaleA, Math.abs(fd(a, i, l)));
        for (int i = 0; i < b.length; i++) scaleB = Math.max(scaleB, Math.abs(fd(b, i, l)));
        for (int i = 0; i < xd.length; i++) scaleX = Math.max(scaleX, Math.abs(fd(xd, i, l)));
        for (int i = 0; i < a.length; i++) assertEquals(fd(a, i, l), w.a.grad[i] - (double) ga0[i], 1e-5 * scaleA + 1e-6, "dA[" + i + "] " + where);
        for (int i = 0; i < b.length; i++) assertEquals(fd(b, i, l), w.b.grad[i] - (double) gb0[i], 1e-5 * scaleB + 1e-6, "dB[" + i + "] " + where);
        for (int i = 0; i < xd.length; i++) assertEquals(fd(xd, i, l), dx[i] - (double) dx0[i], 1e-5 * scaleX + 1e-6, "dX[" + i + "] " + where);
    }

    @Test
    void gradientsMatchFiniteDifferencesInDoublePrecision() {
        check(1, 8, 5, 1, 0, false, 1, 1);
        check(7, 37, 13, 4, 0, false, 2, 2);
        check(13, 64, 40, 8, 0, true, 3, 3);
        check(20, 33, 70, 16, 0, false, 2, 4);
    }

    @Test
    void dropoutGradientsUseTheForwardMask() {
        check(9, 40, 11, 4, 0.3, false, 1, 5);
        check(17, 70, 23, 8, 0.1, true, 2, 6);
    }

    /** The full-weight gradient restricted to the adapter: dA = s B^T dW, dB = s dW A^T, dW = dY^T X. */
    @Test
    void gradientsEqualTheFullWeightGradientProjectedOntoTheAdapter() {
        Random rnd = new Random(8);
        for (int[] sh : new int[][] {{5, 16, 24, 2}, {31, 100, 60, 16}, {64, 96, 200, 8}}) {
            int rows = sh[0], in = sh[1], out = sh[2], r = sh[3];
            LoraWeights w = random(in, out, r, 0, false, rnd);
            float[] x = gaussian(rows * in, rnd, 1), dy = gaussian(rows * out, rnd, 1);
            LoraWeights.Saved s = w.forward(Parallel.shared(2), x, rows, new float[rows * out], 0);
            w.backward(Parallel.shared(2), s, x, dy, null);
            double[] dW = new double[out * in];
            for (int t = 0; t < rows; t++)
                for (int o = 0; o < out; o++)
                    for (int c = 0; c < in; c++) dW[o * in + c] += (double) dy[t * out + o] * x[t * in + c];
            double sc = w.scale, maxA = 0, errA = 0, maxB = 0, errB = 0;
            for (int j = 0; j < r; j++)
                for (int c = 0; c < in; c++) {
                    double want = 0;
                    for (int o = 0; o < out; o++) want += sc * w.b.value[o * r + j] * dW[o * in + c];
                    maxA = Math.max(maxA, Math.abs(want));
                    errA = Math.max(errA, Math.abs(want - w.a.grad[j * in + c]));
                }
            for (int o = 0; o < out; o++)
                for (int j = 0; j < r; j++) {
                    double want = 0;
                    for (int c = 0; c < in; c++) want += sc * dW[o * in + c] * w.a.value[j * in + c];
                    maxB = Math.max(maxB, Math.abs(want));
                    errB = Math.max(errB, Math.abs(want - w.b.grad[o * r + j]));
                }
            assertTrue(errA < 1e-5 * maxA, "dA off by " + errA / maxA + " for " + java.util.Arrays.toString(sh));
            assertTrue(errB < 1e-5 * maxB, "dB off by " + errB / maxB + " for " + java.util.Arrays.toString(sh));
        }
    }

    @Test
    void forwardAddsTheMergedUpdateAndIsBitIdenticalOnAnyThreadCount() {
        Random rnd = new Random(10);
        int rows = 45, in = 77, out = 50;
        LoraWeights w = random(in, out, 8, 0.2, false, rnd);
        float[] x = gaussian(rows * in, rnd, 1), dy = gaussian(rows * out, rnd, 1);
        float[][] first = null;
        for (int threads : new int[] {1, 2, 3}) {
            w.a.zeroGrad();
            w.b.zeroGrad();
            float[] y = new float[rows * out], dx = new float[rows * in];
            LoraWeights.Saved s = w.forward(Parallel.shared(threads), x, rows, y, 99);
            w.backward(Parallel.shared(threads), s, x, dy, dx);
            float[][] got = {y, dx, w.a.grad.clone(), w.b.grad.clone()};
            if (first == null) first = got;
            else for (int i = 0; i < 4; i++) assertArrayEquals(first[i], got[i], "output " + i + " on " + threads + " threads");
        }
        // without dropout, y = x (s B A)^T
        LoraWeights nd = random(in, out, 8, 0, false, rnd);
        float[] y = new float[rows * out], delta = nd.delta(Parallel.shared(2));
        nd.forward(Parallel.shared(2), x, rows, y, 0);
        for (int t = 0; t < rows; t++)
            for (int o = 0; o < out; o++) {
                double want = 0, mag = 0;
                for (int c = 0; c < in; c++) { want += (double) x[t * in + c] * delta[o * in + c]; mag += Math.abs(x[t * in + c] * delta[o * in + c]); }
                assertEquals(want, y[t * out + o], 1e-5 * mag);
            }
    }

    @Test
    void dropoutDropsTheRequestedShareAndRescales() {
        int n = 200_000;
        float[] ones = new float[n], out = new float[n], again = new float[n];
        java.util.Arrays.fill(ones, 1f);
        Dropout.apply(Parallel.shared(2), ones, out, n, 0.25f, 42);
        Dropout.apply(Parallel.shared(1), ones, again, n, 0.25f, 42);
        assertArrayEquals(out, again, "the mask is a function of the seed only");
        int dropped = 0;
        for (float v : out) {
            if (v == 0) dropped++;
            else assertEquals(1 / 0.75f, v);
        }
        assertEquals(0.25, dropped / (double) n, 0.005);
        Dropout.apply(Parallel.shared(1), ones, again, n, 0.25f, 43);
        assertNotEquals(java.util.Arrays.hashCode(out), java.util.Arrays.hashCode(again));
    }

    /** PEFT's init: A ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_ with a = sqrt 5), B = 0; seeded per module. */
    @Test
    void initialisationFollowsPeft() {
        LoraConfig cfg = new LoraConfig(16, 32, 0, false, List.of("q_proj"));
        LoraWeights w = LoraWeights.create("model.layers.3.self_attn.q_proj", 1024, 2048, cfg, 5);
        double bound = 1 / Math.sqrt(1024), sum = 0, sq = 0, max = 0;
        for (float v : w.a.value) { sum += v; sq += (double) v * v; max = Math.max(max, Math.abs(v)); }
        int n = w.a.value.length;
        assertTrue(max <= bound && max > 0.99 * bound, "max |A| " + max + " vs bound " + bound);
        assertEquals(0, sum / n, 0.02 * bound);
        assertEquals(bound * bound / 3, sq / n, 0.02 * bound * bound / 3);
        for (float v : w.b.value) assertEquals(0f, v);
        assertEquals(2.0f, w.scale);
        assertEquals(List.of(16L, 1024L), java.util.Arrays.stream(w.a.shape()).boxed().toList());
        assertEquals(List.of(2048L, 16L), java.util.Arrays.stream(w.b.shape()).boxed().toList());
        assertEquals("base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight", w.a.name);
        assertEquals("base_model.model.model.layers.3.self_attn.q_proj.lora_B.weight", w.b.name);
        assertArrayEquals(w.a.value, LoraWeights.create("model.layers.3.self_attn.q_proj", 1024, 2048, cfg, 5).a.value);
        assertNotEquals(w.a.value[0], LoraWeights.create("model.layers.3.self_attn.k_proj", 1024, 2048, cfg, 5).a.value[0]);
        assertNotEquals(w.a.value[0], LoraWeights.create("model.layers.3.self_attn.q_proj", 1024, 2048, cfg, 6).a.value[0]);
        // rsLoRA: alpha / sqrt(r)
        assertEquals(8.0, new LoraConfig(16, 32, 0, true, List.of("q_proj")).scale());
    }

    /** Phi-3's fused qkv_proj: one pair; splitting it (A copied, B's rows sliced) reproduces each part exactly. */
    @Test
    void aFusedPairSplitsExactly() {
        Random rnd = new Random(12);
        int q = 24, kv = 8, in = 32, rows = 6;
        LoraWeights fused = LoraWeights.create("model.layers.0.self_attn.qkv_proj", in, q + 2 * kv, new LoraConfig(4, 8, 0, false, List.of("qkv_proj")), 3);
        System.arraycopy(gaussian(fused.b.value.length, rnd, 1), 0, fused.b.value, 0, fused.b.value.length);
        List<LoraWeights> parts = fused.split(List.of("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj", "model.layers.0.self_attn.v_proj"), q, kv, kv);
        float[] x = gaussian(rows * in, rnd, 1), y = new float[rows * (q + 2 * kv)];
        fused.forward(Parallel.shared(1), x, rows, y, 0);
        int first = 0;
        for (LoraWeights p : parts) {
            assertEquals(fused.scale, p.scale);
            float[] yp = new float[rows * p.out];
            p.forward(Parallel.shared(1), x, rows, yp, 0);
            for (int t = 0; t < rows; t++)
                for (int o = 0; o < p.out; o++) assertEquals(y[t * (q + 2 * kv) + first + o], yp[t * p.out + o], 1e-6f);
            first += p.out;
        }
        assertEquals("base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight", parts.get(1).b.name);
        assertThrows(IllegalArgumentException.class, () -> fused.split(List.of("a", "b"), 20, 19));
    }

    @Test
    void badShapesAreRefused() {
        LoraWeights w = LoraWeights.create("m", 8, 4, new LoraConfig(2, 2, 0, false, List.of("m")), 1);
        String m = assertThrows(IllegalArgumentException.class, () -> w.forward(Parallel.shared(1), new float[15], 2, new float[8], 0)).getMessage();
        assertEquals("LoRA m: x holds 15 values, needs 2 x 8", m);
    }
}

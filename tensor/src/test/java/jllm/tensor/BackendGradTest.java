package jllm.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

/**
 * Every backward op of the CPU backend against central finite differences of a plain fp64
 * reference of its forward (which the fp32 forward must also match): the loss is {@code sum c * y}
 * for random c, so the backward is called with {@code dy = c}.
 */
class BackendGradTest {
    private final CpuBackend be = CpuBackend.reproducible(3);
    private final Random rnd = new Random(42);

    // ---- helpers --------------------------------------------------------------------------------

    private float[] randn(int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextGaussian() * scale);
        return a;
    }

    private static HeapBuf buf(float[] a) { return new HeapBuf(a.clone()); }

    private static float[] arr(Buf b) { return HeapBuf.of(b); }

    private static double[] dbl(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    private static double dot(double[] c, double[] y) {
        double s = 0;
        for (int i = 0; i < y.length; i++) s += c[i] * y[i];
        return s;
    }

    /** Central differences of f at x in fp64. */
    private static double[] numGrad(ToDoubleFunction<double[]> f, double[] x) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double keep = x[i], h = 1e-6 * Math.max(1, Math.abs(keep));
            x[i] = keep + h;
            double up = f.applyAsDouble(x);
            x[i] = keep - h;
            double down = f.applyAsDouble(x);
            x[i] = keep;
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    private static void close(float[] got, double[] want, double tol, String what) {
        assertEquals(want.length, got.length, what + " length");
        double diff = 0, norm = 0;
        for (int i = 0; i < got.length; i++) {
            diff += (got[i] - want[i]) * (got[i] - want[i]);
            norm += want[i] * want[i];
        }
        double rel = Math.sqrt(diff / Math.max(norm, 1e-300));
        assertTrue(rel <= tol, what + ": rel L2 error " + rel + " > " + tol);
    }

    // ---- norms ----------------------------------------------------------------------------------

    private static double[] rmsRef(double[] x, double[] w, int rows, int n, double eps, boolean onePlus) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < n; i++) ss += x[r * n + i] * x[r * n + i];
            double inv = 1 / Math.sqrt(ss / n + eps);
            for (int i = 0; i < n; i++) y[r * n + i] = x[r * n + i] * inv * (w == null ? 1 : onePlus ? 1 + w[i] : w[i]);
        }
        return y;
    }

    @Test
    void rmsNormBackwardMatchesFiniteDifferences() {
        int rows = 3, n = 37;
        for (int variant = 0; variant < 3; variant++) {
            boolean onePlus = variant == 1, noWeight = variant == 2;
            float[] x = randn(rows * n, 1.5), w = noWeight ? null : randn(n, 0.3), c = randn(rows * n, 1);
            if (w != null && !onePlus) for (int i = 0; i < n; i++) w[i] += 1;
            float eps = 1e-5f;
            HeapBuf y = new HeapBuf(rows * n), rstd = new HeapBuf(rows);
            be.rmsNorm(buf(x), y, rows, n, w == null ? null : buf(w), eps, onePlus, rstd);
            double[] wd = w == null ? null : dbl(w), cd = dbl(c);
            close(arr(y), rmsRef(dbl(x), wd, rows, n, eps, onePlus), 1e-6, "rmsNorm forward");
            float[] init = randn(rows * n, 1);
            HeapBuf dx = buf(init), dw = w == null ? null : new HeapBuf(n);
            be.rmsNormBackward(buf(x), w == null ? null : buf(w), onePlus, rstd, buf(c), rows, n, dx, true, dw);
            double[] want = numGrad(v -> dot(cd, rmsRef(v, wd, rows, n, eps, onePlus)), dbl(x));
            for (int i = 0; i < want.length; i++) want[i] += init[i];
            close(arr(dx), want, 1e-5, "rmsNorm dx (accumulated) variant " + variant);
            if (w != null) {
                double[] xd = dbl(x);
                close(arr(dw), numGrad(v -> dot(cd, rmsRef(xd, v, rows, n, eps, onePlus)), dbl(w)), 1e-5, "rmsNorm dw variant " + variant);
            }
            // in place: dx written over dy
            HeapBuf d = buf(c), dw2 = w == null ? null : new HeapBuf(n);
            be.rmsNormBackward(buf(x), w == null ? null : buf(w), onePlus, rstd, d, rows, n, d, false, dw2);
            for (int i = 0; i < want.length; i++) want[i] -= init[i];
            close(arr(d), want, 1e-5, "rmsNorm dx in place");
            if (w != null) assertArrayEquals(arr(dw), arr(dw2), "dw must be taken before dx overwrites dy");
        }
    }

    private static double[] layerNormRef(double[] x, double[] w, double[] b, int rows, int n, double eps, boolean onePlus) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double m = 0, v = 0;
            for (int i = 0; i < n; i++) m += x[r * n + i];
            m /= n;
            for (int i = 0; i < n; i++) v += (x[r * n + i] - m) * (x[r * n + i] - m);
            double inv = 1 / Math.sqrt(v / n + eps);
            for (int i = 0; i < n; i++) y[r * n + i] = (x[r * n + i] - m) * inv * (onePlus ? 1 + w[i] : w[i]) + b[i];
        }
        return y;
    }

    @Test
    void layerNormBackwardMatchesFiniteDifferences() {
        int rows = 4, n = 29;
        for (boolean onePlus : new boolean[] {false, true}) {
            float[] x = randn(rows * n, 2), w = randn(n, 0.3), b = randn(n, 0.3), c = randn(rows * n, 1);
            if (!onePlus) for (int i = 0; i < n; i++) w[i] += 1;
            float eps = 1e-5f;
            HeapBuf y = new HeapBuf(rows * n), mean = new HeapBuf(rows), rstd = new HeapBuf(rows);
            be.layerNorm(buf(x), y, rows, n, buf(w), buf(b), eps, onePlus, mean, rstd);
            double[] xd = dbl(x), wd = dbl(w), bd = dbl(b), cd = dbl(c);
            close(arr(y), layerNormRef(xd, wd, bd, rows, n, eps, onePlus), 1e-6, "layerNorm forward");
            HeapBuf dx = new HeapBuf(rows * n), dw = new HeapBuf(n), db = new HeapBuf(n);
            be.layerNormBackward(buf(x), buf(w), onePlus, mean, rstd, buf(c), rows, n, dx, false, dw, db);
            close(arr(dx), numGrad(v -> dot(cd, layerNormRef(v, wd, bd, rows, n, eps, onePlus)), dbl(x)), 1e-5, "layerNorm dx");
            close(arr(dw), numGrad(v -> dot(cd, layerNormRef(xd, v, bd, rows, n, eps, onePlus)), dbl(w)), 1e-5, "layerNorm dw");
            close(arr(db), numGrad(v -> dot(cd, layerNormRef(xd, wd, v, rows, n, eps, onePlus)), dbl(b)), 1e-5, "layerNorm db");
        }
    }

    // ---- RoPE -----------------------------------------------------------------------------------

    @Test
    void ropeBackwardIsTheTransposeOfTheForward() {
        int rows = 5, heads = 3, hd = 12;
        for (int rot : new int[] {12, 4})
            for (boolean interleaved : new boolean[] {false, true}) {
                float[] cos = new float[rows * rot / 2], sin = new float[rows * rot / 2];
                for (int i = 0; i < cos.length; i++) {
                    double a = rnd.nextDouble() * 7, s = 1.3; // scaled like yarn/longrope's attention factor
                    cos[i] = (float) (Math.cos(a) * s);
                    sin[i] = (float) (Math.sin(a) * s);
                }
                float[] x = randn(rows * heads * hd, 1), y = randn(rows * heads * hd, 1);
                HeapBuf rx = buf(x), ry = buf(y);
                be.rope(rx, rows, heads, hd, rot, buf(cos), buf(sin), interleaved, false);
                be.rope(ry, rows, heads, hd, rot, buf(cos), buf(sin), interleaved, true);
                double lhs = dot(dbl(arr(rx)), dbl(y)), rhs = dot(dbl(x), dbl(arr(ry)));
                assertEquals(lhs, rhs, 1e-5 * Math.abs(lhs) + 1e-5, "<R x, y> = <x, R^T y> rot " + rot + " interleaved " + interleaved);
                for (int t = 0; t < rows; t++)
                    for (int h = 0; h < heads; h++)
                        for (int i = rot; i < hd; i++) {
                            int o = (t * heads + h) * hd + i;
                            assertEquals(x[o], arr(rx)[o], "dims past the rotary part stay");
                        }
            }
    }

    // ---- attention ------------------------------------------------------------------------------

    /** fp64 attention (also the reference of {@link KvCacheAttentionTest}). */
    static double[] attentionRef(double[] q, double[] k, double[] v, int rows, int[] pos, int[] base, int heads, int kvHeads, int hd,
                                         double scale, double cap, AttentionMask mask) {
        double[] out = new double[rows * heads * hd];
        int group = heads / kvHeads;
        for (int t = 0; t < rows; t++)
            for (int h = 0; h < heads; h++) {
                int p = pos[t], j0 = mask.firstKey(p), kvh = h / group;
                double[] s = new double[p + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = j0; j <= p; j++) {
                    double d = 0;
                    for (int i = 0; i < hd; i++) d += q[(t * heads + h) * hd + i] * k[((base[t] + j) * kvHeads + kvh) * hd + i];
                    d *= scale;
                    if (cap > 0) d = cap * Math.tanh(d / cap);
                    s[j] = d;
                    max = Math.max(max, d);
                }
                double sum = 0;
                for (int j = j0; j <= p; j++) sum += s[j] = Math.exp(s[j] - max);
                for (int j = j0; j <= p; j++)
                    for (int i = 0; i < hd; i++) out[(t * heads + h) * hd + i] += s[j] / sum * v[((base[t] + j) * kvHeads + kvh) * hd + i];
            }
        return out;
    }

    @Test
    void attentionBackwardMatchesFiniteDifferences() {
        int[] starts = {0, 5}; // two packed examples: rows 0..4 and 5..12
        int rows = 13;
        int[] pos = new int[rows], base = new int[rows];
        for (int t = 0; t < rows; t++) { base[t] = t < 5 ? 0 : 5; pos[t] = t - base[t]; }
        Object[][] cases = {
                {4, 2, 8, AttentionMask.CAUSAL, 0f}, {4, 1, 6, AttentionMask.sliding(3), 0f}, {2, 2, 8, AttentionMask.chunked(3), 0f},
                {4, 2, 8, AttentionMask.CAUSAL, 2f}, {3, 1, 5, AttentionMask.sliding(2), 1.5f}};
        for (Object[] cs : cases) {
            int heads = (int) cs[0], kvHeads = (int) cs[1], hd = (int) cs[2];
            AttentionMask mask = (AttentionMask) cs[3];
            float cap = (float) cs[4], scale = 0.7f / (float) Math.sqrt(hd);
            String what = heads + "/" + kvHeads + " heads, hd " + hd + ", " + mask + ", softcap " + cap;
            float[] q = randn(rows * heads * hd, 1.5), k = randn(rows * kvHeads * hd, 1.5), v = randn(rows * kvHeads * hd, 1), c = randn(rows * heads * hd, 1);
            HeapBuf out = new HeapBuf(rows * heads * hd), lse = new HeapBuf(rows * heads);
            be.attention(buf(q), rows, pos, base, buf(k), buf(v), heads, kvHeads, hd, scale, cap, mask, out, lse);
            double[] qd = dbl(q), kd = dbl(k), vd = dbl(v), cd = dbl(c);
            close(arr(out), attentionRef(qd, kd, vd, rows, pos, base, heads, kvHeads, hd, scale, cap, mask), 1e-6, "attention forward " + what);
            HeapBuf dq = new HeapBuf(q.length), dk = new HeapBuf(k.length), dv = new HeapBuf(v.length);
            be.attentionBackward(buf(q), buf(k), buf(v), out, lse, buf(c), rows, pos, base, heads, kvHeads, hd, scale, cap, mask, dq, dk, dv);
            close(arr(dq), numGrad(x -> dot(cd, attentionRef(x, kd, vd, rows, pos, base, heads, kvHeads, hd, scale, cap, mask)), dbl(q)), 1e-5, "dq " + what);
            close(arr(dk), numGrad(x -> dot(cd, attentionRef(qd, x, vd, rows, pos, base, heads, kvHeads, hd, scale, cap, mask)), dbl(k)), 1e-5, "dk " + what);
            close(arr(dv), numGrad(x -> dot(cd, attentionRef(qd, kd, x, rows, pos, base, heads, kvHeads, hd, scale, cap, mask)), dbl(v)), 1e-5, "dv " + what);
            // the same bits whatever the thread count
            HeapBuf dq1 = new HeapBuf(q.length), dk1 = new HeapBuf(k.length), dv1 = new HeapBuf(v.length);
            CpuBackend.reproducible(1).attentionBackward(buf(q), buf(k), buf(v), out, lse, buf(c), rows, pos, base, heads, kvHeads, hd, scale, cap, mask, dq1, dk1, dv1);
            assertArrayEquals(arr(dq), arr(dq1), "dq independent of threads");
            assertArrayEquals(arr(dk), arr(dk1), "dk independent of threads");
            assertArrayEquals(arr(dv), arr(dv1), "dv independent of threads");
        }
    }

    /** The attention backward in fp64, written from its formulas (finite differences are too slow at model shapes). */
    private static double[][] attentionBackwardRef(double[] q, double[] k, double[] v, double[] dOut, int rows, int[] pos, int[] base, int heads,
                                                   int kvHeads, int hd, double scale, double cap, AttentionMask mask) {
        double[] dq = new double[q.length], dk = new double[k.length], dv = new double[v.length];
        int group = heads / kvHeads;
        for (int t = 0; t < rows; t++)
            for (int h = 0; h < heads; h++) {
                int p = pos[t], j0 = mask.firstKey(p), kvh = h / group, qo = (t * heads + h) * hd;
                double[] s = new double[p + 1], raw = new double[p + 1], dp = new double[p + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = j0; j <= p; j++) {
                    int ko = ((base[t] + j) * kvHeads + kvh) * hd;
                    double d = 0, e = 0;
                    for (int i = 0; i < hd; i++) { d += q[qo + i] * k[ko + i]; e += dOut[qo + i] * v[ko + i]; }
                    raw[j] = d * scale;
                    s[j] = cap > 0 ? cap * Math.tanh(raw[j] / cap) : raw[j];
                    dp[j] = e;
                    max = Math.max(max, s[j]);
                }
                double sum = 0, dsum = 0;
                for (int j = j0; j <= p; j++) sum += Math.exp(s[j] - max);
                for (int j = j0; j <= p; j++) dsum += Math.exp(s[j] - max) / sum * dp[j];
                for (int j = j0; j <= p; j++) {
                    int ko = ((base[t] + j) * kvHeads + kvh) * hd;
                    double pj = Math.exp(s[j] - max) / sum, ds = pj * (dp[j] - dsum);
                    if (cap > 0) ds *= 1 - Math.pow(s[j] / cap, 2);
                    for (int i = 0; i < hd; i++) {
                        dq[qo + i] += ds * scale * k[ko + i];
                        dk[ko + i] += ds * scale * q[qo + i];
                        dv[ko + i] += pj * dOut[qo + i];
                    }
                }
            }
        return new double[][] {dq, dk, dv};
    }

    /**
     * At model shapes (head dims of 64 and more, dozens of keys) the register-blocked kernels take
     * their vector paths: forward and backward against fp64, the same bits on 1, 2 and 3 threads.
     */
    @Test
    void attentionKernelsMatchFp64AtModelShapes() {
        int rows = 87;
        int[] pos = new int[rows], base = new int[rows];
        for (int t = 0; t < rows; t++) { base[t] = t < 37 ? 0 : 37; pos[t] = t - base[t]; }
        Object[][] cases = {{8, 2, 64, AttentionMask.CAUSAL, 0f}, {6, 3, 80, AttentionMask.sliding(9), 0f}, {4, 4, 72, AttentionMask.CAUSAL, 20f},
                {8, 1, 128, AttentionMask.chunked(16), 0f}};
        for (Object[] cs : cases) {
            int heads = (int) cs[0], kvHeads = (int) cs[1], hd = (int) cs[2];
            AttentionMask mask = (AttentionMask) cs[3];
            float cap = (float) cs[4], scale = 1f / (float) Math.sqrt(hd);
            String what = heads + "/" + kvHeads + " heads, hd " + hd + ", " + mask + ", softcap " + cap;
            float[] q = randn(rows * heads * hd, 1.5), k = randn(rows * kvHeads * hd, 1.5), v = randn(rows * kvHeads * hd, 1), c = randn(rows * heads * hd, 1);
            double[][] want = attentionBackwardRef(dbl(q), dbl(k), dbl(v), dbl(c), rows, pos, base, heads, kvHeads, hd, scale, cap, mask);
            float[][] first = null;
            for (int threads : new int[] {1, 2, 3}) {
                CpuBackend b = CpuBackend.reproducible(threads);
                HeapBuf out = new HeapBuf(rows * heads * hd), lse = new HeapBuf(rows * heads);
                b.attention(buf(q), rows, pos, base, buf(k), buf(v), heads, kvHeads, hd, scale, cap, mask, out, lse);
                close(arr(out), attentionRef(dbl(q), dbl(k), dbl(v), rows, pos, base, heads, kvHeads, hd, scale, cap, mask), 1e-6, "forward " + what);
                HeapBuf dq = new HeapBuf(q.length), dk = new HeapBuf(k.length), dv = new HeapBuf(v.length);
                b.attentionBackward(buf(q), buf(k), buf(v), out, lse, buf(c), rows, pos, base, heads, kvHeads, hd, scale, cap, mask, dq, dk, dv);
                close(arr(dq), want[0], 1e-5, "dq " + what);
                close(arr(dk), want[1], 1e-5, "dk " + what);
                close(arr(dv), want[2], 1e-5, "dv " + what);
                float[][] got = {arr(out), arr(lse), arr(dq), arr(dk), arr(dv)};
                if (first == null) first = got;
                else for (int i = 0; i < got.length; i++) assertArrayEquals(first[i], got[i], what + ": " + threads + " threads give the bits of 1");
            }
        }
    }

    // ---- activations ------------------------------------------------------------------------------

    private static double act(Activation a, double x) {
        return switch (a) {
            case SILU -> x / (1 + Math.exp(-x));
            case GELU_EXACT -> 0.5 * x * (1 + MathUtil.erf(x / Math.sqrt(2)));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
            case RELU -> Math.max(x, 0);
            case RELU2 -> Math.max(x, 0) * Math.max(x, 0);
        };
    }

    @Test
    void activationBackwardsMatchFiniteDifferences() {
        int n = 300;
        for (Activation a : Activation.values()) {
            float[] g = randn(n, 2.5), u = randn(n, 1), c = randn(n, 1);
            for (int i = 0; i < n; i++) if (Math.abs(g[i]) < 1e-3) g[i] = 0.5f; // away from ReLU's kink
            double[] gd = dbl(g), ud = dbl(u), cd = dbl(c);
            HeapBuf dg = new HeapBuf(n), du = new HeapBuf(n), out = new HeapBuf(n);
            be.gated(a, buf(g), buf(u), out, n);
            double[] ref = new double[n];
            for (int i = 0; i < n; i++) ref[i] = act(a, gd[i]) * ud[i];
            close(arr(out), ref, 1e-6, a + " gated forward");
            be.gatedBackward(a, buf(g), buf(u), buf(c), dg, du, n);
            close(arr(dg), numGrad(x -> { double s = 0; for (int i = 0; i < n; i++) s += cd[i] * act(a, x[i]) * ud[i]; return s; }, dbl(g)), 1e-5, a + " dGate");
            close(arr(du), numGrad(x -> { double s = 0; for (int i = 0; i < n; i++) s += cd[i] * act(a, gd[i]) * x[i]; return s; }, dbl(u)), 1e-5, a + " dUp");
            HeapBuf dx = new HeapBuf(n);
            be.activateBackward(a, buf(g), buf(c), dx, n);
            close(arr(dx), numGrad(x -> { double s = 0; for (int i = 0; i < n; i++) s += cd[i] * act(a, x[i]); return s; }, dbl(g)), 1e-5, a + " activate dx");
        }
    }

    // ---- linear, embedding, element-wise ------------------------------------------------------------

    @Test
    void matmulBackwardGivesTheExactProducts() {
        int out = 7, in = 13, rows = 5;
        float[] w = randn(out * in, 1), x = randn(rows * in, 1), dy = randn(rows * out, 1), bias = randn(out, 1);
        Tensor wt = F32Tensor.of(w, out, in);
        HeapBuf y = new HeapBuf(rows * out);
        be.matmul(wt, buf(x), y, rows, buf(bias));
        double[] want = new double[rows * out];
        for (int t = 0; t < rows; t++)
            for (int r = 0; r < out; r++) {
                double s = bias[r];
                for (int c = 0; c < in; c++) s += (double) w[r * in + c] * x[t * in + c];
                want[t * out + r] = s;
            }
        close(arr(y), want, 1e-6, "reproducible matmul forward");
        HeapBuf dx = new HeapBuf(rows * in), dw = buf(new float[out * in]), db = new HeapBuf(out);
        be.matmulBackward(wt, buf(x), buf(dy), rows, dx, false, dw, db);
        double[] wdx = new double[rows * in], wdw = new double[out * in], wdb = new double[out];
        for (int t = 0; t < rows; t++)
            for (int r = 0; r < out; r++) {
                wdb[r] += dy[t * out + r];
                for (int c = 0; c < in; c++) {
                    wdx[t * in + c] += (double) dy[t * out + r] * w[r * in + c];
                    wdw[r * in + c] += (double) dy[t * out + r] * x[t * in + c];
                }
            }
        close(arr(dx), wdx, 1e-6, "dx = dy W");
        close(arr(dw), wdw, 1e-6, "dW = dy^T x");
        close(arr(db), wdb, 1e-6, "db = sum dy");
    }

    @Test
    void embeddingBackwardAddsEachRowToItsToken() {
        int vocab = 9, width = 21, rows = 6;
        float[] table = randn(vocab * width, 1), dy = randn(rows * width, 1);
        int[] ids = {3, 7, 3, 0, 8, 3};
        HeapBuf out = new HeapBuf(rows * width);
        be.embed(F32Tensor.of(table, vocab, width), ids, rows, out, 1.7f);
        for (int t = 0; t < rows; t++) for (int i = 0; i < width; i++) assertEquals(table[ids[t] * width + i] * 1.7f, arr(out)[t * width + i], 0f);
        HeapBuf d = new HeapBuf(vocab * width);
        be.embedBackward(buf(dy), ids, rows, width, 1.7f, d);
        double[] want = new double[vocab * width];
        for (int t = 0; t < rows; t++) for (int i = 0; i < width; i++) want[ids[t] * width + i] += 1.7 * dy[t * width + i];
        close(arr(d), want, 1e-6, "embedding backward");
    }

    @Test
    void softcapAndRowScalingBackwards() {
        int n = 50;
        float[] x = randn(n, 4), c = randn(n, 1);
        HeapBuf y = buf(x);
        be.softcap(y, n, 3f);
        HeapBuf dx = new HeapBuf(n);
        be.softcapBackward(y, buf(c), dx, n, 3f);
        double[] cd = dbl(c);
        close(arr(dx), numGrad(v -> { double s = 0; for (int i = 0; i < n; i++) s += cd[i] * 3 * Math.tanh(v[i] / 3); return s; }, dbl(x)), 1e-5, "softcap dx");
        float[] f = {0.5f, 2f, -1f, 3f, 1.25f};
        HeapBuf m = buf(x);
        be.scaleRows(m, buf(f), 5, 10);
        for (int i = 0; i < n; i++) assertEquals(x[i] * f[i / 10], arr(m)[i], 0f);
    }

    @Test
    void dropoutKeepsItsMaskForTheBackward() {
        int n = 100_000;
        float[] x = randn(n, 1), dy = randn(n, 1);
        HeapBuf y = new HeapBuf(n), dx = new HeapBuf(n), again = new HeapBuf(n);
        be.dropout(buf(x), y, n, 0.25f, 77);
        be.dropout(buf(dy), dx, n, 0.25f, 77);
        CpuBackend.reproducible(1).dropout(buf(x), again, n, 0.25f, 77);
        assertArrayEquals(arr(y), arr(again), "same seed, same mask, any thread count");
        int dropped = 0;
        for (int i = 0; i < n; i++) {
            boolean off = arr(y)[i] == 0f;
            if (off) dropped++;
            assertEquals(off, arr(dx)[i] == 0f, "backward uses the forward's mask");
            if (!off) assertEquals(x[i] / 0.75f, arr(y)[i], 1e-6f * Math.abs(x[i]) + 1e-9f);
        }
        assertEquals(0.25, dropped / (double) n, 0.01, "fraction dropped");
        HeapBuf other = new HeapBuf(n);
        be.dropout(buf(x), other, n, 0.25f, 78);
        assertTrue(!java.util.Arrays.equals(arr(y), arr(other)), "another seed, another mask");
        HeapBuf none = new HeapBuf(n);
        be.dropout(buf(x), none, n, 0f, 5);
        assertArrayEquals(x, arr(none), "p = 0 keeps everything");
    }

    // ---- mixture of experts -----------------------------------------------------------------------

    @Test
    void gatherAndScatterBackwardsAreTheirAdjoints() {
        int tokens = 6, width = 10, n = 3;
        int[] rows = {4, 1, 5}, slots = {9, 2, 11};
        float[] src = randn(tokens * width, 1), scale = randn(12, 1), ddst = randn(n * width, 1);
        // gather: dst[r] = s_r src[rows[r]]
        HeapBuf dSrc = new HeapBuf(tokens * width), dScale = new HeapBuf(12);
        be.gatherRowsBackward(buf(ddst), rows, slots, buf(scale), buf(src), n, width, dSrc, dScale);
        double[] cd = dbl(ddst), sd = dbl(scale);
        ToDoubleFunction<double[]> gatherLoss = v -> {
            double s = 0;
            for (int r = 0; r < n; r++) for (int i = 0; i < width; i++) s += cd[r * width + i] * sd[slots[r]] * v[rows[r] * width + i];
            return s;
        };
        close(arr(dSrc), numGrad(gatherLoss, dbl(src)), 1e-6, "gather dSrc");
        double[] srcd = dbl(src);
        close(arr(dScale), numGrad(v -> {
            double s = 0;
            for (int r = 0; r < n; r++) for (int i = 0; i < width; i++) s += cd[r * width + i] * v[slots[r]] * srcd[rows[r] * width + i];
            return s;
        }, dbl(scale)), 1e-6, "gather dScale");
        // scatter-add: dst[rows[r]] += s_r src[r]
        float[] small = randn(n * width, 1), dOut = randn(tokens * width, 1);
        HeapBuf dSmall = new HeapBuf(n * width), dScale2 = new HeapBuf(12);
        be.scatterAddRowsBackward(buf(dOut), rows, slots, buf(scale), buf(small), n, width, dSmall, dScale2);
        double[] od = dbl(dOut), smd = dbl(small);
        close(arr(dSmall), numGrad(v -> {
            double s = 0;
            for (int r = 0; r < n; r++) for (int i = 0; i < width; i++) s += od[rows[r] * width + i] * sd[slots[r]] * v[r * width + i];
            return s;
        }, dbl(small)), 1e-6, "scatter dSrc");
        close(arr(dScale2), numGrad(v -> {
            double s = 0;
            for (int r = 0; r < n; r++) for (int i = 0; i < width; i++) s += od[rows[r] * width + i] * v[slots[r]] * smd[r * width + i];
            return s;
        }, dbl(scale)), 1e-6, "scatter dScale");
    }

    /** fp64 routing weights for a fixed choice of experts. */
    private static double[] routeRef(double[] z, int rows, int e, int k, int[] chosen, boolean sigmoid, boolean renorm) {
        double[] w = new double[rows * k];
        for (int t = 0; t < rows; t++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < e; i++) max = Math.max(max, z[t * e + i]);
            for (int i = 0; i < e; i++) sum += Math.exp(z[t * e + i] - max);
            double tot = 0;
            for (int j = 0; j < k; j++) {
                double zz = z[t * e + chosen[t * k + j]];
                w[t * k + j] = sigmoid ? 1 / (1 + Math.exp(-zz)) : Math.exp(zz - max) / sum;
                tot += w[t * k + j];
            }
            if (renorm) for (int j = 0; j < k; j++) w[t * k + j] /= tot;
        }
        return w;
    }

    @Test
    void routingBackwardMatchesFiniteDifferencesWithTheChoiceFixed() {
        int rows = 4, e = 6, k = 2;
        for (int mode = 0; mode < 4; mode++) {
            boolean sigmoid = mode >= 2, renorm = mode % 2 == 1;
            float[] z = randn(rows * e, 1.5), c = randn(rows * k, 1);
            int[] chosen = new int[rows * k];
            HeapBuf w = new HeapBuf(rows * k), probs = new HeapBuf(rows * e);
            be.route(buf(z), rows, e, k, sigmoid, renorm, chosen, w, probs);
            for (int t = 0; t < rows; t++) {
                float best = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < e; i++) if (i != chosen[t * k] && i != chosen[t * k + 1]) best = Math.max(best, z[t * e + i]);
                assertTrue(z[t * e + chosen[t * k + 1]] >= best && z[t * e + chosen[t * k]] >= z[t * e + chosen[t * k + 1]], "top-k order");
            }
            close(arr(w), routeRef(dbl(z), rows, e, k, chosen, sigmoid, renorm), 1e-6, "routing weights mode " + mode);
            HeapBuf dz = new HeapBuf(rows * e);
            be.routeBackward(buf(z), probs, chosen, w, buf(c), rows, e, k, sigmoid, renorm, dz);
            double[] cd = dbl(c);
            close(arr(dz), numGrad(v -> dot(cd, routeRef(v, rows, e, k, chosen, sigmoid, renorm)), dbl(z)), 1e-5, "dLogits mode " + mode);
        }
    }

    // ---- loss -------------------------------------------------------------------------------------

    private static double ceRef(double[] z, int rows, int vocab, int[] labels, double m, double cap) {
        double loss = 0;
        for (int t = 0; t < rows; t++) {
            if (labels[t] < 0) continue;
            double[] y = new double[vocab];
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < vocab; i++) {
                y[i] = z[t * vocab + i] * m;
                if (cap > 0) y[i] = cap * Math.tanh(y[i] / cap);
                max = Math.max(max, y[i]);
            }
            for (int i = 0; i < vocab; i++) sum += Math.exp(y[i] - max);
            loss += max + Math.log(sum) - y[labels[t]];
        }
        return loss;
    }

    @Test
    void crossEntropyGradientMatchesFiniteDifferences() {
        int rows = 5, vocab = 23;
        int[] labels = {-7, 3, 22, -100, 0, 5};
        for (float[] mc : new float[][] {{1f, 0f}, {0.125f, 0f}, {1f, 6f}, {0.5f, 2.5f}}) {
            float m = mc[0], cap = mc[1];
            float[] z = randn(rows * vocab, 3);
            int[] lab = {3, 22, -100, 0, 5};
            double want = ceRef(dbl(z), rows, vocab, lab, m, cap);
            HeapBuf g = buf(z);
            double got = be.crossEntropy(g, rows, vocab, lab, 0, m, cap, 0.25f, null);
            assertEquals(want, got, 1e-5 * Math.abs(want), "loss");
            double[] num = numGrad(v -> 0.25 * ceRef(v, rows, vocab, lab, m, cap), dbl(z));
            close(arr(g), num, 1e-5, "dlogits scale " + m + " softcap " + cap);
            for (int i = 2 * vocab; i < 3 * vocab; i++) assertEquals(0f, arr(g)[i], "ignored row has no gradient");
        }
        // labels read at an offset (a chunk of rows)
        float[] z = randn(2 * vocab, 1);
        double at = be.crossEntropy(buf(z), 2, vocab, labels, 1, 1f, 0f, 0f, null);
        assertEquals(ceRef(dbl(z), 2, vocab, new int[] {3, 22}, 1, 0), at, 1e-5 * at);
    }

    // ---- determinism ------------------------------------------------------------------------------

    @Test
    void vectorExpIsAccurateAndTheSameInEveryTier() {
        float[] x = new float[512];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextDouble() * 100 - 90);
        float[] first = x.clone();
        float max = 0;
        CpuAttention.expInPlace(first, 0, first.length, max);
        for (int i = 0; i < x.length; i++) {
            double want = Math.exp(x[i]);
            if (x[i] > -87.3f) assertEquals(want, first[i], 1.5 * Math.ulp((float) want), "exp(" + x[i] + ")");
            else assertEquals(0f, first[i]);
        }
        for (int rep = 0; rep < 20000; rep++) {
            float[] again = x.clone();
            CpuAttention.expInPlace(again, 0, again.length, max);
            if (rep % 5000 == 0 || rep == 19999) assertArrayEquals(first, again, "exp changed after warm-up (rep " + rep + ")");
        }
    }
}

package jllm.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** The CPU backend: Vector API kernels in the tensor types, rows spread over a thread pool. */
public final class CpuBackend implements Backend {
    private final Parallel par;
    private final boolean exact;

    /** Quantized weights multiply int8-quantized activations (llama.cpp's speed and rounding). */
    public CpuBackend(int threads) { this(threads, false); }

    /**
     * {@code exact}: activations stay fp32 for every weight format (the reference path for comparisons
     * with transformers); otherwise quantized formats ({@link QuantMatmul}) quantize
     * the activations to 8 bits per 32-value block, as llama.cpp does.
     */
    public CpuBackend(int threads, boolean exact) {
        this.par = Parallel.shared(threads);
        this.exact = exact;
    }

    public boolean exact() { return exact; }

    public static CpuBackend withAllCores() { return new CpuBackend(Runtime.getRuntime().availableProcessors()); }

    @Override public String name() { return "cpu"; }

    @Override public int threads() { return par.threads(); }

    @Override
    public void matmul(Tensor w, float[] x, float[] y, int rows, float[] bias) {
        int out = w.dim(0), in = w.dim(1);
        if ((long) rows * in > x.length || (long) rows * out > y.length)
            throw new IllegalArgumentException("matmul " + w + " with " + rows + " rows: buffers too small");
        if (QuantMatmul.applies(w)) {
            QuantMatmul.matmul(par, (QuantTensor) w, x, y, rows, bias, exact);
            return;
        }
        if (PanelMatmul.applies(w, rows)) {
            PanelMatmul.matmul(par, w, x, y, rows, bias);
            return;
        }
        // Each worker owns a block of output features (a multiple of 4, the kernels' row group) and reuses
        // each weight block across all tokens; tiny matrices stay on the calling thread.
        long work = (long) out * in * rows;
        if (work < 1 << 16) {
            w.matmulRows(x, rows, y, 0, out, bias);
            return;
        }
        par.forRange(out, 4, 4, (r0, r1) -> w.matmulRows(x, rows, y, r0, r1, bias));
    }

    @Override
    public void rmsNorm(float[] x, float[] y, int rows, int n, float[] w, float eps, boolean onePlus) {
        par.forRange(rows, Math.max(1, ELEMENTWISE_CHUNK / n), (r0, r1) -> rmsNormRows(x, y, r0, r1, n, w, eps, onePlus));
    }

    private static void rmsNormRows(float[] x, float[] y, int r0, int r1, int n, float[] w, float eps, boolean onePlus) {
        for (int r = r0; r < r1; r++) {
            int o = r * n;
            double ss = 0;
            for (int i = 0; i < n; i++) ss += (double) x[o + i] * x[o + i];
            float inv = (float) (1.0 / Math.sqrt((float) (ss / n) + eps));
            for (int i = 0; i < n; i++) {
                float v = x[o + i] * inv;
                y[o + i] = w == null ? v : v * (onePlus ? 1f + w[i] : w[i]);
            }
        }
    }

    @Override
    public void layerNorm(float[] x, float[] y, int rows, int n, float[] w, float[] b, float eps, boolean onePlus) {
        for (int r = 0; r < rows; r++) {
            int o = r * n;
            double s = 0;
            for (int i = 0; i < n; i++) s += x[o + i];
            float mean = (float) (s / n);
            double ss = 0;
            for (int i = 0; i < n; i++) { double d = x[o + i] - mean; ss += d * d; }
            float inv = (float) (1.0 / Math.sqrt((float) (ss / n) + eps));
            for (int i = 0; i < n; i++) {
                float v = (x[o + i] - mean) * inv;
                if (w != null) v *= onePlus ? 1f + w[i] : w[i];
                y[o + i] = b == null ? v : v + b[i];
            }
        }
    }

    @Override
    public void rope(float[] x, int rows, int heads, int headDim, int rotaryDim, float[] cos, float[] sin, boolean interleaved) {
        int half = rotaryDim / 2;
        for (int t = 0; t < rows; t++) {
            int cs = t * half;
            for (int h = 0; h < heads; h++) {
                int o = (t * heads + h) * headDim;
                for (int i = 0; i < half; i++) {
                    float c = cos[cs + i], s = sin[cs + i];
                    int a = interleaved ? o + 2 * i : o + i, b = interleaved ? a + 1 : a + half;
                    float x0 = x[a], x1 = x[b];
                    x[a] = x0 * c - x1 * s;
                    x[b] = x1 * c + x0 * s;
                }
            }
        }
    }

    @Override
    public void attention(float[] q, int rows, int[] pos, float[] k, float[] v, int heads, int kvHeads, int hd,
                          float scale, float softcap, AttentionMask mask, float[] out) {
        int group = heads / kvHeads, kvStride = kvHeads * hd;
        par.forRange(rows * heads, 1, (from, to) -> {
            float[] scores = new float[pos[rows - 1] + 1 > 0 ? maxPos(pos, rows) + 1 : 1];
            for (int th = from; th < to; th++) {
                int t = th / heads, h = th % heads, kvh = h / group, p = pos[t];
                int qo = (t * heads + h) * hd, j0 = mask.firstKey(p);
                float max = Float.NEGATIVE_INFINITY;
                for (int j = j0; j <= p; j++) {
                    float s = dot(q, qo, k, j * kvStride + kvh * hd, hd) * scale;
                    if (softcap > 0) s = (float) (softcap * Math.tanh(s / softcap));
                    scores[j] = s;
                    if (s > max) max = s;
                }
                float inv = 1f / expInPlace(scores, j0, p + 1, max);
                int oo = qo;
                java.util.Arrays.fill(out, oo, oo + hd, 0f);
                for (int j = j0; j <= p; j++) axpy(scores[j] * inv, v, j * kvStride + kvh * hd, out, oo, hd);
            }
        });
    }

    /**
     * {@code s[i] = exp(s[i] - max)} over {@code [from, to)}, returning the sum (fp32, as torch's
     * softmax). Vector EXP (the JDK's intrinsic, within 1 ulp of Math.exp): a scalar libm call per
     * score made attention cost more than the weights at 1k tokens of context.
     */
    static float expInPlace(float[] s, int from, int to, float max) {
        FloatVector acc = FloatVector.zero(F);
        int i = from;
        for (; i <= to - F.length(); i += F.length()) {
            FloatVector e = FloatVector.fromArray(F, s, i).sub(max).lanewise(VectorOperators.EXP);
            e.intoArray(s, i);
            acc = acc.add(e);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) {
            float e = (float) Math.exp(s[i] - max);
            s[i] = e;
            sum += e;
        }
        return sum;
    }

    private static int maxPos(int[] pos, int rows) {
        int m = 0;
        for (int t = 0; t < rows; t++) m = Math.max(m, pos[t]);
        return m;
    }

    private static final jdk.incubator.vector.VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float s = 0;
        if (n >= F.length()) {
            FloatVector acc = FloatVector.fromArray(F, a, ao).mul(FloatVector.fromArray(F, b, bo));
            for (i = F.length(); i <= n - F.length(); i += F.length())
                acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
            s = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /** {@code y[yo..] += a * x[xo..]} over {@code n} elements. */
    static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector av = FloatVector.broadcast(F, a);
        for (; i <= n - F.length(); i += F.length())
            FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] += a * x[xo + i];
    }

    @Override
    public void gated(Activation act, float[] gate, float[] up, float[] out, int n) {
        // Element-wise with a libm exp/tanh per element: in prefill this is worth spreading over the cores.
        par.forRange(n, ELEMENTWISE_CHUNK, (a, b) -> {
            for (int i = a; i < b; i++) out[i] = act.apply(gate[i]) * up[i];
        });
    }

    @Override
    public void activate(Activation act, float[] x, int n) {
        par.forRange(n, ELEMENTWISE_CHUNK, (a, b) -> {
            for (int i = a; i < b; i++) x[i] = act.apply(x[i]);
        });
    }

    private static final int ELEMENTWISE_CHUNK = 1 << 13;
}

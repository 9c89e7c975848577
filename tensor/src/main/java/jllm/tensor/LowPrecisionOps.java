package jllm.tensor;

import java.util.stream.IntStream;

/**
 * Host kernels of the forward ops under non-default {@link Numerics}: each rounds where a PyTorch
 * model held in the activation dtype rounds (after every elementwise op, after each matmul's fp32
 * accumulation, once after an fp32 norm or softmax). Plain loops written for clarity: they serve
 * {@code jllm doctor} (comparing precisions and implementation variants), never the default path,
 * which keeps its tuned kernels. {@link Backend}'s default methods call them on host copies.
 */
final class LowPrecisionOps {
    private LowPrecisionOps() { }

    /** The weight's gain: {@code w} or {@code 1 + w} in fp32, 1 without a weight. */
    private static float gain(float[] w, int i, boolean onePlus) {
        return w == null ? 1f : onePlus ? 1f + w[i] : w[i];
    }

    /** Normalisation and its statistics: the fp32 kernels' own (CpuNorms), one worker per available core. */
    private static final Parallel PAR = Parallel.shared(Runtime.getRuntime().availableProcessors());

    /** RMSNorm: statistics and xhat in fp32, then the weight before or after the rounding as {@code nx.normUpcast} says. */
    static void rmsNorm(float[] x, float[] y, int rows, int n, float[] w, float eps, boolean onePlus, Numerics nx) {
        Precision a = nx.activations();
        boolean after = nx.normUpcast() == Numerics.NormUpcast.AFTER_WEIGHT;
        CpuNorms.rmsNorm(PAR, x, y, rows, n, null, eps, false, null);
        for (int r = 0; r < rows; r++)
            for (int i = 0, o = r * n; i < n; i++) {
                float xhat = y[o + i], g = gain(w, i, onePlus);
                y[o + i] = after ? a.round(a.round(xhat) * a.round(g)) : a.round(xhat * g);
            }
    }

    /**
     * LayerNorm as {@code F.layer_norm} computes it on a low-precision tensor: the gain
     * ({@code w} or {@code w + 1}, formed in the activation dtype) and bias held in that dtype,
     * normalisation and affine in fp32, one rounding of the result.
     */
    static void layerNorm(float[] x, float[] y, int rows, int n, float[] w, float[] b, float eps, boolean onePlus, Precision a) {
        CpuNorms.layerNorm(PAR, x, y, rows, n, null, null, eps, false, null, null);
        for (int r = 0; r < rows; r++)
            for (int i = 0, o = r * n; i < n; i++) {
                float v = y[o + i];
                if (w != null) v *= a.round(gain(w, i, onePlus));
                y[o + i] = a.round(b == null ? v : v + b[i]);
            }
    }

    /**
     * Rotate-half RoPE as {@code q * cos + rotate_half(q) * sin} computes it in the activation
     * dtype: each product and the sum rounded. Interleaved pairs (Llama 4) are a complex multiply in
     * fp32 with one rounding at the end.
     */
    static void rope(float[] x, int rows, int heads, int headDim, int rotaryDim, float[] cos, float[] sin, boolean interleaved, Precision p) {
        int half = rotaryDim / 2;
        for (int t = 0; t < rows; t++) {
            int cs = t * half;
            for (int h = 0; h < heads; h++) {
                int o = (t * heads + h) * headDim;
                for (int i = 0; i < half; i++) {
                    float c = cos[cs + i], s = sin[cs + i];
                    int a = interleaved ? o + 2 * i : o + i, b = interleaved ? a + 1 : a + half;
                    float x0 = x[a], x1 = x[b];
                    if (interleaved) {
                        x[a] = p.round(x0 * c - x1 * s);
                        x[b] = p.round(x1 * c + x0 * s);
                    } else {
                        x[a] = p.round(p.round(x0 * c) - p.round(x1 * s));
                        x[b] = p.round(p.round(x1 * c) + p.round(x0 * s));
                    }
                }
            }
        }
    }

    /**
     * Eager attention in the activation dtype A: {@code s = round_A(round_A(q.k) * scale)} (the
     * product accumulated in fp32), soft-cap {@code round_A(c * round_A(tanh(round_A(s / c))))},
     * softmax as {@code nx.softmax} says, probabilities rounded to A, {@code out = round_A(P V)}.
     */
    static void attention(float[] q, int rows, int[] pos, int[] keyBase, float[] k, float[] v, int heads, int kvHeads, int hd,
                          float scale, float softcap, AttentionMask mask, float[] out, Numerics nx) {
        Precision a = nx.activations();
        int group = heads / kvHeads, kvStride = kvHeads * hd;
        IntStream.range(0, rows * heads).parallel().forEach(th -> {
            int t = th / heads, h = th % heads, kvh = h / group, p = pos[t];
            int base = keyBase == null ? 0 : keyBase[t], qo = th * hd, j0 = mask.firstKey(p), n = p - j0 + 1;
            float[] s = new float[n];
            for (int j = 0; j < n; j++) {
                int ko = (base + j0 + j) * kvStride + kvh * hd;
                float d = 0;
                for (int i = 0; i < hd; i++) d += q[qo + i] * k[ko + i];
                float x = a.round(a.round(d) * scale);
                if (softcap > 0) x = a.round(softcap * a.round((float) Math.tanh(a.round(x / softcap))));
                s[j] = x;
            }
            softmax(s, nx.softmax(), a);
            for (int i = 0; i < hd; i++) {
                float acc = 0;
                for (int j = 0; j < n; j++) acc += s[j] * v[(base + j0 + j) * kvStride + kvh * hd + i];
                out[qo + i] = a.round(acc);
            }
        });
    }

    /** Softmax of the scores in place, in dtype {@code sm} (see {@link Numerics}), the probabilities then rounded to {@code a}. */
    static void softmax(float[] s, Precision sm, Precision a) {
        for (int j = 0; j < s.length; j++) s[j] = sm.round(s[j]);
        float max = Float.NEGATIVE_INFINITY;
        for (float x : s) max = Math.max(max, x);
        float sum = 0;
        for (int j = 0; j < s.length; j++) {
            s[j] = sm.round((float) Math.exp(sm.round(s[j] - max)));
            sum += s[j];
        }
        for (int j = 0; j < s.length; j++) s[j] = a.round(sm.round(s[j] / sum));
    }

    /** {@code out = round(round(act(g)) * u)}: the activation and the product are two ops. */
    static void gated(Activation act, float[] g, float[] u, float[] out, int n, Precision p) {
        for (int i = 0; i < n; i++) out[i] = p.round(p.round(act.apply(g[i])) * u[i]);
    }

    /** {@code x = round(c * round(tanh(round(x / c))))}: three ops. */
    static void softcap(float[] x, int n, float c, Precision p) {
        for (int i = 0; i < n; i++) x[i] = p.round(c * p.round((float) Math.tanh(p.round(x[i] / c))));
    }
}

package jllm.tensor;

import jdk.incubator.vector.FloatVector;

/** Rotary embedding and scaled dot-product attention on the CPU, forward and backward. */
final class CpuAttention {
    private CpuAttention() { }

    // ---- RoPE: (x_a, x_b) -> (x_a cos - x_b sin, x_b cos + x_a sin); backward: the same with -sin ----

    static void rope(float[] x, int rows, int heads, int headDim, int rotaryDim, float[] cos, float[] sin, boolean interleaved, boolean inverse) {
        int half = rotaryDim / 2;
        for (int t = 0; t < rows; t++) {
            int cs = t * half;
            for (int h = 0; h < heads; h++) {
                int o = (t * heads + h) * headDim;
                for (int i = 0; i < half; i++) {
                    float c = cos[cs + i], s = inverse ? -sin[cs + i] : sin[cs + i];
                    int a = interleaved ? o + 2 * i : o + i, b = interleaved ? a + 1 : a + half;
                    float x0 = x[a], x1 = x[b];
                    x[a] = x0 * c - x1 * s;
                    x[b] = x1 * c + x0 * s;
                }
            }
        }
    }

    // ---- attention forward ----------------------------------------------------------------------

    static void forward(Parallel par, float[] q, int rows, int[] pos, int[] keyBase, float[] k, float[] v, int heads, int kvHeads, int hd,
                        float scale, float softcap, AttentionMask mask, float[] out, float[] lse) {
        int group = heads / kvHeads, kvStride = kvHeads * hd, maxPos = maxPos(pos, rows);
        par.forRange(rows * heads, 1, (from, to) -> {
            float[] scores = new float[maxPos + 1];
            for (int th = from; th < to; th++) {
                int t = th / heads, h = th % heads, kvh = h / group, p = pos[t];
                int base = keyBase == null ? 0 : keyBase[t];
                int qo = (t * heads + h) * hd, j0 = mask.firstKey(p);
                float max = Float.NEGATIVE_INFINITY;
                for (int j = j0; j <= p; j++) {
                    float s = score(q, qo, k, (base + j) * kvStride + kvh * hd, hd, scale, softcap);
                    scores[j] = s;
                    if (s > max) max = s;
                }
                float sum = expInPlace(scores, j0, p + 1, max), inv = 1f / sum;
                java.util.Arrays.fill(out, qo, qo + hd, 0f);
                for (int j = j0; j <= p; j++) CpuBackend.axpy(scores[j] * inv, v, (base + j) * kvStride + kvh * hd, out, qo, hd);
                if (lse != null) lse[th] = max + (float) Math.log(sum);
            }
        });
    }

    /** One attention logit: {@code q.k * scale}, soft-capped. The backward recomputes it with this same function. */
    private static float score(float[] q, int qo, float[] k, int ko, int hd, float scale, float softcap) {
        float s = CpuBackend.dot(q, qo, k, ko, hd) * scale;
        return softcap > 0 ? (float) (softcap * Math.tanh(s / softcap)) : s;
    }

    /** d(score)/d(raw score) of the soft-cap, from the capped score. */
    private static float capSlope(float s, float softcap) {
        if (softcap <= 0) return 1f;
        float t = s / softcap;
        return 1f - t * t;
    }

    // ---- attention backward ---------------------------------------------------------------------

    /**
     * Two passes, each owning its outputs so no two threads add into the same element: pass 1 runs
     * over (query, head) and writes dq plus {@code D = dO . O}; pass 2 runs over (key, kv head) and
     * walks the queries that see that key (in order) to write dk and dv. Both recompute P from lse;
     * nothing of size {@code [heads, T, T]} is ever stored.
     */
    static void backward(Parallel par, float[] q, float[] k, float[] v, float[] out, float[] lse, float[] dOut, int rows, int[] pos,
                         int[] keyBase, int heads, int kvHeads, int hd, float scale, float softcap, AttentionMask mask,
                         float[] dq, float[] dk, float[] dv) {
        int group = heads / kvHeads, kvStride = kvHeads * hd;
        for (int t = 0; t < rows; t++)
            if ((keyBase == null ? 0 : keyBase[t]) + pos[t] != t)
                throw new IllegalArgumentException("attention backward needs self-attention rows: row " + t + " is position " + pos[t]);
        float[] dSum = new float[rows * heads];
        par.forRange(rows * heads, 1, (from, to) -> {
            for (int th = from; th < to; th++) {
                int t = th / heads, h = th % heads, kvh = h / group, p = pos[t];
                int base = keyBase == null ? 0 : keyBase[t];
                int qo = th * hd;
                float d = CpuBackend.dot(dOut, qo, out, qo, hd), l = lse[th];
                dSum[th] = d;
                java.util.Arrays.fill(dq, qo, qo + hd, 0f);
                for (int j = mask.firstKey(p); j <= p; j++) {
                    int ko = (base + j) * kvStride + kvh * hd;
                    float s = score(q, qo, k, ko, hd, scale, softcap);
                    float pr = (float) Math.exp(s - l);
                    float ds = pr * (CpuBackend.dot(dOut, qo, v, ko, hd) - d) * capSlope(s, softcap);
                    CpuBackend.axpy(ds * scale, k, ko, dq, qo, hd);
                }
            }
        });
        par.forRange(rows * kvHeads, 1, (from, to) -> {
            for (int rk = from; rk < to; rk++) {
                int r = rk / kvHeads, kvh = rk % kvHeads, pj = pos[r];
                int base = keyBase == null ? 0 : keyBase[r];
                int ko = r * kvStride + kvh * hd;
                java.util.Arrays.fill(dk, ko, ko + hd, 0f);
                java.util.Arrays.fill(dv, ko, ko + hd, 0f);
                // firstKey is non-decreasing in the position for every mask kind: stop at the first query that no longer sees key r
                for (int t = r; t < rows && (keyBase == null ? 0 : keyBase[t]) == base && mask.firstKey(pos[t]) <= pj; t++) {
                    for (int g = 0; g < group; g++) {
                        int th = t * heads + kvh * group + g, qo = th * hd;
                        float s = score(q, qo, k, ko, hd, scale, softcap);
                        float pr = (float) Math.exp(s - lse[th]);
                        float ds = pr * (CpuBackend.dot(dOut, qo, v, ko, hd) - dSum[th]) * capSlope(s, softcap);
                        CpuBackend.axpy(ds * scale, q, qo, dk, ko, hd);
                        CpuBackend.axpy(pr, dOut, qo, dv, ko, hd);
                    }
                }
            }
        });
    }

    /**
     * {@code s[i] = exp(s[i] - max)} over {@code [from, to)}, returning the sum (fp32, as torch's
     * softmax). Vectorised ({@link VecMath#exp}, the same bits in every JIT tier): a scalar libm call
     * per score made attention cost more than the weights at 1k tokens of context.
     */
    static float expInPlace(float[] s, int from, int to, float max) {
        FloatVector acc = FloatVector.zero(CpuBackend.F);
        int i = from, L = CpuBackend.F.length();
        for (; i <= to - L; i += L) {
            FloatVector e = VecMath.exp(FloatVector.fromArray(CpuBackend.F, s, i).sub(max));
            e.intoArray(s, i);
            acc = acc.add(e);
        }
        float sum = VecMath.sum(acc);
        for (; i < to; i++) {
            float e = VecMath.exp(s[i] - max);
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
}

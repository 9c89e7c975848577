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
        if (keyBase != null && selfAttention(rows, pos, keyBase)) {
            forwardTiled(par, q, rows, pos, keyBase, k, v, heads, kvHeads, hd, scale, softcap, mask, out, lse);
            return;
        }
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

    private static boolean selfAttention(int rows, int[] pos, int[] keyBase) {
        for (int t = 0; t < rows; t++) if (keyBase[t] + pos[t] != t) return false;
        return true;
    }

    /**
     * Training's forward (packed examples attending to their own rows): per example and kv head the
     * keys are transposed once, so each query's scores come 16 keys per FMA with no lane
     * reductions, the same way the backward rebuilds them.
     */
    private static void forwardTiled(Parallel par, float[] q, int rows, int[] pos, int[] keyBase, float[] k, float[] v, int heads, int kvHeads,
                                     int hd, float scale, float softcap, AttentionMask mask, float[] out, float[] lse) {
        int group = heads / kvHeads, kvStride = kvHeads * hd, L = CpuBackend.F.length();
        for (int s = 0; s < rows; ) {
            int n = exampleLength(keyBase, s, rows), start = s, stride = (n + L - 1) / L * L;
            float[] kt = new float[hd * stride];
            for (int g = 0; g < kvHeads; g++) {
                transpose(k, start, n, kvStride, g * hd, hd, kt, stride);
                int kvh = g;
                par.forRange(n * group, 1, (r0, r1) -> {
                    float[] row = new float[stride];
                    for (int r = r0; r < r1; r++) {
                        int p = r / group, th = (start + p) * heads + kvh * group + r % group, qo = th * hd, j0 = mask.firstKey(p);
                        scoresTiled(q, qo, kt, stride, hd, j0, p, scale, softcap, row, 0);
                        float max = Float.NEGATIVE_INFINITY;
                        for (int j = j0; j <= p; j++) max = Math.max(max, row[j]);
                        float sum = expInPlace(row, j0, p + 1, max), inv = 1f / sum;
                        java.util.Arrays.fill(out, qo, qo + hd, 0f);
                        for (int j = j0; j <= p; j++) CpuBackend.axpy(row[j] * inv, v, (start + j) * kvStride + kvh * hd, out, qo, hd);
                        if (lse != null) lse[th] = max + (float) Math.log(sum);
                    }
                });
            }
            s += n;
        }
    }

    private static int exampleLength(int[] keyBase, int s, int rows) {
        int base = keyBase == null ? 0 : keyBase[s], n = 1;
        while (s + n < rows && (keyBase == null ? 0 : keyBase[s + n]) == base) n++;
        return n;
    }

    /** {@code dst[d * stride + j] = src[(start + j) * rowStride + off + d]}: one head's keys (or values) of an example, transposed. */
    private static void transpose(float[] src, int start, int n, int rowStride, int off, int hd, float[] dst, int stride) {
        for (int j = 0; j < n; j++)
            for (int d = 0; d < hd; d++) dst[d * stride + j] = src[(start + j) * rowStride + off + d];
    }

    /**
     * Scores {@code q.k_j * scale} (soft-capped) of keys {@code jb..} in whole vectors covering
     * {@code [j0, p]} into {@code dst[to + j]}, from transposed keys: per key the same FMA chain
     * over d, so forward and backward get the same bits.
     */
    private static void scoresTiled(float[] q, int qo, float[] kt, int stride, int hd, int j0, int p, float scale, float softcap, float[] dst, int to) {
        var F = CpuBackend.F;
        int L = F.length();
        for (int jb = j0 / L * L; jb <= p; jb += L) {
            FloatVector sv = FloatVector.zero(F);
            for (int d = 0; d < hd; d++) sv = FloatVector.fromArray(F, kt, d * stride + jb).fma(FloatVector.broadcast(F, q[qo + d]), sv);
            sv.mul(scale).intoArray(dst, to + jb);
            if (softcap > 0) for (int j = jb; j < jb + L; j++) dst[to + j] = (float) (softcap * Math.tanh(dst[to + j] / softcap));
        }
    }

    /** One attention logit: {@code q.k * scale}, soft-capped. The backward recomputes it with this same function. */
    private static float score(float[] q, int qo, float[] k, int ko, int hd, float scale, float softcap) {
        float s = CpuBackend.dot(q, qo, k, ko, hd) * scale;
        return softcap > 0 ? (float) (softcap * Math.tanh(s / softcap)) : s;
    }

    // ---- attention backward ---------------------------------------------------------------------

    /** Largest P / dS tile of one query block, in floats. */
    private static final int TILE = 1 << 22;

    /**
     * Per example and kv head, with that head's keys and values transposed ({@code [hd, keys]}) so
     * a query's scores and {@code dP} come 16 keys at a time from plain FMAs (no lane reductions):
     * phase 1 runs over the block's (query, head) rows and writes their P and dS rows and dq;
     * phase 2 runs over keys and adds, for each key, its column of the block in query order:
     * {@code dk_j += scale dS[., j] q}, {@code dv_j += P[., j] dO}. No two threads add into the same
     * element and every sum has a fixed order, whatever the thread count. Nothing of size
     * {@code [heads, T, T]} exists: a block's tiles are at most {@link #TILE} floats.
     */
    static void backward(Parallel par, float[] q, float[] k, float[] v, float[] out, float[] lse, float[] dOut, int rows, int[] pos,
                         int[] keyBase, int heads, int kvHeads, int hd, float scale, float softcap, AttentionMask mask,
                         float[] dq, float[] dk, float[] dv) {
        int group = heads / kvHeads, kvStride = kvHeads * hd, L = CpuBackend.F.length();
        for (int t = 0; t < rows; t++)
            if ((keyBase == null ? 0 : keyBase[t]) + pos[t] != t)
                throw new IllegalArgumentException("attention backward needs self-attention rows: row " + t + " is position " + pos[t]);
        java.util.Arrays.fill(dk, 0, rows * kvStride, 0f);
        java.util.Arrays.fill(dv, 0, rows * kvStride, 0f);
        for (int s = 0; s < rows; ) {
            int n = exampleLength(keyBase, s, rows), stride = (n + L - 1) / L * L, start = s;
            float[] kt = new float[hd * stride], vt = new float[hd * stride];
            int block = Math.max(1, Math.min(n, TILE / (group * stride)));
            float[] pTile = new float[block * group * stride], sTile = new float[block * group * stride];
            for (int kvh = 0; kvh < kvHeads; kvh++) {
                int g = kvh;
                transpose(k, start, n, kvStride, g * hd, hd, kt, stride);
                transpose(v, start, n, kvStride, g * hd, hd, vt, stride);
                int head0 = g * group;
                for (int qb = 0; qb < n; qb += block) {
                    int nb = Math.min(block, n - qb), first = qb;
                    par.forRange(nb * group, 1, (r0, r1) -> {
                        for (int r = r0; r < r1; r++)
                            queryRow(q, k, out, lse, dOut, kt, vt, stride, start, first + r / group, head0 + r % group, heads, kvStride, hd,
                                    scale, softcap, mask, dq, pTile, sTile, r * stride, g);
                    });
                    par.forRange(qb + nb, Math.max(1, 256 / hd), (j0, j1) -> {
                        for (int j = j0; j < j1; j++) {
                            int ko = (start + j) * kvStride + g * hd;
                            for (int r = Math.max(0, (j - first) * group); r < nb * group; r++) {
                                int p = first + r / group;
                                if (mask.firstKey(p) > j) break;
                                int qo = ((start + p) * heads + head0 + r % group) * hd;
                                CpuBackend.axpy(sTile[r * stride + j] * scale, q, qo, dk, ko, hd);
                                CpuBackend.axpy(pTile[r * stride + j], dOut, qo, dv, ko, hd);
                            }
                        }
                    });
                }
            }
            s += n;
        }
    }

    /** Phase 1 for query position p (of the example starting at row start), head h: its P and dS rows, and dq. */
    private static void queryRow(float[] q, float[] k, float[] out, float[] lse, float[] dOut, float[] kt, float[] vt, int stride, int start,
                                 int p, int h, int heads, int kvStride, int hd, float scale, float softcap, AttentionMask mask,
                                 float[] dq, float[] pTile, float[] sTile, int to, int g) {
        var F = CpuBackend.F;
        int L = F.length(), th = (start + p) * heads + h, qo = th * hd, j0 = mask.firstKey(p);
        float l = lse[th], dsum = CpuBackend.dot(dOut, qo, out, qo, hd);
        scoresTiled(q, qo, kt, stride, hd, j0, p, scale, softcap, sTile, to);
        for (int jb = j0 / L * L; jb <= p; jb += L) {
            FloatVector sv = FloatVector.fromArray(F, sTile, to + jb), dp = FloatVector.zero(F);
            for (int d = 0; d < hd; d++) dp = FloatVector.fromArray(F, vt, d * stride + jb).fma(FloatVector.broadcast(F, dOut[qo + d]), dp);
            FloatVector pv = VecMath.exp(sv.sub(l)), ds = pv.mul(dp.sub(dsum));
            if (softcap > 0) {
                FloatVector t = sv.div(softcap);
                ds = ds.mul(t.mul(t).neg().add(1f));
            }
            pv.intoArray(pTile, to + jb);
            ds.intoArray(sTile, to + jb);
            if (jb < j0 || jb + L > p + 1)
                for (int j = jb; j < jb + L; j++)
                    if (j < j0 || j > p) { pTile[to + j] = 0f; sTile[to + j] = 0f; }
        }
        java.util.Arrays.fill(dq, qo, qo + hd, 0f);
        for (int j = j0; j <= p; j++) CpuBackend.axpy(sTile[to + j] * scale, k, (start + j) * kvStride + g * hd, dq, qo, hd);
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

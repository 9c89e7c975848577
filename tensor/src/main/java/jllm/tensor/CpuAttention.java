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
     * keys are transposed once; the (position, head) rows of that kv head go four at a time through
     * {@link AttentionTiles} (scores from the transposed keys, softmax, then {@code P V}), so every key
     * and value vector loaded serves four rows, with no lane reductions.
     */
    private static void forwardTiled(Parallel par, float[] q, int rows, int[] pos, int[] keyBase, float[] k, float[] v, int heads, int kvHeads,
                                     int hd, float scale, float softcap, AttentionMask mask, float[] out, float[] lse) {
        int group = heads / kvHeads, kvStride = kvHeads * hd, L = CpuBackend.F.length();
        for (int s = 0; s < rows; ) {
            int n = exampleLength(keyBase, s, rows), start = s, stride = (n + L - 1) / L * L, nr = n * group;
            float[] kt = new float[hd * stride];
            for (int g = 0; g < kvHeads; g++) {
                transpose(k, start, n, kvStride, g * hd, hd, kt, stride);
                int kvh = g;
                par.forRange((nr + 3) / 4, 1, (u0, u1) -> {
                    float[] tile = new float[4 * stride];
                    int[] th = new int[4], p = new int[4], j0 = new int[4];
                    float[] m = new float[4];
                    for (int u = u0; u < u1; u++) {
                        int jlo = Integer.MAX_VALUE, jhi = -1;
                        for (int i = 0; i < 4; i++) {
                            int r = 4 * u + i < nr ? 4 * u + i : 4 * u;
                            p[i] = r / group;
                            th[i] = (start + p[i]) * heads + kvh * group + r % group;
                            j0[i] = mask.firstKey(p[i]);
                            jlo = Math.min(jlo, j0[i]);
                            jhi = Math.max(jhi, p[i]);
                        }
                        AttentionTiles.scores(q, th[0] * hd, th[1] * hd, th[2] * hd, th[3] * hd, kt, stride, hd, jlo, jhi, scale, softcap,
                                tile, 0, stride, 2 * stride, 3 * stride);
                        for (int i = 0; i < 4; i++) {
                            int o = i * stride;
                            float max = Float.NEGATIVE_INFINITY;
                            for (int j = j0[i]; j <= p[i]; j++) max = Math.max(max, tile[o + j]);
                            float sum = expInPlace(tile, o + j0[i], o + p[i] + 1, max);
                            m[i] = 1f / sum;
                            if (lse != null) lse[th[i]] = max + (float) Math.log(sum);
                            java.util.Arrays.fill(tile, o + jlo, o + j0[i], 0f);
                            java.util.Arrays.fill(tile, o + p[i] + 1, o + jhi + 1, 0f);
                        }
                        AttentionTiles.weighted(tile, 0, stride, 2 * stride, 3 * stride, m[0], m[1], m[2], m[3], jlo, jhi,
                                v, start * kvStride + kvh * hd, kvStride, hd, out, th[0] * hd, th[1] * hd, th[2] * hd, th[3] * hd);
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

    /** One attention logit: {@code q.k * scale}, soft-capped. The backward recomputes it with this same function. */
    private static float score(float[] q, int qo, float[] k, int ko, int hd, float scale, float softcap) {
        float s = CpuBackend.dot(q, qo, k, ko, hd) * scale;
        return softcap > 0 ? (float) (softcap * Math.tanh(s / softcap)) : s;
    }

    // ---- attention backward ---------------------------------------------------------------------

    /** Largest P / dS tile of one query block, in floats. */
    private static final int TILE = 1 << 22;

    /**
     * Per example and kv head, with that head's keys and values transposed ({@code [hd, keys]}), for
     * each block of queries: phase 1 runs over the block's (position, head) rows four at a time
     * ({@link AttentionTiles}) and writes their P and dS rows ({@code S} and {@code dP = dO V^T} from
     * the transposed tiles, no lane reductions) and dq ({@code dS K}); phase 2 runs over pairs of keys
     * and adds, for each key, its column of the block in query order, the key's gradients held in
     * registers: {@code dk_j += scale dS[., j] q}, {@code dv_j += P[., j] dO}. No two threads add into
     * the same element and every sum has a fixed order, whatever the thread count. Nothing of size
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
            int[] off = new int[block * group], rowPos = new int[block * group], rowFirst = new int[block * group];
            for (int kvh = 0; kvh < kvHeads; kvh++) {
                int g = kvh, head0 = g * group, kvBase = start * kvStride + g * hd;
                transpose(k, start, n, kvStride, g * hd, hd, kt, stride);
                transpose(v, start, n, kvStride, g * hd, hd, vt, stride);
                for (int qb = 0; qb < n; qb += block) {
                    int nb = Math.min(block, n - qb), nr = nb * group, keys = qb + nb, firstQuery = qb;
                    for (int r = 0; r < nr; r++) {
                        int p = qb + r / group;
                        off[r] = ((start + p) * heads + head0 + r % group) * hd;
                        rowPos[r] = p;
                        rowFirst[r] = mask.firstKey(p);
                    }
                    par.forRange((nr + 3) / 4, 1, (u0, u1) -> {
                        for (int u = u0; u < u1; u++)
                            queryQuad(u, nr, off, rowPos, rowFirst, q, k, out, lse, dOut, kt, vt, stride, hd, heads, kvBase, kvStride, scale,
                                    softcap, dq, pTile, sTile);
                    });
                    par.forRange((keys + 1) / 2, Math.max(1, 128 / hd), (u0, u1) -> {
                        for (int u = u0; u < u1; u++) {
                            int ja = 2 * u, jb = Math.min(2 * u + 1, keys - 1);
                            AttentionTiles.keyPair(sTile, pTile, stride, ja, jb, Math.max(0, (ja - firstQuery) * group), nr, rowPos, rowFirst, off,
                                    q, dOut, scale, dk, dv, kvBase + ja * kvStride, kvBase + jb * kvStride, hd);
                        }
                    });
                }
            }
            s += n;
        }
    }

    /**
     * Phase 1 for the block's rows {@code 4u .. 4u + 3} (a row past the block repeats row 4u): their
     * P and dS rows over the keys they see (0 elsewhere in the rows' common key range), and dq.
     */
    private static void queryQuad(int u, int nr, int[] off, int[] rowPos, int[] rowFirst, float[] q, float[] k, float[] out, float[] lse,
                                  float[] dOut, float[] kt, float[] vt, int stride, int hd, int heads, int kvBase, int kvStride, float scale,
                                  float softcap, float[] dq, float[] pTile, float[] sTile) {
        var F = CpuBackend.F;
        int L = F.length();
        int r0 = 4 * u, r1 = r0 + 1 < nr ? r0 + 1 : r0, r2 = r0 + 2 < nr ? r0 + 2 : r0, r3 = r0 + 3 < nr ? r0 + 3 : r0;
        int jlo = Math.min(Math.min(rowFirst[r0], rowFirst[r1]), Math.min(rowFirst[r2], rowFirst[r3]));
        int jhi = Math.max(Math.max(rowPos[r0], rowPos[r1]), Math.max(rowPos[r2], rowPos[r3]));
        int t0 = r0 * stride, t1 = r1 * stride, t2 = r2 * stride, t3 = r3 * stride;
        AttentionTiles.scores(q, off[r0], off[r1], off[r2], off[r3], kt, stride, hd, jlo, jhi, scale, softcap, sTile, t0, t1, t2, t3);
        AttentionTiles.scores(dOut, off[r0], off[r1], off[r2], off[r3], vt, stride, hd, jlo, jhi, 1f, 0f, pTile, t0, t1, t2, t3);
        for (int i = 0; i < 4; i++) {
            int r = r0 + i;
            if (i > 0 && r >= nr) break; // repeats of row r0: done once
            int to = r * stride, qo = off[r], j0 = rowFirst[r], p = rowPos[r];
            float l = lse[qo / hd], dsum = CpuBackend.dot(dOut, qo, out, qo, hd);
            for (int jb = jlo / L * L; jb <= jhi; jb += L) {
                FloatVector sv = FloatVector.fromArray(F, sTile, to + jb), dp = FloatVector.fromArray(F, pTile, to + jb);
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
        }
        AttentionTiles.weighted(sTile, t0, t1, t2, t3, scale, scale, scale, scale, jlo, jhi, k, kvBase, kvStride, hd, dq,
                off[r0], off[r1], off[r2], off[r3]);
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

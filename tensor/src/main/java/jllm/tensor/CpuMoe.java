package jllm.tensor;

/**
 * Mixture-of-experts plumbing on the CPU: routing (forward and the backward through the routing
 * weights) and the row gather / scatter-add that feed each expert its tokens and add its output
 * back, each next to its backward.
 */
final class CpuMoe {
    private CpuMoe() { }

    private static float scaleOf(int[] scaleIdx, float[] scale, int r) {
        return scaleIdx == null ? 1f : scale[scaleIdx[r]];
    }

    // ---- gather: dst[r] = s_r src[rows[r]] ------------------------------------------------------

    static void gatherRows(Parallel par, float[] src, int[] rows, int[] scaleIdx, float[] scale, int n, int width, float[] dst) {
        for (int r = 0; r < n; r++) {
            float s = scaleOf(scaleIdx, scale, r);
            int from = rows[r] * width, to = r * width;
            if (s == 1f && scaleIdx == null) System.arraycopy(src, from, dst, to, width);
            else for (int i = 0; i < width; i++) dst[to + i] = src[from + i] * s;
        }
    }

    /** dSrc[rows[r]] += s_r dDst[r]; dScale[scaleIdx[r]] += dDst[r] . src[rows[r]]. Rows of one call are distinct tokens. */
    static void gatherRowsBackward(Parallel par, float[] dDst, int[] rows, int[] scaleIdx, float[] scale, float[] src, int n, int width,
                                   float[] dSrc, float[] dScale) {
        for (int r = 0; r < n; r++) {
            int d = rows[r] * width, g = r * width;
            if (dScale != null && scaleIdx != null) dScale[scaleIdx[r]] += CpuBackend.dot(dDst, g, src, d, width);
            if (dSrc != null) CpuBackend.axpy(scaleOf(scaleIdx, scale, r), dDst, g, dSrc, d, width);
        }
    }

    // ---- scatter-add: dst[rows[r]] += s_r src[r] ------------------------------------------------

    static void scatterAddRows(Parallel par, float[] src, int[] rows, int[] scaleIdx, float[] scale, int n, int width, float[] dst) {
        for (int r = 0; r < n; r++) {
            float s = scaleOf(scaleIdx, scale, r);
            int from = r * width, to = rows[r] * width;
            for (int i = 0; i < width; i++) dst[to + i] += src[from + i] * s;
        }
    }

    /** dSrc[r] = s_r dDst[rows[r]]; dScale[scaleIdx[r]] += dDst[rows[r]] . src[r]. */
    static void scatterAddRowsBackward(Parallel par, float[] dDst, int[] rows, int[] scaleIdx, float[] scale, float[] src, int n, int width,
                                       float[] dSrc, float[] dScale) {
        for (int r = 0; r < n; r++) {
            float s = scaleOf(scaleIdx, scale, r);
            int g = rows[r] * width, o = r * width;
            if (dScale != null && scaleIdx != null) dScale[scaleIdx[r]] += CpuBackend.dot(dDst, g, src, o, width);
            if (dSrc != null) for (int i = 0; i < width; i++) dSrc[o + i] = dDst[g + i] * s;
        }
    }

    // ---- routing --------------------------------------------------------------------------------

    /**
     * Softmax routing keeps the fp32 softmax of every expert in probs; sigmoid routing keeps the
     * sigmoid of every logit there, so one backward formula serves both.
     */
    static void route(float[] logits, int rows, int experts, int k, boolean sigmoid, boolean renormalize, int[] chosen,
                      float[] weights, float[] probs) {
        float[] p = new float[experts];
        boolean[] taken = new boolean[experts];
        for (int t = 0; t < rows; t++) {
            System.arraycopy(logits, t * experts, p, 0, experts);
            if (!sigmoid) softmax(p);
            topK(p, k, chosen, t * k, taken);
            float sum = 0;
            for (int j = 0; j < k; j++) {
                float s = p[chosen[t * k + j]];
                float w = sigmoid ? sigmoid(s) : s;
                weights[t * k + j] = w;
                sum += w;
            }
            if (renormalize) for (int j = 0; j < k; j++) weights[t * k + j] /= sum;
            if (probs != null) {
                if (sigmoid) for (int e = 0; e < experts; e++) probs[t * experts + e] = sigmoid(p[e]);
                else System.arraycopy(p, 0, probs, t * experts, experts);
            }
        }
    }

    private static float sigmoid(float x) { return (float) (1.0 / (1.0 + Math.exp(-x))); }

    /**
     * Gate values a = probs at the chosen experts, weights w = a (or a / S, S = sum of the chosen a).
     * da = dw (or (dw - sum_j dw_j w_j) / S); softmax: dz = p (da - p . da) over all experts;
     * sigmoid: dz_c = da_c a_c (1 - a_c) at the chosen ones, 0 elsewhere.
     */
    static void routeBackward(float[] probs, int[] chosen, float[] weights, float[] dWeights, int rows, int experts, int k,
                              boolean sigmoid, boolean renormalize, float[] dLogits) {
        float[] da = new float[experts];
        for (int t = 0; t < rows; t++) {
            java.util.Arrays.fill(da, 0f);
            int pt = t * experts, wt = t * k;
            float shift = 0, sum = 0;
            if (renormalize) {
                for (int j = 0; j < k; j++) {
                    shift += dWeights[wt + j] * weights[wt + j];
                    sum += probs[pt + chosen[wt + j]];
                }
            }
            for (int j = 0; j < k; j++) {
                float d = dWeights[wt + j];
                da[chosen[wt + j]] = renormalize ? (d - shift) / sum : d;
            }
            if (sigmoid) {
                for (int e = 0; e < experts; e++) {
                    float a = probs[pt + e];
                    dLogits[pt + e] = da[e] * a * (1f - a);
                }
            } else {
                double dot = 0;
                for (int e = 0; e < experts; e++) dot += (double) probs[pt + e] * da[e];
                for (int e = 0; e < experts; e++) dLogits[pt + e] = probs[pt + e] * (da[e] - (float) dot);
            }
        }
    }

    /** In-place fp32 softmax with the max subtracted. */
    static void softmax(float[] p) {
        float max = Float.NEGATIVE_INFINITY;
        for (float f : p) max = Math.max(max, f);
        float sum = 0;
        for (int i = 0; i < p.length; i++) { p[i] = (float) Math.exp(p[i] - max); sum += p[i]; }
        for (int i = 0; i < p.length; i++) p[i] /= sum;
    }

    /** Indices of the k largest values, largest first; ties go to the lower index. */
    static void topK(float[] p, int k, int[] out, int off, boolean[] taken) {
        java.util.Arrays.fill(taken, false);
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < p.length; i++) if (!taken[i] && (best < 0 || p[i] > p[best])) best = i;
            taken[best] = true;
            out[off + j] = best;
        }
    }
}

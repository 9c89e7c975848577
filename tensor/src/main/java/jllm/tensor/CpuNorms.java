package jllm.tensor;

/**
 * RMSNorm and LayerNorm on the CPU, each forward next to its backward. A backward may write dx
 * over dy (the weight gradient is taken first). Statistics are computed in
 * double and rounded to fp32 as transformers' fp32 norms round them; the backward uses the saved
 * per-row {@code rstd} (and mean) instead of recomputing them. Weight gradients are column sums
 * over rows, split by columns so each is summed in row order (deterministic for any thread count).
 */
final class CpuNorms {
    private CpuNorms() { }

    private static float gain(float[] w, int i, boolean onePlus) {
        return w == null ? 1f : onePlus ? 1f + w[i] : w[i];
    }

    // ---- RMSNorm: y = x r g, r = 1 / sqrt(mean(x^2) + eps) ------------------------------------

    static void rmsNorm(Parallel par, float[] x, float[] y, int rows, int n, float[] w, float eps, boolean onePlus, float[] rstd) {
        par.forRange(rows, Math.max(1, CpuBackend.ELEMENTWISE_CHUNK / n), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = r * n;
                double ss = 0;
                for (int i = 0; i < n; i++) ss += (double) x[o + i] * x[o + i];
                float inv = (float) (1.0 / Math.sqrt((float) (ss / n) + eps));
                if (rstd != null) rstd[r] = inv;
                for (int i = 0; i < n; i++) {
                    float v = x[o + i] * inv;
                    y[o + i] = w == null ? v : v * (onePlus ? 1f + w[i] : w[i]);
                }
            }
        });
    }

    /** dx = r (dy g - xhat mean(dy g xhat)); dw += sum_rows dy xhat. */
    static void rmsNormBackward(Parallel par, float[] x, float[] w, boolean onePlus, float[] rstd, float[] dy, int rows, int n,
                                float[] dx, boolean accumulate, float[] dw) {
        if (dw != null) par.forRange(n, 16, (c0, c1) -> {
            for (int r = 0; r < rows; r++) {
                int o = r * n;
                float inv = rstd[r];
                for (int i = c0; i < c1; i++) dw[i] += dy[o + i] * (x[o + i] * inv);
            }
        });
        if (dx != null) par.forRange(rows, Math.max(1, CpuBackend.ELEMENTWISE_CHUNK / n), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = r * n;
                float inv = rstd[r];
                double c = 0;
                for (int i = 0; i < n; i++) c += (double) dy[o + i] * gain(w, i, onePlus) * x[o + i] * inv;
                float mean = (float) (c / n);
                for (int i = 0; i < n; i++) {
                    float v = inv * (dy[o + i] * gain(w, i, onePlus) - x[o + i] * inv * mean);
                    dx[o + i] = accumulate ? dx[o + i] + v : v;
                }
            }
        });
    }

    // ---- LayerNorm: y = (x - mean) r g + b -------------------------------------------------------

    static void layerNorm(Parallel par, float[] x, float[] y, int rows, int n, float[] w, float[] b, float eps, boolean onePlus,
                          float[] meanOut, float[] rstd) {
        par.forRange(rows, Math.max(1, CpuBackend.ELEMENTWISE_CHUNK / n), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = r * n;
                double s = 0;
                for (int i = 0; i < n; i++) s += x[o + i];
                float mean = (float) (s / n);
                double ss = 0;
                for (int i = 0; i < n; i++) { double d = x[o + i] - mean; ss += d * d; }
                float inv = (float) (1.0 / Math.sqrt((float) (ss / n) + eps));
                if (meanOut != null) meanOut[r] = mean;
                if (rstd != null) rstd[r] = inv;
                for (int i = 0; i < n; i++) {
                    float v = (x[o + i] - mean) * inv;
                    if (w != null) v *= onePlus ? 1f + w[i] : w[i];
                    y[o + i] = b == null ? v : v + b[i];
                }
            }
        });
    }

    /** dx = r (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = dy g; dw += sum dy xhat (db: CpuBackend.columnSums). */
    static void layerNormBackward(Parallel par, float[] x, float[] w, boolean onePlus, float[] meanIn, float[] rstd, float[] dy,
                                  int rows, int n, float[] dx, boolean accumulate, float[] dw, float[] db) {
        if (dw != null) par.forRange(n, 16, (c0, c1) -> {
            for (int r = 0; r < rows; r++) {
                int o = r * n;
                float inv = rstd[r], mean = meanIn[r];
                for (int i = c0; i < c1; i++) dw[i] += dy[o + i] * ((x[o + i] - mean) * inv);
            }
        });
        if (dx != null) par.forRange(rows, Math.max(1, CpuBackend.ELEMENTWISE_CHUNK / n), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = r * n;
                float inv = rstd[r], mean = meanIn[r];
                double s1 = 0, s2 = 0;
                for (int i = 0; i < n; i++) {
                    double g = (double) dy[o + i] * gain(w, i, onePlus);
                    s1 += g;
                    s2 += g * (x[o + i] - mean) * inv;
                }
                float m1 = (float) (s1 / n), m2 = (float) (s2 / n);
                for (int i = 0; i < n; i++) {
                    float xhat = (x[o + i] - mean) * inv;
                    float v = inv * (dy[o + i] * gain(w, i, onePlus) - m1 - xhat * m2);
                    dx[o + i] = accumulate ? dx[o + i] + v : v;
                }
            }
        });
    }
}

package jllm.tensor;

/**
 * The compute a decoder forward pass needs, as the model code calls it. Activations are row-major
 * fp32 arrays {@code [rows, n]}; weights are {@link Tensor}s in any stored format. A GPU backend
 * implements the same calls (keeping weights resident on the device), so model code never changes.
 */
public interface Backend {
    String name();

    int threads();

    /** {@code y[t, r] = sum_c W[r, c] x[t, c] (+ bias[r])} for {@code t < rows}; W is {@code [out, in]}. */
    void matmul(Tensor w, float[] x, float[] y, int rows, float[] bias);

    /** RMSNorm per row in fp32: {@code x / sqrt(mean(x^2) + eps) * g}, {@code g = w} or {@code 1 + w}; null w = no weight. */
    void rmsNorm(float[] x, float[] y, int rows, int n, float[] w, float eps, boolean onePlus);

    /** LayerNorm per row in fp32 with optional bias; {@code g = w} or {@code 1 + w}. */
    void layerNorm(float[] x, float[] y, int rows, int n, float[] w, float[] b, float eps, boolean onePlus);

    /**
     * Rotates the first {@code rotaryDim} dims of each head of {@code x [rows, heads * headDim]} in place;
     * {@code cos/sin [rows, rotaryDim / 2]}. Rotate-half layout (HF) or adjacent pairs (interleaved).
     */
    void rope(float[] x, int rows, int heads, int headDim, int rotaryDim, float[] cos, float[] sin, boolean interleaved);

    /**
     * Scaled dot-product attention of {@code q [rows, heads * hd]} (query {@code t} at position
     * {@code pos[t]}) against cached keys/values {@code [keys, kvHeads * hd]} stored by position.
     * Scores are {@code q.k * scale}, soft-capped when {@code softcap > 0}, masked, softmaxed in fp32
     * with the row max subtracted.
     */
    void attention(float[] q, int rows, int[] pos, float[] k, float[] v, int heads, int kvHeads, int hd,
                   float scale, float softcap, AttentionMask mask, float[] out);

    /** {@code out[i] = act(gate[i]) * up[i]}. */
    void gated(Activation act, float[] gate, float[] up, float[] out, int n);

    /** {@code x[i] = act(x[i])} in place. */
    void activate(Activation act, float[] x, int n);
}

package jllm.tensor;

/**
 * The two products a linear layer's backward pass needs, for every weight format. The forward
 * product {@code y = x W^T} is {@link Backend#matmul}; here are its partners:
 * <ul>
 *   <li>{@link #dyW}: {@code dx = dy W} (the input gradient; W frozen or trainable, stored in any
 *       format, quantized ones decoded on the fly);</li>
 *   <li>{@link #dyTx}: {@code dW = dy^T x} (the weight gradient of a trainable fp32 weight).</li>
 * </ul>
 * Activations are row-major fp32 {@code [rows, n]} arrays as everywhere in the backend.
 */
public final class Gemm {
    private Gemm() { }

    /** {@code dx[t, c] (+)= sum_r dy[t, r] W[r, c]} for {@code t < rows}; W is {@code [out, in]}, dy {@code [rows, out]}, dx {@code [rows, in]}. */
    public static void dyW(Parallel par, Tensor w, float[] dy, int rows, float[] dx, boolean accumulate) {
        int out = w.dim(0), in = w.dim(1);
        if ((long) rows * out > dy.length || (long) rows * in > dx.length)
            throw new IllegalArgumentException("dyW " + w + " with " + rows + " rows: buffers too small");
        if (!accumulate) java.util.Arrays.fill(dx, 0, rows * in, 0f);
        // Simple reference schedule: each worker owns a range of dx rows and streams W once per row.
        float[] wr = new float[in];
        for (int r = 0; r < out; r++) {
            w.read((long) r * in, wr, 0, in);
            for (int t = 0; t < rows; t++) {
                float g = dy[t * out + r];
                if (g != 0f) CpuBackend.axpy(g, wr, 0, dx, t * in, in);
            }
        }
    }

    /** {@code dw[r, c] (+)= sum_t dy[t, r] x[t, c]}; dy {@code [rows, out]}, x {@code [rows, in]}, dw {@code [out, in]}. */
    public static void dyTx(Parallel par, float[] dy, float[] x, int rows, int out, int in, float[] dw, boolean accumulate) {
        if ((long) rows * out > dy.length || (long) rows * in > x.length || (long) out * in > dw.length)
            throw new IllegalArgumentException("dyTx [" + out + ", " + in + "] with " + rows + " rows: buffers too small");
        if (!accumulate) java.util.Arrays.fill(dw, 0, out * in, 0f);
        par.forRange(out, 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++)
                for (int t = 0; t < rows; t++) {
                    float g = dy[t * out + r];
                    if (g != 0f) CpuBackend.axpy(g, x, t * in, dw, r * in, in);
                }
        });
    }
}

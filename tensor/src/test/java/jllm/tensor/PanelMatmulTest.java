package jllm.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Each output of the packed prefill GEMM is the single in-order fp32 FMA chain
 * {@code acc = fma(x[t,k], w[r,k], acc)} over k (then plus the bias), whatever the row split, token
 * slab, thread count or the interleave of the weights (shapes whose column count is not a multiple of
 * the vector length take its scalar tail): compared bit for bit, so a re-tiling of the kernel can be
 * checked to leave results unchanged.
 */
class PanelMatmulTest {
    @Test
    void everyOutputIsTheInOrderFmaChain() {
        Random rnd = new Random(3);
        int[][] shapes = {{7, 300, 45}, {50, 1, 33}, {13, 128, 64}, {6, 257, 32}, {97, 1024, 70}, {12, 0, 40}, {5, 64, 130}, {9, 40, 300}};
        for (int threads = 1; threads <= 3; threads++) {
            Parallel par = Parallel.shared(threads);
            for (int[] sh : shapes) {
                int out = sh[0], in = sh[1], tokens = sh[2];
                float[] w = new float[out * in], x = new float[tokens * in], bias = new float[out];
                for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
                for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                for (int i = 0; i < out; i++) bias[i] = (float) rnd.nextGaussian();
                float[] y = new float[tokens * out];
                PanelMatmul.matmul(par, new HeapF32Tensor(w, out, in), x, y, tokens, bias);
                for (int t = 0; t < tokens; t++)
                    for (int r = 0; r < out; r++) {
                        float acc = 0f;
                        for (int k = 0; k < in; k++) acc = Math.fma(x[t * in + k], w[r * in + k], acc);
                        assertEquals(Float.floatToRawIntBits(acc + bias[r]), Float.floatToRawIntBits(y[t * out + r]),
                                "out " + out + " in " + in + " tokens " + tokens + " threads " + threads + ": y[" + t + ", " + r + "]");
                    }
            }
        }
    }
}

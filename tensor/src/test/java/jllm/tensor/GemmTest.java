package jllm.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The backward products against double-precision references: weights of every format decoded by
 * {@link QuantTest}'s plain decoders, shapes that are not multiples of any tile or block, one and
 * several threads (bit-identical), with and without accumulation.
 */
class GemmTest {
    /** A weight in some format together with its exact fp32 values. */
    record W(String name, Tensor t, float[] ref) { }

    static List<W> weights(int out, Random r) {
        List<W> ws = new ArrayList<>();
        for (GgmlType t : QuantTest.TYPES) {
            int in = 3 * t.blockSize;
            byte[] b = QuantTest.randomBlocks(t, out * in / t.blockSize, r);
            ws.add(new W(t.name(), Tensors.of(t, QuantTest.offHeap(b), out, in), QuantTest.refAll(t, b)));
        }
        for (int in : new int[] {1, 37, 300}) {
            float[] w = gaussian(out * in, r), wh = new float[out * in], wb = new float[out * in];
            for (int i = 0; i < w.length; i++) {
                wh[i] = Float.float16ToFloat(Float.floatToFloat16(w[i]));
                wb[i] = BF16Tensor.toFloat(BF16Tensor.fromFloat(w[i]));
            }
            ws.add(new W("F32 in=" + in, F32Tensor.of(w, out, in), w));
            ws.add(new W("F16 in=" + in, Quantizer.quantize(GgmlType.F16, w, out, in), wh));
            ws.add(new W("BF16 in=" + in, Quantizer.quantize(GgmlType.BF16, w, out, in), wb));
        }
        return ws;
    }

    static float[] gaussian(int n, Random r) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    @Test
    void dyWMatchesADoublePrecisionProductForEveryFormat() {
        Random r = new Random(11);
        for (int out : new int[] {1, 13, 50}) {
            for (W w : weights(out, r)) {
                int in = w.t.dim(1);
                for (int rows : new int[] {1, 5, 7, 45}) checkDyW(w, out, in, rows, r);
            }
        }
    }

    private static void checkDyW(W w, int out, int in, int rows, Random r) {
        float[] dy = gaussian(rows * out + 3, r), init = gaussian(rows * in + 2, r);
        for (boolean acc : new boolean[] {false, true}) {
            float[] first = null;
            for (int threads : new int[] {1, 2, 3}) {
                float[] dx = init.clone();
                Gemm.dyW(Parallel.shared(threads), w.t, dy, rows, dx, acc);
                for (int t = 0; t < rows; t++)
                    for (int c = 0; c < in; c++) {
                        double sum = acc ? init[t * in + c] : 0, mag = Math.abs(sum);
                        for (int k = 0; k < out; k++) {
                            double p = (double) dy[t * out + k] * w.ref[k * in + c];
                            sum += p;
                            mag += Math.abs(p);
                        }
                        assertEquals(sum, dx[t * in + c], 1e-6 * mag + 1e-30,
                                w.name + " dx[" + t + ", " + c + "] rows=" + rows + " out=" + out + " acc=" + acc + " threads=" + threads);
                    }
                for (int i = rows * in; i < dx.length; i++) assertEquals(init[i], dx[i], "dyW wrote past its rows");
                if (first == null) first = dx;
                else assertArrayEquals(first, dx, w.name + ": " + threads + " threads must give the bits of 1");
            }
        }
    }

    /** Many weight-row blocks and token groups, so the blocks chain correctly in every output element. */
    @Test
    void dyWChainsManyBlocksOfWeightRows() {
        Random r = new Random(12);
        int out = 3 * Gemm.KB + 77, in = 64, rows = 200;
        float[] w = gaussian(out * in, r);
        checkDyW(new W("F32 big", F32Tensor.of(w, out, in), w), out, in, rows, r);
        byte[] b = QuantTest.randomBlocks(GgmlType.Q4_K, out, r);
        checkDyW(new W("Q4_K big", Tensors.of(GgmlType.Q4_K, QuantTest.offHeap(b), out, 256), QuantTest.refAll(GgmlType.Q4_K, b)), out, 256, 9, r);
        // 1024 columns: every dy row starts on the same cache set; the panel stride must still be right
        float[] w2 = gaussian(40 * 1024, r);
        checkDyW(new W("F32 1024", F32Tensor.of(w2, 40, 1024), w2), 40, 1024, 13, r);
    }

    @Test
    void dyWOverAnArrayGivesTheBitsOfTheF32Tensor() {
        Random r = new Random(14);
        int out = 29, in = 77, rows = 31;
        float[] w = gaussian(out * in, r), dy = gaussian(rows * out, r), a = gaussian(rows * in, r), b = a.clone();
        Gemm.dyW(Parallel.shared(2), F32Tensor.of(w, out, in), dy, rows, a, true);
        Gemm.dyW(Parallel.shared(2), w, out, in, dy, rows, b, true);
        assertArrayEquals(a, b);
        assertThrows(IllegalArgumentException.class, () -> Gemm.dyW(Parallel.shared(1), new float[5], 2, 3, dy, 1, b, false));
    }

    @Test
    void dyWOnARowViewReadsOnlyThoseRows() {
        Random r = new Random(13);
        byte[] b = QuantTest.randomBlocks(GgmlType.Q8_0, 40 * 2, r);
        Tensor all = Tensors.of(GgmlType.Q8_0, QuantTest.offHeap(b), 40, 64);
        float[] ref = QuantTest.refAll(GgmlType.Q8_0, b);
        float[] part = java.util.Arrays.copyOfRange(ref, 10 * 64, 35 * 64);
        checkDyW(new W("Q8_0 rows 10..35", all.rows(10, 25), part), 25, 64, 8, r);
    }

    @Test
    void dyTxMatchesADoublePrecisionProduct() {
        Random r = new Random(21);
        for (int rows : new int[] {1, 7, Gemm.TB + 3, 300})
            for (int out : new int[] {1, 13, Gemm.RB + 5})
                for (int in : new int[] {1, 37, 96}) checkDyTx(rows, out, in, r);
    }

    private static void checkDyTx(int rows, int out, int in, Random r) {
        float[] dy = gaussian(rows * out, r), x = gaussian(rows * in + 1, r), init = gaussian(out * in + 4, r);
        for (boolean acc : new boolean[] {false, true}) {
            float[] first = null;
            for (int threads : new int[] {1, 2, 3}) {
                float[] dw = init.clone();
                Gemm.dyTx(Parallel.shared(threads), dy, x, rows, out, in, dw, acc);
                for (int o = 0; o < out; o++)
                    for (int c = 0; c < in; c++) {
                        double sum = acc ? init[o * in + c] : 0, mag = Math.abs(sum);
                        for (int t = 0; t < rows; t++) {
                            double p = (double) dy[t * out + o] * x[t * in + c];
                            sum += p;
                            mag += Math.abs(p);
                        }
                        assertEquals(sum, dw[o * in + c], 1e-6 * mag + 1e-30,
                                "dW[" + o + ", " + c + "] rows=" + rows + " out=" + out + " in=" + in + " acc=" + acc + " threads=" + threads);
                    }
                for (int i = out * in; i < dw.length; i++) assertEquals(init[i], dw[i], "dyTx wrote past dW");
                if (first == null) first = dw;
                else assertArrayEquals(first, dw, threads + " threads must give the bits of 1");
            }
        }
    }

    @Test
    void xWtMatchesADoublePrecisionProductOnAnyThreads() {
        Random r = new Random(23);
        for (int rows : new int[] {1, 5, 8, 67})
            for (int out : new int[] {1, 4, 7, 16})
                for (int in : new int[] {1, 15, 16, 37, 300}) {
                    float[] w = gaussian(out * in, r), x = gaussian(rows * in, r), init = gaussian(rows * out + 3, r);
                    for (boolean acc : new boolean[] {false, true}) {
                        float[] first = null;
                        for (int threads : new int[] {1, 2, 3}) {
                            float[] y = init.clone();
                            Gemm.xWt(Parallel.shared(threads), w, out, in, x, rows, y, acc);
                            for (int t = 0; t < rows; t++)
                                for (int o = 0; o < out; o++) {
                                    double sum = acc ? init[t * out + o] : 0, mag = Math.abs(sum);
                                    for (int k = 0; k < in; k++) {
                                        double p = (double) x[t * in + k] * w[o * in + k];
                                        sum += p;
                                        mag += Math.abs(p);
                                    }
                                    assertEquals(sum, y[t * out + o], 1e-6 * mag + 1e-30, "y[" + t + ", " + o + "] rows=" + rows + " out=" + out + " in=" + in);
                                }
                            for (int i = rows * out; i < y.length; i++) assertEquals(init[i], y[i], "xWt wrote past y");
                            if (first == null) first = y;
                            else assertArrayEquals(first, y, threads + " threads must give the bits of 1");
                        }
                    }
                }
    }

    @Test
    void emptyProductsClearOrKeepTheOutput() {
        float[] dw = {1, 2, 3, 4};
        Gemm.dyTx(Parallel.shared(2), new float[0], new float[0], 0, 2, 2, dw, true);
        assertArrayEquals(new float[] {1, 2, 3, 4}, dw);
        Gemm.dyTx(Parallel.shared(2), new float[0], new float[0], 0, 2, 2, dw, false);
        assertArrayEquals(new float[4], dw);
        float[] dx = {5, 6};
        Gemm.dyW(Parallel.shared(1), F32Tensor.of(new float[0], 0, 2), new float[0], 1, dx, false);
        assertArrayEquals(new float[2], dx);
    }

    @Test
    void shortBuffersAreRefused() {
        Tensor w = F32Tensor.of(new float[6], 2, 3);
        assertThrows(IllegalArgumentException.class, () -> Gemm.dyW(Parallel.shared(1), w, new float[3], 2, new float[6], false));
        assertThrows(IllegalArgumentException.class, () -> Gemm.dyW(Parallel.shared(1), w, new float[4], 2, new float[5], false));
        assertThrows(IllegalArgumentException.class, () -> Gemm.dyTx(Parallel.shared(1), new float[4], new float[6], 2, 2, 3, new float[5], false));
    }
}

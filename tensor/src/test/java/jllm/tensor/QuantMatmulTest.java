package jllm.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The quantized-weight kernels over the {@link Panels} layout, against the reference decoder
 * ({@link QuantTest#ref}) in double precision: with int8 activations (fast mode, few tokens) the
 * expected product uses the activations quantized by llama.cpp's rule, written out here; with fp32
 * activations (exact mode, and prefill of the formats without a 16-bit tile) it uses x itself. Shapes leave a partial last
 * panel; token counts cover the decode, tile and remainder paths; one and two threads.
 * CI runs this class at 512-, 256- and 128-bit vectors (surefire executions with -XX:MaxVectorSize).
 */
class QuantMatmulTest {
    static final List<GgmlType> TYPES = List.of(GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q5_K);

    /** llama.cpp's activation quantization: per 32 values d = max|x| / 127, q = roundf(x / d). */
    static float[] quantizedX(float[] x) {
        float[] out = new float[x.length];
        for (int b = 0; b < x.length / 32; b++) {
            float max = 0;
            for (int j = 0; j < 32; j++) max = Math.max(max, Math.abs(x[b * 32 + j]));
            float d = max / 127, id = max == 0 ? 0 : 127 / max;
            for (int j = 0; j < 32; j++) out[b * 32 + j] = Quantizer.roundf(x[b * 32 + j] * id) * d;
        }
        return out;
    }

    /** Both prefill kernels of fast mode, whichever this CPU takes ({@link QuantMatmul#int16Prefill}). */
    @ParameterizedTest(name = "16-bit prefill tile {0}")
    @ValueSource(booleans = {true, false})
    void kernelsEqualTheReferenceDecoderInBothModes(boolean int16) {
        KernelSwitch.with(() -> QuantMatmul.int16Prefill, v -> QuantMatmul.int16Prefill = v, int16, this::kernelsEqualTheReferenceDecoderInBothModes);
    }

    private void kernelsEqualTheReferenceDecoderInBothModes() {
        assertTrue(Panels.SUPPORTED, "vector shape " + Panels.S);
        System.out.println("QuantMatmulTest at " + Panels.S);
        Random r = new Random(11);
        int P = Panels.P;
        for (GgmlType t : TYPES) {
            for (int[] shape : new int[][] {{2 * P + 5, 3 * t.blockSize}, {P, t.blockSize}, {3, 2 * t.blockSize}, {P + 1, 2 * QuantMatmul.CHUNK + 3 * t.blockSize}, {3 * P + 3, QuantMatmul.CHUNK16 + t.blockSize}}) {
                int out = shape[0], in = Math.max(shape[1], 64);
                byte[] b = QuantTest.randomBlocks(t, out * in / t.blockSize, r);
                Tensor w = Tensors.of(t, QuantTest.offHeap(b), out, in);
                assertTrue(QuantMatmul.applies(w), t + " has panel kernels");
                float[] ref = QuantTest.refAll(t, b);
                float[] bias = new float[out];
                for (int i = 0; i < out; i++) bias[i] = (float) r.nextGaussian();
                for (int tokens : new int[] {1, 3, QuantMatmul.TILE + 1, QuantMatmul.MIN_FP32_TOKENS - 1, QuantMatmul.MIN_FP32_TOKENS + 5}) {
                    float[] x = new float[tokens * in];
                    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() * (i % 7 == 0 ? 5 : 1);
                    for (boolean exact : new boolean[] {false, true}) {
                        float[] xr = QuantMatmul.int8Activations(w, tokens, exact) ? quantizedX(x) : x;
                        for (int threads : new int[] {1, 2}) {
                            float[] y = new float[tokens * out];
                            new CpuBackend(threads, exact).matmul(w, x, y, tokens, bias);
                            String what = t + " [" + out + ", " + in + "] " + (exact ? "exact" : "fast") + " threads " + threads + " tokens " + tokens;
                            check(ref, xr, bias, y, tokens, out, in, what);
                        }
                    }
                }
            }
        }
    }

    /**
     * A tensor's panels spread over several arrays ({@link Panels.Store}; in use only from 256 MiB,
     * forced small here) give every product bit for bit as in one array: one, three (groups of four
     * panels that cross an array's end) and four panels per array, decode and prefill, both modes.
     */
    @Test
    void panelsInSeveralArraysGiveTheSameProducts() {
        Random r = new Random(13);
        int P = Panels.P, saved = Panels.Store.arrayBytes;
        try {
            for (GgmlType t : TYPES) {
                int out = 9 * P + 5, in = Math.max(2 * t.blockSize, QuantMatmul.CHUNK16 + t.blockSize);
                byte[] b = QuantTest.randomBlocks(t, out * in / t.blockSize, r);
                for (int tokens : new int[] {1, 3, QuantMatmul.MIN_FP32_TOKENS + 5}) {
                    float[] x = new float[tokens * in];
                    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                    for (boolean exact : new boolean[] {false, true}) {
                        Panels.Store.arrayBytes = saved;
                        Tensor one = Tensors.of(t, QuantTest.offHeap(b), out, in);
                        float[] want = new float[tokens * out];
                        new CpuBackend(2, exact).matmul(one, x, want, tokens, null);
                        for (int per : new int[] {1, 3, 4}) {
                            Tensor w = Tensors.of(t, QuantTest.offHeap(b), out, in);
                            Panels.Store.arrayBytes = (int) (per * ((QuantTensor) w).panelBytes());
                            for (int threads : new int[] {1, 2}) {
                                float[] y = new float[tokens * out];
                                new CpuBackend(threads, exact).matmul(w, x, y, tokens, null);
                                assertArrayEquals(want, y, t + " " + per + " panels per array, tokens " + tokens + (exact ? " exact" : " fast") + " threads " + threads);
                            }
                            assertEquals((10 + per - 1) / per, ((QuantTensor) w).panels(Parallel.shared(1)).count(), t + " arrays");
                        }
                    }
                }
            }
        } finally {
            Panels.Store.arrayBytes = saved;
        }
    }

    /**
     * Tensors prepared together ({@link CpuBackend#prepare}) get their heap panels side by side in
     * shared arrays ({@link Panels.Store#place}): each gives the same products as a tensor with
     * arrays of its own, decode and prefill, both modes, whatever its offset in the shared array.
     */
    @Test
    void panelsInASharedArrayGiveTheSameProducts() {
        Random r = new Random(15);
        java.util.List<Tensor> ws = new java.util.ArrayList<>();
        java.util.List<byte[]> blocks = new java.util.ArrayList<>();
        for (GgmlType t : TYPES) {
            int out = 2 * Panels.P + 7, in = Math.max(2 * t.blockSize, QuantMatmul.CHUNK16 + t.blockSize);
            byte[] b = QuantTest.randomBlocks(t, out * in / t.blockSize, r);
            blocks.add(b);
            ws.add(Tensors.of(t, QuantTest.offHeap(b), out, in));
        }
        new CpuBackend(2, false).prepare(ws);
        java.util.Set<byte[]> shared = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        int heap = 0;
        for (Tensor w : ws) {
            Panels.Store st = ((QuantTensor) w).panels(Parallel.shared(1));
            if (st.arrays == null) continue;
            heap++;
            shared.add(st.arrays[0]);
        }
        assertEquals(heap == 0 ? 0 : 1, shared.size(), "small tensors share one array");
        for (int i = 0; i < ws.size(); i++) {
            Tensor w = ws.get(i);
            GgmlType t = TYPES.get(i);
            int out = w.dim(0), in = w.dim(1);
            for (int tokens : new int[] {1, 3, QuantMatmul.MIN_FP32_TOKENS + 5}) {
                float[] x = new float[tokens * in];
                for (int k = 0; k < x.length; k++) x[k] = (float) r.nextGaussian();
                for (boolean exact : new boolean[] {false, true}) {
                    float[] want = new float[tokens * out], y = new float[tokens * out];
                    new CpuBackend(2, exact).matmul(Tensors.of(t, QuantTest.offHeap(blocks.get(i)), out, in), x, want, tokens, null);
                    new CpuBackend(2, exact).matmul(w, x, y, tokens, null);
                    assertArrayEquals(want, y, t + " in a shared array, tokens " + tokens + (exact ? " exact" : " fast"));
                }
            }
        }
    }

    /** The placement itself: tensors below the limit packed in order, arrays of at most SHARED_ARRAY bytes, large ones left to themselves. */
    @Test
    void placementPacksSmallTensorsAndLeavesLargeOnes() {
        long big = Panels.Store.SHARED_BELOW;
        int[] panels = {3, 1, 2, (int) (big / 1024) + 1, 5};
        long[] bytes = {1000, 2000, 3000, 1024, 100};
        Panels.Store[] at = Panels.Store.place(panels, bytes);
        for (Panels.Store st : at) if (st != null) st.allocateShared();
        assertEquals(null, at[3], "a tensor of " + big + " bytes or more gets arrays of its own");
        assertTrue(at[0].of(0) == at[1].of(0) && at[1].of(0) == at[2].of(0) && at[2].of(0) == at[4].of(0), "the others share one array");
        assertEquals(0, at[0].at(0));
        assertEquals(2000, at[0].at(2));
        assertEquals(3000, at[1].at(0));
        assertEquals(5000, at[2].at(0));
        assertEquals(8000, at[2].at(1));
        assertEquals(11000, at[4].at(0));
        assertEquals(11500, at[4].of(0).length);
        assertEquals(2, at[2].left(0));
        assertEquals(1, at[2].left(1));
    }

    /**
     * Panels on 2 MiB huge pages ({@code jllm.hugepages}, the launcher's default) give the same
     * products as on plain pages, and native buffers (Q6_K's six-bit panels at 512 bits; at other
     * widths every format's panels are heap arrays, so the buffer is checked alone) are 2 MiB aligned
     * where the system offers it.
     */
    @Test
    void panelsOnHugePagesGiveTheSameProducts() {
        Random r = new Random(14);
        GgmlType t = GgmlType.Q6_K;
        int out = 48 * Panels.P + 3, in = 8192;  // panels of more than 2 MiB in all at every width
        byte[] b = QuantTest.randomBlocks(t, out * in / t.blockSize, r);
        float[] x = new float[in];
        for (int i = 0; i < in; i++) x[i] = (float) r.nextGaussian();
        boolean saved = Panels.hugePages;
        try {
            float[][] y = new float[2][out];
            for (int huge = 0; huge < 2; huge++) {
                Panels.hugePages = huge == 1;
                Tensor w = Tensors.of(t, QuantTest.offHeap(b), out, in);
                new CpuBackend(2, false).matmul(w, x, y[huge], 1, null);
                Panels.Store st = ((QuantTensor) w).panels(Parallel.shared(1));
                if (st.views == null) continue;
                assertTrue(st.views[0].byteSize() >= 2 << 20, "large enough for huge pages: " + st.views[0].byteSize());
                if (huge == 1 && Panels.allocateHuge(1) != null)
                    assertEquals(0, st.views[0].address() % (2 << 20), "huge-page panels are 2 MiB aligned");
            }
            assertArrayEquals(y[0], y[1]);
            Panels.hugePages = true;
            if (Panels.allocateHuge(1) != null)
                assertEquals(0, Panels.allocate(4 << 20).address() % (2 << 20), "huge-page buffers are 2 MiB aligned");
        } finally {
            Panels.hugePages = saved;
        }
    }

    /**
     * {@link CpuBackend#matmuls} (decode's q/k/v and gate/up as one job) gives each product bit for bit
     * as {@link CpuBackend#matmul} does alone: mixed quantized formats (Q4_K_M's Q4_K beside Q6_K),
     * partial last panels; with and without bias, decode and prefill token counts, both modes, one and
     * two threads.
     */
    @Test
    void severalProductsOfOneInputEqualEachAlone() {
        Random r = new Random(12);
        int P = Panels.P;
        int in = 512;
        GgmlType[] types = {GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.Q4_0, GgmlType.Q8_0};
        int[] outs = {2 * P + 5, P, 3, 4 * P};
        Tensor[] ws = new Tensor[types.length];
        for (int i = 0; i < types.length; i++) {
            float[] w = new float[outs[i] * in];
            for (int k = 0; k < w.length; k++) w[k] = (float) r.nextGaussian() * 0.1f;
            ws[i] = Quantizer.quantize(types[i], w, outs[i], in);
        }
        for (int tokens : new int[] {1, 3, 5, QuantMatmul.MIN_FP32_TOKENS + 1})
            for (boolean exact : new boolean[] {false, true})
                for (int threads : new int[] {1, 2})
                    for (boolean withBias : new boolean[] {false, true}) {
                        CpuBackend be = new CpuBackend(threads, exact);
                        float[] x = new float[tokens * in];
                        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                        Buf[] ys = new Buf[ws.length], bias = withBias ? new Buf[ws.length] : null;
                        for (int i = 0; i < ws.length; i++) {
                            ys[i] = be.alloc(tokens * outs[i]);
                            if (withBias) {
                                float[] b = new float[outs[i]];
                                for (int k = 0; k < b.length; k++) b[k] = (float) r.nextGaussian();
                                bias[i] = be.wrap(b);
                            }
                        }
                        be.matmuls(ws, be.wrap(x), ys, tokens, bias);
                        for (int i = 0; i < ws.length; i++) {
                            float[] alone = new float[tokens * outs[i]];
                            be.matmul(ws[i], x, alone, tokens, withBias ? HeapBuf.of(bias[i]) : null);
                            assertArrayEquals(alone, HeapBuf.of(ys[i]), types[i] + " [" + outs[i] + ", " + in + "] tokens " + tokens
                                    + (exact ? " exact" : " fast") + " threads " + threads + (withBias ? " bias" : ""));
                        }
                    }
    }

    private static void check(float[] ref, float[] x, float[] bias, float[] y, int tokens, int out, int in, String what) {
        for (int tk = 0; tk < tokens; tk++)
            for (int o = 0; o < out; o++) {
                double s = bias[o], mag = Math.abs(bias[o]);
                for (int k = 0; k < in; k++) {
                    s += (double) ref[o * in + k] * x[tk * in + k];
                    mag += Math.abs((double) ref[o * in + k] * x[tk * in + k]);
                }
                assertEquals(s, y[tk * out + o], 2e-6 * mag + 1e-30, what + ": token " + tk + " row " + o);
            }
    }
}

package jllm.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Each quant type against a plain decoder written in this file from the block layouts in gguf-notes.md. */
class QuantTest {
    static final List<GgmlType> TYPES = List.of(GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0,
            GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);

    static float h(byte[] b, int o) { return Float.float16ToFloat((short) ((b[o] & 0xff) | (b[o + 1] & 0xff) << 8)); }

    static int u(byte[] b, int o) { return b[o] & 0xff; }

    static int[] kScaleMin(byte[] b, int o, int j) {
        if (j < 4) return new int[] {u(b, o + j) & 63, u(b, o + j + 4) & 63};
        return new int[] {(u(b, o + j + 4) & 15) | (u(b, o + j - 4) >> 6) << 4, (u(b, o + j + 4) >> 4) | (u(b, o + j) >> 6) << 4};
    }

    /** Reference decode of one block at {@code b[o..]} into 32 or 256 values. */
    static float[] ref(GgmlType t, byte[] b, int o) {
        float[] y = new float[t.blockSize];
        switch (t) {
            case Q8_0 -> { for (int j = 0; j < 32; j++) y[j] = b[o + 2 + j] * h(b, o); }
            case Q4_0 -> { for (int j = 0; j < 32; j++) y[j] = ((j < 16 ? u(b, o + 2 + j) & 15 : u(b, o + 2 + j - 16) >> 4) - 8) * h(b, o); }
            case Q4_1 -> { for (int j = 0; j < 32; j++) y[j] = (j < 16 ? u(b, o + 4 + j) & 15 : u(b, o + 4 + j - 16) >> 4) * h(b, o) + h(b, o + 2); }
            case Q5_0, Q5_1 -> {
                boolean one = t == GgmlType.Q5_1;
                int qhOff = one ? o + 4 : o + 2, qs = qhOff + 4;
                long qh = (u(b, qhOff) | u(b, qhOff + 1) << 8 | u(b, qhOff + 2) << 16 | (long) u(b, qhOff + 3) << 24);
                for (int j = 0; j < 32; j++) {
                    int q = (j < 16 ? u(b, qs + j) & 15 : u(b, qs + j - 16) >> 4) | (int) ((qh >> j) & 1) << 4;
                    y[j] = one ? q * h(b, o) + h(b, o + 2) : (q - 16) * h(b, o);
                }
            }
            case Q4_K, Q5_K -> {
                boolean five = t == GgmlType.Q5_K;
                float d = h(b, o), dmin = h(b, o + 2);
                for (int k = 0; k < 256; k++) {
                    int chunk = k / 64, l = k % 32, sub = k / 32;
                    int byteQ = u(b, o + (five ? 48 : 16) + 32 * chunk + l);
                    int q = (k % 64) < 32 ? byteQ & 15 : byteQ >> 4;
                    if (five) q |= ((u(b, o + 16 + l) >> sub) & 1) << 4;
                    int[] sm = kScaleMin(b, o + 4, sub);
                    float d1 = d * sm[0], m1 = dmin * sm[1];
                    y[k] = d1 * q - m1;
                }
            }
            case Q6_K -> {
                float d = h(b, o + 208);
                for (int k = 0; k < 256; k++) {
                    int half = k / 128, r = k % 128, quarter = r / 32, l = r % 32;
                    int ql = u(b, o + 64 * half + l + (quarter % 2) * 32);
                    int lo = quarter < 2 ? ql & 15 : ql >> 4;
                    int hi = (u(b, o + 128 + 32 * half + l) >> (2 * quarter)) & 3;
                    int sc = b[o + 192 + 8 * half + l / 16 + 2 * quarter];
                    y[k] = d * sc * ((lo | hi << 4) - 32);
                }
            }
            default -> throw new AssertionError(t);
        }
        return y;
    }

    /** Random blocks with finite, moderate fp16 scales (random bits elsewhere). */
    static byte[] randomBlocks(GgmlType t, int blocks, Random r) {
        byte[] b = new byte[blocks * t.blockBytes];
        r.nextBytes(b);
        int[] halves = switch (t) {
            case Q8_0, Q4_0, Q5_0 -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q6_K -> new int[] {208};
            default -> throw new AssertionError(t);
        };
        for (int k = 0; k < blocks; k++)
            for (int off : halves) {
                short s = Float.floatToFloat16((float) r.nextGaussian() * 0.05f);
                b[k * t.blockBytes + off] = (byte) s;
                b[k * t.blockBytes + off + 1] = (byte) (s >> 8);
            }
        return b;
    }

    static MemorySegment offHeap(byte[] b) {
        MemorySegment s = Arena.ofAuto().allocate(Math.max(1, b.length)).asSlice(0, b.length);
        MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, 0, b.length);
        return s;
    }

    static float[] refAll(GgmlType t, byte[] b) {
        int blocks = b.length / t.blockBytes;
        float[] out = new float[blocks * t.blockSize];
        for (int k = 0; k < blocks; k++) System.arraycopy(ref(t, b, k * t.blockBytes), 0, out, k * t.blockSize, t.blockSize);
        return out;
    }

    @Test
    void readGetAndDotMatchTheReferenceDecoder() {
        Random r = new Random(1);
        for (GgmlType t : TYPES) {
            int rows = 7, cols = 3 * t.blockSize;
            byte[] b = randomBlocks(t, rows * cols / t.blockSize, r);
            Tensor w = Tensors.of(t, offHeap(b), rows, cols);
            assertEquals(t.name(), w.dtype().name());
            float[] want = refAll(t, b);
            float[] got = w.toFloatArray();
            for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 0f, t + " read " + i);
            for (int i = 0; i < want.length; i += 13) assertEquals(want[i], w.get(i), 0f, t + " get " + i);
            float[] part = new float[50];
            w.read(5, part, 3, 40);
            for (int i = 0; i < 40; i++) assertEquals(want[5 + i], part[3 + i], 0f, t + " partial read");
            // rows() views start on block boundaries
            Tensor v = w.rows(2, 3);
            for (int i = 0; i < 3 * cols; i += 7) assertEquals(want[2 * cols + i], v.get(i), 0f, t + " rows view");

            float[] x = new float[want.length + 9];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            for (int[] c : new int[][] {{0, cols}, {cols, 2 * cols}, {0, want.length}, {3, 61}, {t.blockSize - 1, t.blockSize + 2}, {17, 1}}) {
                int from = c[0], n = c[1];
                for (int xo : new int[] {0, 5}) {
                    double s = 0, mag = 0;
                    for (int i = 0; i < n; i++) { s += (double) want[from + i] * x[xo + i]; mag += Math.abs((double) want[from + i] * x[xo + i]); }
                    assertEquals(s, w.dot(from, x, xo, n), 1e-5 * mag + 1e-30, t + " dot from " + from + " n " + n);
                }
            }
        }
    }

    @Test
    void matmulRowsMatchesPerRowDotsForDecodeAndPrefillShapes() {
        Random r = new Random(2);
        for (GgmlType t : TYPES) {
            int rows = 11, cols = 2 * t.blockSize;
            byte[] b = randomBlocks(t, rows * cols / t.blockSize, r);
            Tensor w = Tensors.of(t, offHeap(b), rows, cols);
            float[] want = refAll(t, b);
            float[] bias = new float[rows];
            for (int i = 0; i < rows; i++) bias[i] = (float) r.nextGaussian();
            for (int tokens : new int[] {1, 3, 4, 9}) {
                float[] x = new float[tokens * cols];
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                float[] y = new float[tokens * rows];
                w.matmulRows(x, tokens, y, 1, rows, bias);
                for (int tk = 0; tk < tokens; tk++)
                    for (int o = 1; o < rows; o++) {
                        double s = bias[o], mag = Math.abs(bias[o]);
                        for (int c = 0; c < cols; c++) { s += (double) want[o * cols + c] * x[tk * cols + c]; mag += Math.abs((double) want[o * cols + c] * x[tk * cols + c]); }
                        assertEquals(s, y[tk * rows + o], 1e-5 * mag, t + " tokens " + tk + "/" + tokens + " row " + o);
                    }
                assertEquals(0f, y[0], 0f, "row 0 is outside the requested range");
            }
            // through the backend, with threads
            float[] x = new float[5 * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            float[] y1 = new float[5 * rows], y2 = new float[5 * rows];
            new CpuBackend(1).matmul(w, x, y1, 5, null);
            new CpuBackend(2).matmul(w, x, y2, 5, null);
            for (int i = 0; i < y1.length; i++) assertEquals(y1[i], y2[i], 0f);
        }
    }

    @Test
    void quantizersRoundTripWithinTheirPrecision() {
        Random r = new Random(3);
        int n = 64 * 256;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        StringBuilder table = new StringBuilder("quantize -> dequantize RMSE on N(0,1):\n");
        // bounds 5% above what these quantizers achieve (Q8_0 0.00529, Q6_K 0.0176, Q5_K 0.0355, Q4_K 0.0712 ...), so regressions in the scale search show
        for (var e : new Object[][] {{GgmlType.Q8_0, 0.0056}, {GgmlType.Q6_K, 0.0186}, {GgmlType.Q5_1, 0.0395}, {GgmlType.Q5_0, 0.0442},
                {GgmlType.Q5_K, 0.0374}, {GgmlType.Q4_1, 0.081}, {GgmlType.Q4_0, 0.0897}, {GgmlType.Q4_K, 0.0748},
                {GgmlType.F16, 2.2e-4}, {GgmlType.BF16, 1.8e-3}}) {
            GgmlType t = (GgmlType) e[0];
            Tensor q = Quantizer.quantize(t, x, 64, 256);
            float[] y = q.toFloatArray();
            double se = 0;
            for (int i = 0; i < n; i++) se += (x[i] - y[i]) * (double) (x[i] - y[i]);
            double rmse = Math.sqrt(se / n);
            table.append(String.format("  %-5s %.5f%n", t, rmse));
            assertTrue(rmse < (double) e[1], t + " rmse " + rmse);
        }
        System.out.print(table);
    }

    @Test
    void simpleQuantizersFollowTheReferenceRounding() {
        float[] x = new float[32];
        for (int i = 0; i < 32; i++) x[i] = (i - 12) * 0.25f;
        x[5] = -7.5f; // largest magnitude, negative
        byte[] q8 = bytes(Quantizer.quantize(GgmlType.Q8_0, x, 32));
        float d = 7.5f / 127;
        assertEquals(Float.floatToFloat16(d), (short) ((q8[0] & 0xff) | q8[1] << 8));
        for (int i = 0; i < 32; i++) assertEquals(Quantizer.roundf(x[i] * (1 / d)), q8[2 + i], "q8_0 code " + i);
        byte[] q4 = bytes(Quantizer.quantize(GgmlType.Q4_0, x, 32));
        float d4 = -7.5f / -8;
        for (int i = 0; i < 32; i++) {
            int want = Math.min(15, (int) (x[i] * (1 / d4) + 8.5f));
            int got = i < 16 ? q4[2 + i] & 15 : (q4[2 + i - 16] & 0xff) >> 4;
            assertEquals(want, got, "q4_0 code " + i);
        }
        assertEquals(0, q4[2 + 5] & 15, "the extreme value maps to code 0");
        assertEquals(-3, Quantizer.roundf(-2.5f));
        assertEquals(3, Quantizer.roundf(2.5f));
        assertEquals(0, Quantizer.roundf(0.49999997f));
    }

    static byte[] bytes(Tensor t) { return t.segment().toArray(ValueLayout.JAVA_BYTE); }

    @Test
    void badInputIsRefusedClearly() {
        assertThrows(IllegalArgumentException.class, () -> GgmlType.fromId(4));
        assertThrows(IllegalArgumentException.class, () -> GgmlType.fromId(99));
        assertEquals(GgmlType.Q6_K, GgmlType.fromId(14));
        var e = assertThrows(IllegalArgumentException.class, () -> Tensors.of(GgmlType.Q8_0, offHeap(new byte[34 * 2]), 2, 33));
        assertTrue(e.getMessage().contains("multiple of 32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensors.of(GgmlType.Q4_0, offHeap(new byte[17]), 1, 32));
        assertThrows(IllegalArgumentException.class, () -> Tensors.of(GgmlType.IQ2_XS, offHeap(new byte[74]), 1, 256));
        Tensor t = Tensors.of(GgmlType.Q8_0, offHeap(new byte[34 * 4]), 2, 64);
        assertThrows(IllegalArgumentException.class, () -> t.rows(1, 2));
        assertThrows(IllegalArgumentException.class, () -> t.reshape(4, 33));
        assertEquals(64, Tensors.of(GgmlType.Q8_0, offHeap(new byte[34 * 4]), 2, 64).reshape(4, 32).numel() / 2);
    }

    /**
     * Prefill (many tokens) goes through the packed fp32 GEMM for every format; it must equal a
     * double-precision product with the reference-decoded weights, for token counts and row counts
     * that are not multiples of the kernel's tile, with a bias, on one and several threads.
     */
    @Test
    void prefillMatmulMatchesTheReferenceDecoderForEveryType() {
        Random r = new Random(5);
        int out = 50;
        for (GgmlType t : TYPES) {
            int in = 2 * Math.max(t.blockSize, 32);
            byte[] b = randomBlocks(t, out * in / t.blockSize, r);
            checkPrefill(t.name(), Tensors.of(t, offHeap(b), out, in), refAll(t, b), out, in, r);
        }
        int in = 96;
        float[] w = new float[out * in];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        checkPrefill("F32", F32Tensor.of(w, out, in), w, out, in, r);
        byte[] h = new byte[out * in * 2], bf = new byte[out * in * 2];
        float[] wh = new float[out * in], wb = new float[out * in];
        for (int i = 0; i < w.length; i++) {
            short x = Float.floatToFloat16(w[i]), y = BF16Tensor.fromFloat(w[i]);
            h[2 * i] = (byte) x; h[2 * i + 1] = (byte) (x >> 8);
            bf[2 * i] = (byte) y; bf[2 * i + 1] = (byte) (y >> 8);
            wh[i] = Float.float16ToFloat(x);
            wb[i] = BF16Tensor.toFloat(y);
        }
        checkPrefill("F16", new F16Tensor(offHeap(h), out, in), wh, out, in, r);
        checkPrefill("BF16", new BF16Tensor(offHeap(bf), out, in), wb, out, in, r);
    }

    private static void checkPrefill(String name, Tensor w, float[] ref, int out, int in, Random r) {
        float[] bias = new float[out];
        for (int i = 0; i < out; i++) bias[i] = (float) r.nextGaussian();
        for (int tokens : new int[] {PanelMatmul.MIN_TOKENS, 45, 70, 300}) {
            assertTrue(w instanceof QuantTensor ? QuantMatmul.applies(w) : PanelMatmul.applies(w, tokens), name + " should take the panel path at " + tokens + " tokens");
            float[] x = new float[tokens * in];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            for (int threads : new int[] {1, 2}) {
                float[] y = new float[tokens * out];
                new CpuBackend(threads, true).matmul(w, x, y, tokens, bias);
                for (int t = 0; t < tokens; t++)
                    for (int o = 0; o < out; o++) {
                        double sum = bias[o], mag = Math.abs(bias[o]);
                        for (int k = 0; k < in; k++) {
                            sum += (double) ref[o * in + k] * x[t * in + k];
                            mag += Math.abs((double) ref[o * in + k] * x[t * in + k]);
                        }
                        assertEquals(sum, y[t * out + o], 1e-6 * mag + 1e-30, name + " token " + t + " row " + o + " threads " + threads);
                    }
            }
        }
    }

    /** The load-time check counts from scales (quantized) or bits (dense) exactly what a full decode would find. */
    @Test
    void nonFiniteCountsWhatADecodeFinds() {
        Random r = new Random(9);
        for (GgmlType t : TYPES) {
            byte[] b = randomBlocks(t, 6, r);
            int at = switch (t) { case Q6_K -> 208; case Q4_1, Q5_1, Q4_K, Q5_K -> 2; default -> 0; };
            b[t.blockBytes + at + 1] = (byte) 0x7c; // block 1: an infinite scale (or min)
            b[4 * t.blockBytes + at] = 0;
            b[4 * t.blockBytes + at + 1] = (byte) 0x7e; // block 4: a NaN one
            Tensor w = Tensors.of(t, offHeap(b), 6 * t.blockSize);
            assertEquals(decodedNonFinite(w), w.nonFinite(), t.name());
            assertEquals(2L * t.blockSize, w.nonFinite(), t.name());
        }
        float[] v = new float[1000];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        v[3] = Float.NaN; v[500] = Float.POSITIVE_INFINITY; v[999] = Float.NEGATIVE_INFINITY;
        for (GgmlType t : List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16)) {
            Tensor w = Quantizer.quantize(t, v, v.length);
            assertEquals(3, w.nonFinite(), t.name());
            assertEquals(3, decodedNonFinite(w), t.name());
        }
    }

    private static long decodedNonFinite(Tensor w) {
        long n = 0;
        for (float f : w.toFloatArray()) if (!Float.isFinite(f)) n++;
        return n;
    }
}

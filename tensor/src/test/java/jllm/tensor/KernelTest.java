package jllm.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KernelTest {
    private static final ValueLayout.OfShort LES = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static MemorySegment allShorts() {
        MemorySegment s = MemorySegment.ofArray(new byte[65536 * 2]);
        for (int i = 0; i < 65536; i++) s.set(LES, 2L * i, (short) i);
        return s;
    }

    @Test
    void f16DecodesEveryBitPatternLikeTheJdk() {
        F16Tensor t = new F16Tensor(allShorts(), 65536);
        float[] x = new float[65536];
        for (int i = 0; i < 65536; i++) {
            float want = Float.float16ToFloat((short) i);
            float got = t.get(i);
            assertEquals(Float.floatToRawIntBits(want) & (Float.isNaN(want) ? 0 : -1), Float.floatToRawIntBits(got) & (Float.isNaN(got) ? 0 : -1), "half 0x" + Integer.toHexString(i));
        }
        // the vectorised dot with a one-hot x reads each element through the SIMD path (inf/NaN zeroed: 0 * inf = NaN)
        MemorySegment finite = allShorts();
        for (int i = 0; i < 65536; i++) if ((i & 0x7c00) == 0x7c00) finite.set(LES, 2L * i, (short) 0);
        t = new F16Tensor(finite, 65536);
        for (int i = 0; i < 65536; i += 97) {
            java.util.Arrays.fill(x, 0f);
            x[i] = 1f;
            float want = Float.float16ToFloat((short) i);
            if (!Float.isFinite(want)) continue;
            assertEquals(want, t.dot(0, x, 0, 65536), 0f, "half 0x" + Integer.toHexString(i));
        }
    }

    @Test
    void bf16RoundTripsAndRoundsToNearestEven() {
        assertEquals((short) 0x3f80, BF16Tensor.fromFloat(1.0f));
        assertEquals((short) 0x3f80, BF16Tensor.fromFloat(Float.intBitsToFloat(0x3f808000))); // tie -> even
        assertEquals((short) 0x3f82, BF16Tensor.fromFloat(Float.intBitsToFloat(0x3f818000))); // tie -> even (up)
        assertEquals((short) 0x3f81, BF16Tensor.fromFloat(Float.intBitsToFloat(0x3f808001)));
        assertTrue(Float.isNaN(BF16Tensor.toFloat(BF16Tensor.fromFloat(Float.NaN))));
        BF16Tensor t = new BF16Tensor(allShorts(), 65536);
        for (int i = 0; i < 65536; i++) {
            float v = t.get(i);
            if (!Float.isNaN(v)) assertEquals((short) i, BF16Tensor.fromFloat(v));
        }
    }

    @Test
    void dotProductsMatchAScalarReferenceForAllLengths() {
        Random r = new Random(1);
        for (int n = 1; n < 300; n += 7) {
            float[] w = new float[n + 5], x = new float[n + 3];
            for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            MemorySegment bf = MemorySegment.ofArray(new byte[w.length * 2]), hf = MemorySegment.ofArray(new byte[w.length * 2]);
            for (int i = 0; i < w.length; i++) {
                bf.set(LES, 2L * i, BF16Tensor.fromFloat(w[i]));
                hf.set(LES, 2L * i, Float.floatToFloat16(w[i]));
            }
            Tensor[] ts = {F32Tensor.of(w, w.length), new BF16Tensor(bf, w.length), new F16Tensor(hf, w.length)};
            for (Tensor t : ts) {
                double want = 0, scale = 0;
                for (int i = 0; i < n; i++) { want += (double) t.get(2 + i) * x[1 + i]; scale += Math.abs(t.get(2 + i) * x[1 + i]); }
                float got = t.dot(2, x, 1, n);
                assertEquals(want, got, 1e-5 * scale + 1e-6, t + " n=" + n);
            }
        }
    }

    @Test
    void erfMatchesPublishedValues() {
        // Abramowitz & Stegun table 7.1 / high-precision values
        double[][] v = {{0.0, 0.0}, {0.1, 0.1124629160182849}, {0.5, 0.5204998778130465}, {1.0, 0.8427007929497149},
                {1.5, 0.9661051464753108}, {2.0, 0.9953222650189527}, {2.5, 0.9995930479825550}, {3.0, 0.9999779095030014},
                {4.0, 0.9999999845827421}, {-0.7, -0.6778011938374184}, {-3.5, -0.9999992569016276}};
        for (double[] p : v) assertEquals(p[1], MathUtil.erf(p[0]), 1e-14, "erf(" + p[0] + ")");
    }

    @Test
    void attentionMasksSelectTheDocumentedKeys() {
        assertEquals(0, AttentionMask.CAUSAL.firstKey(9));
        assertEquals(6, AttentionMask.sliding(4).firstKey(9)); // keys 6,7,8,9: four including the query
        assertEquals(0, AttentionMask.sliding(4).firstKey(2));
        assertEquals(8, AttentionMask.chunked(8).firstKey(9));
        assertEquals(8, AttentionMask.chunked(8).firstKey(8));
        assertEquals(0, AttentionMask.chunked(8).firstKey(7));
    }

    @Test
    void matmulMatchesScalarAcrossThreadCounts() {
        Random r = new Random(7);
        int out = 37, in = 53, rows = 5;
        float[] w = new float[out * in], x = new float[rows * in], bias = new float[out];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < out; i++) bias[i] = (float) r.nextGaussian();
        for (int threads : new int[] {1, 2, 3}) {
            float[] y = new float[rows * out];
            new CpuBackend(threads).matmul(F32Tensor.of(w, out, in), x, y, rows, bias);
            for (int t = 0; t < rows; t++)
                for (int o = 0; o < out; o++) {
                    double s = bias[o];
                    for (int i = 0; i < in; i++) s += (double) w[o * in + i] * x[t * in + i];
                    assertEquals(s, y[t * out + o], 1e-4);
                }
        }
    }

    /**
     * F16 decode widens finite tensors in registers and others through the JDK's conversion: every
     * finite bit pattern must come out exact (one-hot x), results must match {@link F16Tensor#dot}
     * (the same summation order; not compared bit for bit, as the interpreter's and C2's
     * {@code reduceLanes} may add lanes in different orders), and an inf/NaN weight must still poison
     * its row.
     */
    @ParameterizedTest(name = "widen rows {0}")
    @ValueSource(booleans = {false, true})
    void f16DecodeIsExactForEveryFiniteHalfAndKeepsNaNs(boolean widen) {
        KernelSwitch.with(() -> F16Tensor.widenRows, v -> F16Tensor.widenRows = v, widen, KernelTest::f16DecodeIsExactForEveryFiniteHalfAndKeepsNaNs);
    }

    /**
     * On CPUs with slow subnormals (F16Tensor.widenRows) F16 decode widens chunks of four rows with
     * the CPU's conversion, elsewhere in registers: weights as real models have them (N(0, 0.02^2),
     * 0.24% subnormal halves, more forced in, of both signs, and -0), a row length that ends in a
     * partial chunk, decode and prefill, give what {@code dot} gives either way.
     */
    @Test
    void f16SubnormalHalvesGiveTheSameResultsWidenedOrNot() {
        boolean was = F16Tensor.widenRows;
        Random rnd = new Random(11);
        int out = 21, in = 4096 + 96;
        MemorySegment s = java.lang.foreign.Arena.ofAuto().allocate((long) out * in * 2);
        for (int i = 0; i < out * in; i++) {
            float v = (float) rnd.nextGaussian() * 0.02f;
            if (rnd.nextInt(300) == 0) v = (rnd.nextBoolean() ? 1 : -1) * rnd.nextInt(1024) * 0x1p-24f;
            if (rnd.nextInt(500) == 0) v = -0f;
            s.set(LES, 2L * i, Float.floatToFloat16(v));
        }
        try {
            for (int tokens : new int[] {1, 3, 40}) {
                float[] x = new float[tokens * in];
                for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                float[][] y = new float[2][tokens * out];
                for (int g = 0; g < 2; g++) {
                    F16Tensor.widenRows = g == 1;
                    new CpuBackend(2).matmul(new F16Tensor(s, out, in), x, y[g], tokens, null);
                }
                F16Tensor w = new F16Tensor(s, out, in);
                for (int tk = 0; tk < tokens; tk++)
                    for (int o = 0; o < out; o++) {
                        double mag = 0;
                        for (int i = 0; i < in; i++) mag += Math.abs((double) w.get((long) o * in + i) * x[tk * in + i]);
                        float want = w.dot((long) o * in, x, tk * in, in);
                        for (int g = 0; g < 2; g++)
                            assertEquals(want, y[g][tk * out + o], (tokens < 4 ? 1e-6 : 1e-5) * mag, "widen " + (g == 1) + ", tokens " + tokens + ", token " + tk + " row " + o);
                    }
            }
        } finally {
            F16Tensor.widenRows = was;
        }
    }

    private static void f16DecodeIsExactForEveryFiniteHalfAndKeepsNaNs() {
        int cols = 32, rows = 65536 / cols;
        MemorySegment finite = allShorts();
        for (int i = 0; i < 65536; i++) if ((i & 0x7c00) == 0x7c00) finite.set(LES, 2L * i, (short) 0);
        F16Tensor t = new F16Tensor(finite, rows, cols);
        float[] x = new float[cols], y = new float[rows];
        for (int j = 0; j < cols; j++) {
            java.util.Arrays.fill(x, 0f);
            x[j] = 1f;
            t.matmulRows(x, 1, y, 0, rows, null);
            for (int r = 0; r < rows; r++) {
                int i = r * cols + j;
                float want = (i & 0x7c00) == 0x7c00 ? 0f : Float.float16ToFloat((short) i);
                assertEquals(want, y[r], 0f, "half 0x" + Integer.toHexString(i));
            }
        }
        // prefill (PanelMatmul, the rows widened by readInterleaved): the identity as x gives every weight back
        float[] eye = new float[cols * cols], yp = new float[cols * rows];
        for (int j = 0; j < cols; j++) eye[j * cols + j] = 1f;
        new CpuBackend(1).matmul(t, eye, yp, cols, null);
        for (int j = 0; j < cols; j++)
            for (int r = 0; r < rows; r++) {
                int i = r * cols + j;
                float want = (i & 0x7c00) == 0x7c00 ? 0f : Float.float16ToFloat((short) i);
                assertEquals(want, yp[j * rows + r], 0f, "prefill, half 0x" + Integer.toHexString(i));
            }
        Random rnd = new Random(3);
        for (int in : new int[] {1, 7, 16, 48, 100, 2048}) {
            int out = 9;
            MemorySegment s = MemorySegment.ofArray(new byte[out * in * 2]);
            for (int i = 0; i < out * in; i++) s.set(LES, 2L * i, Float.floatToFloat16((float) rnd.nextGaussian()));
            for (int tokens = 1; tokens <= 3; tokens++) {
                float[] xs = new float[tokens * in], ys = new float[tokens * out];
                for (int i = 0; i < xs.length; i++) xs[i] = (float) rnd.nextGaussian();
                F16Tensor w = new F16Tensor(s, out, in);
                w.matmulRows(xs, tokens, ys, 0, out, null);
                for (int tk = 0; tk < tokens; tk++)
                    for (int o = 0; o < out; o++) {
                        double mag = 0;
                        for (int i = 0; i < in; i++) mag += Math.abs((double) w.get((long) o * in + i) * xs[tk * in + i]);
                        assertEquals(w.dot((long) o * in, xs, tk * in, in), ys[tk * out + o], 1e-6 * mag, "in " + in + " token " + tk + " row " + o);
                    }
            }
            // activations the finite-weight kernels take pre-scaled by 2^112 (below 2^16) and those they
            // cannot (at or above 2^16, where x 2^112 would overflow, up to 1e30): the same results
            for (float big : new float[] {65504f, 65536f, 1e30f}) {
                float[] xs = new float[in], ys = new float[out];
                for (int i = 0; i < in; i++) xs[i] = (float) rnd.nextGaussian();
                xs[in / 2] = big;
                F16Tensor w = new F16Tensor(s, out, in);
                w.matmulRows(xs, 1, ys, 0, out, null);
                for (int o = 0; o < out; o++) {
                    double mag = 0;
                    for (int i = 0; i < in; i++) mag += Math.abs((double) w.get((long) o * in + i) * xs[i]);
                    assertTrue(Float.isFinite(ys[o]), "x up to " + big);
                    assertEquals(w.dot((long) o * in, xs, 0, in), ys[o], 1e-6 * mag, "x up to " + big + ", in " + in + " row " + o);
                }
            }
            s.set(LES, 2L * (3 * in + in / 2), (short) 0x7e00); // NaN in row 3
            s.set(LES, 2L * (5 * in), (short) 0x7c00); // +inf in row 5
            F16Tensor w = new F16Tensor(s, out, in);
            float[] xs = new float[in], ys = new float[out];
            java.util.Arrays.fill(xs, 1f);
            w.matmulRows(xs, 1, ys, 0, out, null);
            for (int o = 0; o < out; o++) assertEquals(o == 3 || o == 5, !Float.isFinite(ys[o]), "in " + in + " row " + o);
        }
    }

    /**
     * F16 and BF16 decode reads four rows a quarter of the range apart per pass: what one row at a
     * time gives ({@code dot}, the same order up to the final lane reduction), for short and long rows,
     * the rows left over, row ranges that start mid-way and a bias; prefill (four rows widened into
     * PanelMatmul's panels at once) likewise, up to its own summation order.
     */
    @ParameterizedTest
    @ValueSource(ints = {2048, 4096 + 64})
    void sixteenBitDecodeReadsFourRowsAtOnceAsRowByRow(int in) {
        int out = 23;
        Random rnd = new Random(9);
        for (boolean bf16 : new boolean[] {false, true}) {
            MemorySegment s = java.lang.foreign.Arena.ofAuto().allocate((long) out * in * 2);
            for (int i = 0; i < out * in; i++) {
                float v = (float) rnd.nextGaussian();
                s.set(LES, 2L * i, bf16 ? BF16Tensor.fromFloat(v) : Float.floatToFloat16(v));
            }
            Tensor w = bf16 ? new BF16Tensor(s, out, in) : new F16Tensor(s, out, in);
            float[] bias = new float[out];
            for (int o = 0; o < out; o++) bias[o] = (float) rnd.nextGaussian();
            for (int tokens : new int[] {1, 2, 40}) {
                float[] x = new float[tokens * in], y = new float[tokens * out];
                for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                new CpuBackend(2).matmul(w, x, y, tokens, bias);
                float[][] ys = {y, new float[tokens * out], new float[tokens * out]};
                int[] from = {0, 4, 5};
                if (tokens < 4) {
                    w.matmulRows(x, tokens, ys[1], from[1], out, bias);
                    w.matmulRows(x, tokens, ys[2], from[2], out, bias);
                }
                for (int v = 0; v < (tokens < 4 ? ys.length : 1); v++)
                    for (int tk = 0; tk < tokens; tk++)
                        for (int o = from[v]; o < out; o++) {
                            double mag = Math.abs(bias[o]);
                            for (int i = 0; i < in; i++) mag += Math.abs((double) w.get((long) o * in + i) * x[tk * in + i]);
                            // decode: the same order per lane, the final lane reduction's order is the compiler's (1 ulp seen);
                            // prefill: its own order, within fp32 round-off of a sum of 4000 products
                            assertEquals(w.dot((long) o * in, x, tk * in, in) + bias[o], ys[v][tk * out + o], (tokens < 4 ? 1e-6 : 1e-5) * mag,
                                    w.dtype() + ", rows from " + from[v] + ", token " + tk + " row " + o);
                        }
            }
        }
    }

    /**
     * A large F16 tensor in a read-only file mapping, copied onto huge pages at its first matmul
     * ({@code -Djllm.f16.hugepages}) with the mapping's pages released: decode (four rows per pass,
     * or row by row where a row is not whole pairs of vectors: 2056 columns at 256 and 512 bits),
     * prefill, get and read give what a heap copy of the same bytes gives, including the rows past the
     * last group of four.
     */
    @ParameterizedTest
    @ValueSource(ints = {2048, 2056})
    void f16CopiedOffTheMappingComputesTheSame(int in) throws Exception {
        int out = 2114;
        byte[] bytes = new byte[out * in * 2];
        MemorySegment heap = MemorySegment.ofArray(bytes);
        Random rnd = new Random(5);
        for (int i = 0; i < out * in; i++) heap.set(LES, 2L * i, Float.floatToFloat16((float) rnd.nextGaussian()));
        java.nio.file.Path f = java.nio.file.Files.createTempFile("f16", ".bin");
        boolean was = F16Tensor.hugeCopy;
        F16Tensor.hugeCopy = true;
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            java.nio.file.Files.write(f, bytes);
            MemorySegment mapped;
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f)) {
                mapped = ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, bytes.length, arena);
            }
            F16Tensor ref = new F16Tensor(heap, out, in), w = new F16Tensor(mapped, out, in);
            for (int tokens : new int[] {1, 3, 5, 40}) {
                float[] x = new float[tokens * in], y1 = new float[tokens * out], y2 = new float[tokens * out];
                for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                new CpuBackend(1).matmul(ref, x, y1, tokens, null);
                new CpuBackend(2).matmul(w, x, y2, tokens, null);
                // sums of 2048 products of N(0, 1) values (sum of |w x| ~1300): fp32 round-off of other orders stays far below 1e-3
                for (int i = 0; i < y1.length; i++) assertEquals(y1[i], y2[i], 1e-3f, "tokens " + tokens + " at " + i);
            }
            float[] a = new float[in + 3], b = new float[in + 3];
            ref.read(777L * in + 5, a, 3, in);
            w.read(777L * in + 5, b, 3, in);
            for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 0f);
            for (long i = 0; i < (long) out * in; i += 4099) assertEquals(ref.get(i), w.get(i), 0f);
        } finally {
            F16Tensor.hugeCopy = was;
            java.nio.file.Files.deleteIfExists(f);
        }
    }
}

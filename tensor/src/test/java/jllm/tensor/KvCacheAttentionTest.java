package jllm.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Attention over the KV cache (transposed key tiles, chunked softmax) against a plain fp64
 * attention: fp32 caches to round-off, f16 and Q8_0 caches within a bound; a token decoded alone
 * gets the same bits as in a prefill, whatever the thread count; shapes cover MHA, GQA and MQA,
 * head dims that are not a multiple of the vector length, chunk boundaries, sliding and chunked
 * masks and the soft-cap.
 */
class KvCacheAttentionTest {
    private final Random rnd = new Random(11);

    private float[] randn(int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextGaussian() * scale);
        return a;
    }

    /** fp64 attention of rows at positions start.. over keys/values [positions, kvHeads * hd] from 0. */
    static double[] reference(float[] q, float[] k, float[] v, int rows, int start, int heads, int kvHeads, int hd,
                              double scale, double cap, AttentionMask mask) {
        int[] pos = new int[rows];
        for (int t = 0; t < rows; t++) pos[t] = start + t;
        return BackendGradTest.attentionRef(wide(q), wide(k), wide(v), rows, pos, new int[rows], heads, kvHeads, hd, scale, cap, mask);
    }

    private static double[] wide(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    /** Relative L2 error of got against want. */
    static double relL2(float[] got, double[] want) {
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            num += (got[i] - want[i]) * (got[i] - want[i]);
            den += want[i] * want[i];
        }
        return Math.sqrt(num / den);
    }

    /** Prefills all n positions in one call (after storing them), returning the output of every row. */
    private static float[] prefill(CpuBackend be, KvType type, float[] q, float[] k, float[] v, int n, int heads, int kvHeads, int hd,
                                   float scale, float cap, AttentionMask mask) {
        KvCache c = be.kvCache(2, kvHeads, hd, type);
        c.ensure(n);
        int[] pos = new int[n];
        for (int t = 0; t < n; t++) pos[t] = t;
        be.kvStore(c, 1, new HeapBuf(k), new HeapBuf(v), 0, n);
        HeapBuf out = new HeapBuf(n * heads * hd);
        be.attention(new HeapBuf(q), n, pos, c, 1, heads, hd, scale, cap, mask, out);
        return out.array();
    }

    /** Stores and attends one position at a time, as decoding does; rows [0, firstDecoded) are prefilled first. */
    private static float[] incremental(CpuBackend be, KvType type, float[] q, float[] k, float[] v, int n, int firstDecoded, int heads, int kvHeads,
                                       int hd, float scale, float cap, AttentionMask mask) {
        KvCache c = be.kvCache(1, kvHeads, hd, type);
        int qd = heads * hd, kvd = kvHeads * hd;
        float[] all = new float[n * qd];
        int t = 0;
        while (t < n) {
            int rows = t == 0 && firstDecoded > 0 ? firstDecoded : 1;
            c.ensure(t + rows); // grows step by step: the layout must survive every copy
            int[] pos = new int[rows];
            for (int i = 0; i < rows; i++) pos[i] = t + i;
            be.kvStore(c, 0, new HeapBuf(java.util.Arrays.copyOfRange(k, t * kvd, (t + rows) * kvd)),
                    new HeapBuf(java.util.Arrays.copyOfRange(v, t * kvd, (t + rows) * kvd)), t, rows);
            HeapBuf out = new HeapBuf(rows * qd);
            be.attention(new HeapBuf(java.util.Arrays.copyOfRange(q, t * qd, (t + rows) * qd)), rows, pos, c, 0, heads, hd, scale, cap, mask, out);
            System.arraycopy(out.array(), 0, all, t * qd, rows * qd);
            t += rows;
        }
        return all;
    }

    private record Shape(int heads, int kvHeads, int hd, AttentionMask mask, float cap) {}

    private static final Shape[] SHAPES = {
            new Shape(8, 2, 64, AttentionMask.CAUSAL, 0f),       // GQA, Llama 3.2 1B's head dim
            new Shape(4, 4, 24, AttentionMask.CAUSAL, 0f),       // MHA, hd not a multiple of 16
            new Shape(6, 1, 80, AttentionMask.sliding(70), 0f),  // MQA, sliding window across chunk bounds
            new Shape(4, 2, 8, AttentionMask.chunked(100), 0f),  // hd below one vector, chunked mask
            new Shape(2, 1, 40, AttentionMask.CAUSAL, 30f),      // soft-cap (Gemma 2)
            new Shape(16, 2, 128, AttentionMask.CAUSAL, 0f),     // group 8
    };

    @Test
    void f32CacheMatchesReferenceAttentionAndDecodeEqualsPrefill() {
        int n = 300; // three chunks of 128, the last partial
        for (Shape s : SHAPES) {
            float[] q = randn(n * s.heads * s.hd, 1.2), k = randn(n * s.kvHeads * s.hd, 1.2), v = randn(n * s.kvHeads * s.hd, 1);
            float scale = 1f / (float) Math.sqrt(s.hd);
            double[] want = reference(q, k, v, n, 0, s.heads, s.kvHeads, s.hd, scale, s.cap, s.mask);
            float[] pre = prefill(new CpuBackend(2), KvType.F32, q, k, v, n, s.heads, s.kvHeads, s.hd, scale, s.cap, s.mask);
            String what = s.toString();
            for (int i = 0; i < want.length; i++)
                assertEquals(want[i], pre[i], 2e-5 * (1 + Math.abs(want[i])), what + " element " + i);
            assertTrue(relL2(pre, want) < 1e-6, what + " rel L2 " + relL2(pre, want));
            float[] dec = incremental(new CpuBackend(3), KvType.F32, q, k, v, n, 0, s.heads, s.kvHeads, s.hd, scale, s.cap, s.mask);
            assertArrayEquals(pre, dec, what + ": decoding token by token gives the prefill's bits");
            float[] mixed = incremental(new CpuBackend(1), KvType.F32, q, k, v, n, 137, s.heads, s.kvHeads, s.hd, scale, s.cap, s.mask);
            assertArrayEquals(pre, mixed, what + ": a 137-token prefill, then decoding, on one thread");
        }
    }

    @Test
    void f16AndQ8CachesStayWithinTheirBoundsAndDecodeEqualsPrefill() {
        int n = 260;
        for (Shape s : SHAPES) {
            float[] q = randn(n * s.heads * s.hd, 1.2), k = randn(n * s.kvHeads * s.hd, 1.2), v = randn(n * s.kvHeads * s.hd, 1);
            float scale = 1f / (float) Math.sqrt(s.hd);
            double[] want = reference(q, k, v, n, 0, s.heads, s.kvHeads, s.hd, scale, s.cap, s.mask);
            // f16 keeps 11 significant bits (rel. 2^-12 per value); q8_0 ~ max/254 per block of 32
            for (KvType type : new KvType[] {KvType.F16, KvType.Q8_0}) {
                float[] pre = prefill(new CpuBackend(2), type, q, k, v, n, s.heads, s.kvHeads, s.hd, scale, s.cap, s.mask);
                double err = relL2(pre, want), bound = type == KvType.F16 ? 1e-3 : 2e-2;
                assertTrue(err < bound, type + " " + s + ": rel L2 " + err);
                float[] dec = incremental(new CpuBackend(3), type, q, k, v, n, 0, s.heads, s.kvHeads, s.hd, scale, s.cap, s.mask);
                assertArrayEquals(pre, dec, type + " " + s + ": decode equals prefill");
            }
        }
    }

    @Test
    void q8CacheErrorIsThatOfItsRounding() {
        // attention over a cache holding exactly the q8_0-rounded keys and values (f32) must equal the q8_0 cache's
        int n = 140, heads = 4, kvHeads = 2, hd = 64;
        float[] q = randn(n * heads * hd, 1), k = randn(n * kvHeads * hd, 1), v = randn(n * kvHeads * hd, 1);
        float[] kq = q8Rounded(k), vq = q8Rounded(v);
        CpuBackend be = new CpuBackend(2);
        float[] viaQ8 = prefill(be, KvType.Q8_0, q, k, v, n, heads, kvHeads, hd, 0.125f, 0f, AttentionMask.CAUSAL);
        float[] viaF32 = prefill(be, KvType.F32, q, kq, vq, n, heads, kvHeads, hd, 0.125f, 0f, AttentionMask.CAUSAL);
        double[] want = new double[viaF32.length];
        for (int i = 0; i < want.length; i++) want[i] = viaF32[i];
        assertTrue(relL2(viaQ8, want) < 1e-6, "rel L2 " + relL2(viaQ8, want));
    }

    /** q8_0 per 32 values (llama.cpp's rounding, fp32 scale): round(x / d) * d, d = max|x| / 127. */
    private static float[] q8Rounded(float[] x) {
        float[] y = new float[x.length];
        for (int b = 0; b < x.length; b += 32) {
            float amax = 0;
            for (int i = b; i < b + 32; i++) amax = Math.max(amax, Math.abs(x[i]));
            float d = amax / 127f, id = d == 0 ? 0 : 1f / d;
            for (int i = b; i < b + 32; i++) y[i] = Quantizer.roundf(x[i] * id) * d;
        }
        return y;
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        int n = 520, heads = 8, kvHeads = 2, hd = 64;
        float[] q = randn(n * heads * hd, 1), k = randn(n * kvHeads * hd, 1), v = randn(n * kvHeads * hd, 1);
        for (KvType type : KvType.values()) {
            float[] one = prefill(new CpuBackend(1), type, q, k, v, n, heads, kvHeads, hd, 0.125f, 0f, AttentionMask.CAUSAL);
            for (int threads : new int[] {2, 5})
                assertArrayEquals(one, prefill(new CpuBackend(threads), type, q, k, v, n, heads, kvHeads, hd, 0.125f, 0f, AttentionMask.CAUSAL),
                        type + " with " + threads + " threads");
        }
    }

    @Test
    void halfCacheSaturatesInsteadOfOverflowing() {
        int heads = 1, kvHeads = 1, hd = 16;
        float[] q = new float[hd], k = new float[hd], v = new float[hd];
        q[0] = 1e-3f;
        k[0] = 1e6f; // beyond fp16's 65504: stored as 65504, not infinity
        v[3] = 2f;
        float[] out = prefill(new CpuBackend(1), KvType.F16, q, k, v, 1, heads, kvHeads, hd, 1f, 0f, AttentionMask.CAUSAL);
        assertEquals(2f, out[3], 0f);
        for (float x : out) assertTrue(Float.isFinite(x));
    }

    @Test
    void aCacheThatCannotFitIsRefusedUpFront() {
        KvCache c = new CpuBackend(1).kvCache(64, 8, 128, KvType.F32);
        var e = assertThrows(IllegalArgumentException.class, () -> c.ensure(Integer.MAX_VALUE / 4));
        assertTrue(e.getMessage().contains("MiB"), e.getMessage());
        assertEquals(KvType.Q8_0, KvType.parse("Q8_0"));
        assertThrows(IllegalArgumentException.class, () -> KvType.parse("q4_0"));
    }
}

package jllm.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The low-precision ops (doctor's emulation of bf16/fp16 PyTorch runs and implementation variants):
 * rounding as torch rounds, fp32 settings that agree with the tuned kernels, and low-precision
 * outputs that the dtype can hold.
 */
class LowPrecisionOpsTest {
    final CpuBackend be = new CpuBackend(2);
    final Random rnd = new Random(3);

    float[] randn(int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian() * scale;
        return a;
    }

    Buf buf(float[] a) { return be.wrap(a.clone()); }

    float[] get(Buf b) { return HeapBuf.of(b).clone(); }

    @Test
    void roundsToNearestEvenLikeTorchCasts() {
        assertEquals(55.5f, Precision.BF16.round((float) Math.sqrt(3072)), "Gemma's normalizer in bf16");
        assertEquals(1.0f, Precision.BF16.round(1.00390625f), "a tie goes to the even neighbour");
        assertEquals(1.015625f, Precision.BF16.round(1.01171875f), "a tie goes to the even neighbour");
        assertEquals(1.0f, Precision.FP16.round(1 + 0x1p-11f));
        assertEquals(Float.POSITIVE_INFINITY, Precision.FP16.round(65520f), "past fp16's largest finite value");
        assertEquals(65504f, Precision.FP16.round(65519f));
        assertTrue(Float.isNaN(Precision.BF16.round(Float.NaN)));
        assertEquals(8192f, Precision.BF16.round(8190f), "positions past 256 merge in bf16");
        assertEquals(0.1f, Precision.FP32.round(0.1f));
        assertEquals(Precision.BF16, Precision.of("bfloat16"));
        assertEquals(Precision.FP16, Precision.of("float16"));
    }

    /** With fp32 everywhere the low-precision forms compute what the tuned kernels compute (up to fp32 summation order). */
    @Test
    void fp32SettingsAgreeWithTheDefaultKernels() {
        int rows = 5, n = 48, heads = 4, kvHeads = 2, hd = 12;
        Numerics nx = Numerics.FP32;
        float[] x = randn(rows * n, 2f), w = randn(n, 0.3f), b = randn(n, 0.1f);
        for (boolean onePlus : new boolean[] {false, true}) {
            for (Numerics.NormUpcast u : Numerics.NormUpcast.values()) {
                Buf want = be.alloc(rows * n), got = be.alloc(rows * n);
                be.rmsNorm(buf(x), want, rows, n, buf(w), 1e-6f, onePlus, null);
                be.rmsNormRounded(buf(x), got, rows, n, buf(w), 1e-6f, onePlus, nx.withNormUpcast(u));
                assertClose(get(want), get(got), 1e-6, "rmsNorm " + u);
            }
            Buf want = be.alloc(rows * n), got = be.alloc(rows * n);
            be.layerNorm(buf(x), want, rows, n, buf(w), buf(b), 1e-5f, onePlus, null, null);
            be.layerNormRounded(buf(x), got, rows, n, buf(w), buf(b), 1e-5f, onePlus, nx);
            assertClose(get(want), get(got), 1e-6, "layerNorm");
        }
        float[] cos = randn(rows * hd / 2, 1f), sin = randn(rows * hd / 2, 1f), q = randn(rows * heads * hd, 1f);
        for (boolean inter : new boolean[] {false, true}) {
            Buf want = buf(q), got = buf(q);
            be.rope(want, rows, heads, hd, hd, buf(cos), buf(sin), inter, false);
            be.ropeRounded(got, rows, heads, hd, hd, buf(cos), buf(sin), inter, nx);
            assertClose(get(want), get(got), 1e-6, "rope");
        }
        float[] k = randn(rows * kvHeads * hd, 1f), v = randn(rows * kvHeads * hd, 1f);
        int[] pos = {0, 1, 2, 3, 4};
        for (AttentionMask mask : new AttentionMask[] {AttentionMask.CAUSAL, AttentionMask.sliding(2)})
            for (float cap : new float[] {0f, 3f}) {
                Buf want = be.alloc(rows * heads * hd), got = be.alloc(rows * heads * hd);
                be.attention(buf(q), rows, pos, null, buf(k), buf(v), heads, kvHeads, hd, 0.3f, cap, mask, want, null);
                be.attentionRounded(buf(q), rows, pos, null, buf(k), buf(v), heads, kvHeads, hd, 0.3f, cap, mask, got, nx);
                assertClose(get(want), get(got), 1e-6, "attention " + mask + " cap " + cap);
            }
        float[] g = randn(64, 2f), up = randn(64, 1f);
        for (Activation act : Activation.values()) {
            Buf want = be.alloc(64), got = be.alloc(64);
            be.gated(act, buf(g), buf(up), want, 64);
            be.gatedRounded(act, buf(g), buf(up), got, 64, nx);
            assertClose(get(want), get(got), 1e-6, "gated " + act);
        }
        Buf want = buf(g), got = buf(g);
        be.softcap(want, 64, 1.5f);
        be.softcapRounded(got, 64, 1.5f, nx);
        assertClose(get(want), get(got), 1e-6, "softcap");
    }

    /** In bf16 every output is a bf16 value, and norms with the weight after the rounding differ from norms with it before. */
    @Test
    void bf16OutputsAreBf16Values() {
        Numerics bf = Numerics.FP32.withActivations(Precision.BF16);
        int rows = 4, n = 32;
        float[] x = randn(rows * n, 1f), w = randn(n, 0.1f);
        Precision.BF16.round(x);
        Precision.BF16.round(w);
        Buf before = be.alloc(rows * n), after = be.alloc(rows * n);
        be.rmsNormRounded(buf(x), before, rows, n, buf(w), 1e-6f, true, bf.withNormUpcast(Numerics.NormUpcast.BEFORE_WEIGHT));
        be.rmsNormRounded(buf(x), after, rows, n, buf(w), 1e-6f, true, bf.withNormUpcast(Numerics.NormUpcast.AFTER_WEIGHT));
        assertBf16(get(before));
        assertBf16(get(after));
        int differ = 0;
        for (int i = 0; i < rows * n; i++) if (get(before)[i] != get(after)[i]) differ++;
        assertTrue(differ > rows * n / 10, "(1+w) rounded to bf16 changes many outputs: " + differ);
        int heads = 2, hd = 8;
        float[] q = randn(rows * heads * hd, 1f);
        Precision.BF16.round(q);
        Buf out = be.alloc(rows * heads * hd);
        be.attentionRounded(buf(q), rows, new int[] {0, 1, 2, 3}, null, buf(q), buf(q), heads, heads, hd, 0.35f, 0f, AttentionMask.CAUSAL, out,
                bf.withSoftmax(Precision.BF16));
        assertBf16(get(out));
        Buf r = buf(q);
        be.round(r, 0, q.length, Precision.BF16);
        assertEquals(java.util.Arrays.toString(q), java.util.Arrays.toString(get(r)), "rounding a bf16 value keeps it");
    }

    static void assertBf16(float[] a) {
        for (float f : a) assertEquals(f, Precision.BF16.round(f), "not a bf16 value: " + f);
    }

    static void assertClose(float[] want, float[] got, double tol, String what) {
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            num += (double) (want[i] - got[i]) * (want[i] - got[i]);
            den += (double) want[i] * want[i];
        }
        double rel = Math.sqrt(num / Math.max(den, 1e-30));
        assertTrue(rel <= tol, what + ": relative error " + rel);
    }
}

package jllm.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * fp32 → ggml blocks, following llama.cpp's reference quantizers' rounding rules (written from the
 * format, not copied):
 * <ul>
 * <li>Q8_0: {@code d = max|x| / 127}, {@code q = round(x / d)} (round half away from zero).
 * <li>Q4_0 / Q5_0: {@code d = v / -8} (resp. {@code -16}) where {@code v} is the value of largest
 *     magnitude, {@code q = min(15, trunc(x / d + 8.5))} (resp. 31, 16.5): the extreme value lands
 *     exactly on code 0.
 * <li>Q4_1 / Q5_1: {@code d = (max - min) / 15} (resp. 31), {@code m = min}, {@code q = trunc((x - m) / d + 0.5)}.
 * <li>Q4_K / Q5_K: per 32-value sub-block, an asymmetric scale and min found by a small search in
 *     the spirit of ggml's {@code make_qkx2_quants}: 21 candidate inverse scales
 *     {@code (nmax - 1 + 0.1 i) / (max - min)}, each followed by the weighted least-squares (scale, min)
 *     for the codes it produced, with importance {@code sqrt(mean x^2) + |x|}; the best by weighted
 *     squared error wins. Scales and mins are then quantized to 6 bits under fp16 super-scales and
 *     the values re-coded against the quantized scales.
 * <li>Q6_K: per 16-value sub-block a symmetric scale searched like ggml's {@code make_qx_quants}
 *     (19 candidate inverse scales around {@code -32 / v}, weights {@code x^2}, keeping the one with the
 *     best least-squares fit), 8-bit sub-scales under an fp16 super-scale, values re-coded.
 * </ul>
 */
public final class Quantizer {
    private Quantizer() {}

    /** Quantizes {@code data} (row-major, {@code shape} in HF order) into a fresh off-heap tensor. */
    public static Tensor quantize(GgmlType type, float[] data, long... shape) {
        if (Shapes.numel(shape) != data.length)
            throw new IllegalArgumentException(data.length + " values do not fill shape " + Shapes.str(shape));
        MemorySegment seg = Arena.ofAuto().allocate(Math.max(1, type.bytes(shape)), 64).asSlice(0, type.bytes(shape));
        long cols = shape.length == 0 ? 1 : shape[shape.length - 1];
        for (long r = 0; r * cols < data.length; r++)
            quantizeInto(type, data, (int) (r * cols), (int) cols, seg, r * type.rowBytes(cols));
        return Tensors.of(type, seg, shape);
    }

    /** Writes {@code n} values (a whole number of blocks) of {@code src[off..]} as {@code type} at {@code dst[dstOff..]}. */
    public static void quantizeInto(GgmlType type, float[] src, int off, int n, MemorySegment dst, long dstOff) {
        if (type.encoder == null) throw new IllegalArgumentException("no quantizer for " + type);
        byte[] out = new byte[Math.toIntExact(type.rowBytes(n))];
        int bs = type.blockSize, bb = type.blockBytes;
        for (int b = 0; b < n / bs; b++) type.encoder.encode(src, off + b * bs, out, b * bb);
        MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, dstOff, out.length);
    }

    /** C's {@code roundf}: half away from zero (Math.round rounds half up, which differs for negative ties). */
    static int roundf(float v) {
        float r = (float) Math.rint(v);
        // rint breaks ties to even; at an exact tie v ± 0.5 is an integer, and the one away from zero is wanted
        if (Math.abs(v - r) == 0.5f) r = v + Math.copySign(0.5f, v);
        return (int) r;
    }

    private static void putShort(byte[] b, int o, short v) { b[o] = (byte) v; b[o + 1] = (byte) (v >> 8); }

    private static void putFloat(byte[] b, int o, float f) {
        int v = Float.floatToRawIntBits(f);
        for (int i = 0; i < 4; i++) b[o + i] = (byte) (v >> (8 * i));
    }

    // One encoder per type, with the shape GgmlType.Encoder takes (the registry points at them).
    static void f32(float[] x, int s, byte[] out, int o) { putFloat(out, o, x[s]); }

    static void f16(float[] x, int s, byte[] out, int o) { putShort(out, o, Float.floatToFloat16(x[s])); }

    static void bf16(float[] x, int s, byte[] out, int o) { putShort(out, o, BF16Tensor.fromFloat(x[s])); }

    static void q4_0(float[] x, int s, byte[] out, int o) { qSym(x, s, out, o, false); }

    static void q5_0(float[] x, int s, byte[] out, int o) { qSym(x, s, out, o, true); }

    static void q4_1(float[] x, int s, byte[] out, int o) { qAsym(x, s, out, o, false); }

    static void q5_1(float[] x, int s, byte[] out, int o) { qAsym(x, s, out, o, true); }

    static void q4_K(float[] x, int s, byte[] out, int o) { qK(x, s, out, o, false); }

    static void q5_K(float[] x, int s, byte[] out, int o) { qK(x, s, out, o, true); }

    static void q6_K(float[] x, int s, byte[] out, int o) { q6K(x, s, out, o); }

    private static float fp16(float f) { return Float.float16ToFloat(Float.floatToFloat16(f)); }

    static void q8_0(float[] x, int s, byte[] out, int o) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[s + j]));
        float d = amax / 127, id = d != 0 ? 1 / d : 0;
        putShort(out, o, Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) out[o + 2 + j] = (byte) roundf(x[s + j] * id);
    }

    private static void qSym(float[] x, int s, byte[] out, int o, boolean five) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[s + j];
            if (amax < Math.abs(v)) { amax = Math.abs(v); max = v; }
        }
        int half = five ? 16 : 8, top = 2 * half - 1;
        float d = max / -half, id = d != 0 ? 1 / d : 0;
        putShort(out, o, Float.floatToFloat16(d));
        int qh = 0, qs = five ? o + 6 : o + 2;
        for (int j = 0; j < 16; j++) {
            int a = Math.min(top, (int) (x[s + j] * id + half + 0.5f)), b = Math.min(top, (int) (x[s + j + 16] * id + half + 0.5f));
            out[qs + j] = (byte) ((a & 15) | (b & 15) << 4);
            qh |= (a >>> 4) << j | (b >>> 4) << (j + 16);
        }
        if (five) putFloat(out, o + 2, Float.intBitsToFloat(qh));
    }

    private static void qAsym(float[] x, int s, byte[] out, int o, boolean five) {
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) { min = Math.min(min, x[s + j]); max = Math.max(max, x[s + j]); }
        int top = five ? 31 : 15;
        float d = (max - min) / top, id = d != 0 ? 1 / d : 0;
        putShort(out, o, Float.floatToFloat16(d));
        putShort(out, o + 2, Float.floatToFloat16(min));
        int qh = 0, qs = five ? o + 8 : o + 4;
        for (int j = 0; j < 16; j++) {
            int a = Math.min(top, (int) ((x[s + j] - min) * id + 0.5f)), b = Math.min(top, (int) ((x[s + j + 16] - min) * id + 0.5f));
            out[qs + j] = (byte) ((a & 15) | (b & 15) << 4);
            qh |= (a >>> 4) << j | (b >>> 4) << (j + 16);
        }
        if (five) putFloat(out, o + 4, Float.intBitsToFloat(qh));
    }

    /**
     * Asymmetric fit {@code x ≈ scale * q - min} of {@code n} values to codes {@code 0..nmax};
     * returns {scale, min} (min ≥ 0, so zero is always representable) and leaves the codes in {@code L}.
     */
    static float[] fitAsym(float[] x, int s, float[] w, int n, int nmax, int[] L) {
        float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
        for (int i = 0; i < n; i++) { lo = Math.min(lo, x[s + i]); hi = Math.max(hi, x[s + i]); }
        if (lo > 0) lo = 0;
        if (hi <= lo) { java.util.Arrays.fill(L, 0, n, 0); return new float[] {0, -lo}; }
        float bestScale = 0, bestMin = lo, bestErr = Float.MAX_VALUE;
        int[] l = new int[n];
        // The candidates' sums of w and w x do not depend on the candidate: made once (the same sums in
        // the same order, so the same bits), and w q once per value; the search is most of a K-quant
        // file's quantize time.
        double sw = 0, sx = 0;
        for (int i = 0; i < n; i++) {
            double wi = w[i];
            sw += wi;
            sx += wi * x[s + i];
        }
        for (int step = 0; step <= 20; step++) {
            float iscale = (nmax - 1f + 0.1f * step) / (hi - lo);
            double sl = 0, sl2 = 0, sxl = 0;
            for (int i = 0; i < n; i++) {
                int q = Math.max(0, Math.min(nmax, roundf(iscale * (x[s + i] - lo))));
                l[i] = q;
                double wq = (double) w[i] * q;
                sl += wq; sl2 += wq * q; sxl += wq * x[s + i];
            }
            double det = sw * sl2 - sl * sl;
            if (det <= 0) continue;
            float scale = (float) ((sw * sxl - sx * sl) / det), mn = (float) ((sl2 * sx - sl * sxl) / det);
            if (mn > 0) { mn = 0; scale = (float) (sxl / sl2); }
            float err = 0;
            for (int i = 0; i < n; i++) { float e = scale * l[i] + mn - x[s + i]; err += w[i] * e * e; }
            if (err < bestErr) { bestErr = err; bestScale = scale; bestMin = mn; System.arraycopy(l, 0, L, 0, n); }
        }
        return new float[] {bestScale, -bestMin};
    }

    private static void qK(float[] x, int s, byte[] out, int o, boolean five) {
        int nmax = five ? 31 : 15;
        float[] scales = new float[8], mins = new float[8], w = new float[32];
        int[] L = new int[32];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++) {
            float ss = 0;
            for (int l = 0; l < 32; l++) ss += x[s + 32 * j + l] * x[s + 32 * j + l];
            float av = (float) Math.sqrt(ss / 32);
            for (int l = 0; l < 32; l++) w[l] = av + Math.abs(x[s + 32 * j + l]);
            float[] sm = fitAsym(x, s + 32 * j, w, 32, nmax, L);
            scales[j] = sm[0];
            mins[j] = sm[1];
            maxScale = Math.max(maxScale, scales[j]);
            maxMin = Math.max(maxMin, mins[j]);
        }
        float invScale = maxScale > 0 ? 63 / maxScale : 0, invMin = maxMin > 0 ? 63 / maxMin : 0;
        int[] ls = new int[8], lm = new int[8];
        for (int j = 0; j < 8; j++) {
            ls[j] = Math.min(63, roundf(invScale * scales[j]));
            lm[j] = Math.min(63, roundf(invMin * mins[j]));
        }
        putShort(out, o, Float.floatToFloat16(maxScale / 63));
        putShort(out, o + 2, Float.floatToFloat16(maxMin / 63));
        KQuant.pack(ls, lm, out, o + 4);
        float d = fp16(maxScale / 63), dmin = fp16(maxMin / 63);
        int[] q = new int[256];
        for (int j = 0; j < 8; j++) {
            float dj = d * ls[j], mj = dmin * lm[j];
            for (int l = 0; l < 32; l++)
                q[32 * j + l] = dj == 0 ? 0 : Math.max(0, Math.min(nmax, roundf((x[s + 32 * j + l] + mj) / dj)));
        }
        int qs = five ? o + 48 : o + 16;
        for (int i = 0; i < 4; i++)
            for (int l = 0; l < 32; l++) {
                int a = q[64 * i + l], b = q[64 * i + 32 + l];
                out[qs + 32 * i + l] = (byte) ((a & 15) | (b & 15) << 4);
                if (five) out[o + 16 + l] |= (byte) ((a >>> 4) << (2 * i) | (b >>> 4) << (2 * i + 1));
            }
    }

    /** Symmetric fit {@code x ≈ scale * q}, {@code q in [-nmax, nmax - 1]}, weights {@code x^2}; returns scale. */
    static float fitSym(float[] x, int s, int n, int nmax) {
        float amax = 0, max = 0;
        for (int i = 0; i < n; i++) {
            float v = x[s + i];
            if (amax < Math.abs(v)) { amax = Math.abs(v); max = v; }
        }
        if (amax == 0) return 0;
        float best = 0, bestScale = 0;
        for (int step = -9; step <= 9; step++) {
            float iscale = -(nmax + 0.1f * step) / max;
            double slx = 0, sl2 = 0;
            for (int i = 0; i < n; i++) {
                float v = x[s + i], w = v * v;
                int q = Math.max(-nmax, Math.min(nmax - 1, roundf(iscale * v)));
                slx += w * q * v;
                sl2 += w * q * q;
            }
            // With the least-squares scale slx / sl2 the weighted error drops by slx^2 / sl2: maximise that.
            if (sl2 > 0 && slx * slx / sl2 > best) { best = (float) (slx * slx / sl2); bestScale = (float) (slx / sl2); }
        }
        return bestScale;
    }

    private static void q6K(float[] x, int s, byte[] out, int o) {
        float[] scales = new float[16];
        float maxScale = 0, amaxScale = 0;
        for (int ib = 0; ib < 16; ib++) {
            scales[ib] = fitSym(x, s + 16 * ib, 16, 32);
            if (Math.abs(scales[ib]) > amaxScale) { amaxScale = Math.abs(scales[ib]); maxScale = scales[ib]; }
        }
        int[] L = new int[256];
        if (amaxScale == 0) {
            java.util.Arrays.fill(L, 32);
            putShort(out, o + 208, (short) 0);
        } else {
            float iscale = -128f / maxScale;
            putShort(out, o + 208, Float.floatToFloat16(1 / iscale));
            float d = fp16(1 / iscale);
            for (int ib = 0; ib < 16; ib++) {
                int sc = Math.min(127, roundf(iscale * scales[ib]));
                out[o + 192 + ib] = (byte) sc;
                float dib = d * sc;
                for (int l = 0; l < 16; l++)
                    L[16 * ib + l] = dib == 0 ? 32 : Math.max(-32, Math.min(31, roundf(x[s + 16 * ib + l] / dib))) + 32;
            }
        }
        for (int n = 0; n < 2; n++) {
            int ql = o + 64 * n, qh = o + 128 + 32 * n, j = 128 * n;
            for (int l = 0; l < 32; l++) {
                int a = L[j + l], b = L[j + l + 32], c = L[j + l + 64], e = L[j + l + 96];
                out[ql + l] = (byte) ((a & 15) | (c & 15) << 4);
                out[ql + l + 32] = (byte) ((b & 15) | (e & 15) << 4);
                out[qh + l] = (byte) ((a >>> 4) | (b >>> 4) << 2 | (c >>> 4) << 4 | (e >>> 4) << 6);
            }
        }
    }
}

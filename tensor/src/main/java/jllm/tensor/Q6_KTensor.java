package jllm.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Q6_K: 256 values per block, 4 low bits (ql) + 2 high bits (qh), 16 signed 8-bit scales, fp16 d last; {@code x = d sc (q - 32)}. */
public final class Q6_KTensor extends QuantTensor {
    public Q6_KTensor(MemorySegment seg, long... shape) { super(GgmlType.Q6_K, seg, shape); }

    @Override public DType dtype() { return DType.Q6_K; }

    @Override Q6_KTensor make(MemorySegment s, long[] shape) { return new Q6_KTensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off + 208);
        if (L == 16) {
            // One helper call per step (a loop body with several inlined copies ran past C2's budget).
            for (int r = 0; r < 8; r++) {
                int part = r >>> 2, k = r & 3;
                long sc = off + 192 + 8 * part + 2 * k;
                six32(off + 64 * part + 32 * (k & 1), off + 128 + 32 * part, k, d * sc(sc), d * sc(sc + 1), dst, o + 128 * part + 32 * k);
            }
            return;
        }
        for (int n = 0; n < 2; n++) {
            long ql = off + 64 * n, qh = off + 128 + 32 * n, sc = off + 192 + 8 * n;
            int y = o + 128 * n;
            for (int l = 0; l < 32; l++) {
                int is = l / 16, a = u8(ql + l), b = u8(ql + l + 32), h = u8(qh + l);
                dst[y + l] = d * sc(sc + is) * (((a & 15) | (h & 3) << 4) - 32);
                dst[y + l + 32] = d * sc(sc + is + 2) * (((b & 15) | ((h >>> 2) & 3) << 4) - 32);
                dst[y + l + 64] = d * sc(sc + is + 4) * (((a >>> 4) | ((h >>> 4) & 3) << 4) - 32);
                dst[y + l + 96] = d * sc(sc + is + 6) * (((b >>> 4) | ((h >>> 6) & 3) << 4) - 32);
            }
        }
    }

    private int sc(long off) { return seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, off); }

    /**
     * 32 six-bit values {@code (q - 32) * scale} into dst[y..]: quarter k of a 128-value half takes the
     * low (k = 0, 1) or high (k = 2, 3) nibbles at {@code ql} and bits 2k, 2k+1 of the bytes at
     * {@code qh}; the two 16-value halves have their own scales.
     */
    private void six32(long ql, long qh, int k, float scale0, float scale1, float[] dst, int y) {
        int low = 4 * (k >>> 1);
        widen16(bits(bytes16(ql), low, 4, 0).or(bits(bytes16(qh), 2 * k, 2, 4)).sub((byte) 32)).mul(scale0).intoArray(dst, y);
        widen16(bits(bytes16(ql + 16), low, 4, 0).or(bits(bytes16(qh + 16), 2 * k, 2, 4)).sub((byte) 32)).mul(scale1).intoArray(dst, y + 16);
    }

    /** Fused dot, one 16-value group (one scale) per iteration of a flat loop; see {@link Q4_KTensor#dotBlocks}. */
    @Override
    float dotBlocks(long blk, int nb, float[] x, int xOff) {
        if (L != 16) return super.dotBlocks(blk, nb, x, xOff);
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        long base = blk * 210;
        for (int p = 0, n = nb * 8; p < n; p++) {
            int r = p & 7, part = r >>> 2, k = r & 3;
            long off = base + (long) (p >>> 3) * 210, ql = off + 64 * part + 32 * (k & 1), qh = off + 128 + 32 * part;
            long sc = off + 192 + 8 * part + 2 * k;
            int lowShift = 4 * (k >>> 1), xo = xOff + 32 * p;
            float d = half(off + 208);
            ByteVector q0 = bits(bytes16(ql), lowShift, 4, 0).or(bits(bytes16(qh), 2 * k, 2, 4)).sub((byte) 32);
            ByteVector q1 = bits(bytes16(ql + 16), lowShift, 4, 0).or(bits(bytes16(qh + 16), 2 * k, 2, 4)).sub((byte) 32);
            a0 = widen16(q0).mul(FloatVector.fromArray(F, x, xo)).fma(FloatVector.broadcast(F, d * sc(sc)), a0);
            a1 = widen16(q1).mul(FloatVector.fromArray(F, x, xo + 16)).fma(FloatVector.broadcast(F, d * sc(sc + 1)), a1);
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    /** Row dots (prefill goes through the panel GEMM). See {@link QuantTensor} for why the loop is here. */
    @Override
    public void matmulRows(float[] x, int tokens, float[] y, int r0, int r1, float[] bias) {
        int in = dim(1), out = dim(0), nb = in / bs;
        for (int r = r0; r < r1; r++)
            for (int t = 0; t < tokens; t++) y[t * out + r] = dotBlocks((long) r * nb, nb, x, t * in) + (bias == null ? 0f : bias[r]);
    }
}

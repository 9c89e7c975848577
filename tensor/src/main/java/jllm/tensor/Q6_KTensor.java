package jllm.tensor;

import java.lang.foreign.MemorySegment;

/** Q6_K: 256 values per block, 4 low bits (ql) + 2 high bits (qh), 16 signed 8-bit scales, fp16 d last; {@code x = d sc (q - 32)}. */
public final class Q6_KTensor extends QuantTensor {
    public Q6_KTensor(MemorySegment seg, long... shape) { super(GgmlType.Q6_K, seg, shape); }

    @Override public DType dtype() { return DType.Q6_K; }

    @Override Q6_KTensor make(MemorySegment s, long[] shape) { return new Q6_KTensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off + 208);
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
}

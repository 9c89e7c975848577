package jllm.tensor;

import java.lang.foreign.MemorySegment;

/** Q5_K: Q4_K plus a fifth bit per value (32 bytes qh: bit 2i / 2i+1 of byte l for the two halves of chunk i). */
public final class Q5_KTensor extends QuantTensor {
    public Q5_KTensor(MemorySegment seg, long... shape) { super(GgmlType.Q5_K, seg, shape); }

    @Override public DType dtype() { return DType.Q5_K; }

    @Override Q5_KTensor make(MemorySegment s, long[] shape) { return new Q5_KTensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off), dmin = half(off + 2);
        for (int i = 0; i < 4; i++) {
            float d1 = d * KQuant.scale(seg, off + 4, 2 * i), m1 = dmin * KQuant.min(seg, off + 4, 2 * i);
            float d2 = d * KQuant.scale(seg, off + 4, 2 * i + 1), m2 = dmin * KQuant.min(seg, off + 4, 2 * i + 1);
            for (int l = 0; l < 32; l++) {
                int q = u8(off + 48 + 32 * i + l), h = u8(off + 16 + l);
                dst[o + 64 * i + l] = d1 * ((q & 15) | ((h >>> (2 * i)) & 1) << 4) - m1;
                dst[o + 64 * i + 32 + l] = d2 * ((q >>> 4) | ((h >>> (2 * i + 1)) & 1) << 4) - m2;
            }
        }
    }
}

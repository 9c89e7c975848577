package jllm.tensor;

import java.lang.foreign.MemorySegment;

/** Q4_K: 256 values per block in 8 sub-blocks of 32 with 6-bit scales and mins under fp16 super-scales; {@code x = d sc q - dmin m}. */
public final class Q4_KTensor extends QuantTensor {
    public Q4_KTensor(MemorySegment seg, long... shape) { super(GgmlType.Q4_K, seg, shape); }

    @Override public DType dtype() { return DType.Q4_K; }

    @Override Q4_KTensor make(MemorySegment s, long[] shape) { return new Q4_KTensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off), dmin = half(off + 2);
        for (int i = 0; i < 4; i++) {
            float d1 = d * KQuant.scale(seg, off + 4, 2 * i), m1 = dmin * KQuant.min(seg, off + 4, 2 * i);
            float d2 = d * KQuant.scale(seg, off + 4, 2 * i + 1), m2 = dmin * KQuant.min(seg, off + 4, 2 * i + 1);
            for (int l = 0; l < 32; l++) {
                int q = u8(off + 16 + 32 * i + l);
                dst[o + 64 * i + l] = d1 * (q & 15) - m1;
                dst[o + 64 * i + 32 + l] = d2 * (q >>> 4) - m2;
            }
        }
    }
}

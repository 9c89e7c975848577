package jllm.tensor;

import java.lang.foreign.MemorySegment;

/** Q4_1: 32 values per block, fp16 scale and min, nibbles as Q4_0; {@code x = q d + m}. */
public final class Q4_1Tensor extends QuantTensor {
    public Q4_1Tensor(MemorySegment seg, long... shape) { super(GgmlType.Q4_1, seg, shape); }

    @Override public DType dtype() { return DType.Q4_1; }

    @Override Q4_1Tensor make(MemorySegment s, long[] shape) { return new Q4_1Tensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off), m = half(off + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(off + 4 + j);
            dst[o + j] = (q & 15) * d + m;
            dst[o + j + 16] = (q >>> 4) * d + m;
        }
    }
}

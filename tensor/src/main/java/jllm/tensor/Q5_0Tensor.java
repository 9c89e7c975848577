package jllm.tensor;

import java.lang.foreign.MemorySegment;

/** Q5_0: 32 values per block, fp16 scale, 32 high bits (bit j = 5th bit of value j), nibbles; {@code x = (q - 16) d}. */
public final class Q5_0Tensor extends QuantTensor {
    public Q5_0Tensor(MemorySegment seg, long... shape) { super(GgmlType.Q5_0, seg, shape); }

    @Override public DType dtype() { return DType.Q5_0; }

    @Override Q5_0Tensor make(MemorySegment s, long[] shape) { return new Q5_0Tensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off);
        int qh = seg.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE), off + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(off + 6 + j);
            dst[o + j] = (((q & 15) | ((qh >>> j) & 1) << 4) - 16) * d;
            dst[o + j + 16] = (((q >>> 4) | ((qh >>> (j + 16)) & 1) << 4) - 16) * d;
        }
    }
}

package jllm.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;


/** Q5_1: 32 values per block, fp16 scale and min, high bits and nibbles as Q5_0; {@code x = q d + m}. */
public final class Q5_1Tensor extends QuantTensor {
    public Q5_1Tensor(MemorySegment seg, long... shape) { super(GgmlType.Q5_1, seg, shape); }

    private static final int[] SCALES_AT = {0, 2};

    @Override int[] scaleOffsets() { return SCALES_AT; }

    @Override public DType dtype() { return DType.Q5_1; }

    @Override Q5_1Tensor make(MemorySegment s, long[] shape) { return new Q5_1Tensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off), m = half(off + 2);
        if (L == 16) {
            ByteVector qh = bytes16(off + 4), v = bytes16(off + 8);
            widen16(v.and((byte) 15).or(fifthBitsLow(qh))).mul(d).add(m).intoArray(dst, o);
            widen16(shr(v, 4).or(fifthBitsHigh(qh))).mul(d).add(m).intoArray(dst, o + 16);
            return;
        }
        int qh = seg.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE), off + 4);
        for (int j = 0; j < 16; j++) {
            int q = u8(off + 8 + j);
            dst[o + j] = ((q & 15) | ((qh >>> j) & 1) << 4) * d + m;
            dst[o + j + 16] = ((q >>> 4) | ((qh >>> (j + 16)) & 1) << 4) * d + m;
        }
    }

    @Override
    float dotBlocks(long blk, int nb, float[] x, int xOff) {
        return L == 16 ? scaleMinDot(blk, nb, x, xOff, 8, 4) : super.dotBlocks(blk, nb, x, xOff);
    }

    /** Row dots (prefill goes through the panel GEMM). See {@link QuantTensor} for why the loop is here. */
    @Override
    public void matmulRows(float[] x, int tokens, float[] y, int r0, int r1, float[] bias) {
        int in = dim(1), out = dim(0), nb = in / bs;
        for (int r = r0; r < r1; r++)
            for (int t = 0; t < tokens; t++) y[t * out + r] = dotBlocks((long) r * nb, nb, x, t * in) + (bias == null ? 0f : bias[r]);
    }
}

package jllm.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;


/** Q5_0: 32 values per block, fp16 scale, 32 high bits (bit j = 5th bit of value j), nibbles; {@code x = (q - 16) d}. */
public final class Q5_0Tensor extends QuantTensor {
    public Q5_0Tensor(MemorySegment seg, long... shape) { super(GgmlType.Q5_0, seg, shape); }

    private static final int[] SCALES_AT = {0};

    @Override int[] scaleOffsets() { return SCALES_AT; }

    @Override public DType dtype() { return DType.Q5_0; }

    @Override Q5_0Tensor make(MemorySegment s, long[] shape) { return new Q5_0Tensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off);
        if (L == 16) {
            ByteVector qh = bytes16(off + 2), v = bytes16(off + 6);
            widen16(v.and((byte) 15).or(fifthBitsLow(qh)).sub((byte) 16)).mul(d).intoArray(dst, o);
            widen16(shr(v, 4).or(fifthBitsHigh(qh)).sub((byte) 16)).mul(d).intoArray(dst, o + 16);
            return;
        }
        int qh = seg.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE), off + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(off + 6 + j);
            dst[o + j] = (((q & 15) | ((qh >>> j) & 1) << 4) - 16) * d;
            dst[o + j + 16] = (((q >>> 4) | ((qh >>> (j + 16)) & 1) << 4) - 16) * d;
        }
    }

    @Override
    float dotBlocks(long blk, int nb, float[] x, int xOff) {
        if (L != 16) return super.dotBlocks(blk, nb, x, xOff);
        FloatVector acc = FloatVector.zero(F);
        long o = blk * 22;
        for (int b = 0; b < nb; b++, o += 22) {
            int xo = xOff + b * 32;
            ByteVector qh = bytes16(o + 2), v = bytes16(o + 6);
            FloatVector s = widen16(v.and((byte) 15).or(fifthBitsLow(qh)).sub((byte) 16)).mul(FloatVector.fromArray(F, x, xo));
            s = widen16(shr(v, 4).or(fifthBitsHigh(qh)).sub((byte) 16)).fma(FloatVector.fromArray(F, x, xo + 16), s);
            acc = s.fma(FloatVector.broadcast(F, half(o)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Row dots (prefill goes through the panel GEMM). See {@link QuantTensor} for why the loop is here. */
    @Override
    public void matmulRows(float[] x, int tokens, float[] y, int r0, int r1, float[] bias) {
        int in = dim(1), out = dim(0), nb = in / bs;
        for (int r = r0; r < r1; r++)
            for (int t = 0; t < tokens; t++) y[t * out + r] = dotBlocks((long) r * nb, nb, x, t * in) + (bias == null ? 0f : bias[r]);
    }
}

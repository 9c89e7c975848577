package jllm.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;

/** Q4_K: 256 values per block in 8 sub-blocks of 32 with 6-bit scales and mins under fp16 super-scales; {@code x = d sc q - dmin m}. */
public final class Q4_KTensor extends QuantTensor {
    public Q4_KTensor(MemorySegment seg, long... shape) { super(GgmlType.Q4_K, seg, shape); }

    @Override public DType dtype() { return DType.Q4_K; }

    @Override Q4_KTensor make(MemorySegment s, long[] shape) { return new Q4_KTensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        if (L == 16) {
            kDecodeBlock(off, dst, o, 16, -1);
            return;
        }
        float d = half(off), dmin = half(off + 2);
        long lo = KQuant.low8(seg, off + 4);
        int hi = KQuant.high4(seg, off + 4);
        for (int i = 0; i < 4; i++) {
            float d1 = d * KQuant.scale(lo, hi, 2 * i), m1 = dmin * KQuant.min(lo, hi, 2 * i);
            float d2 = d * KQuant.scale(lo, hi, 2 * i + 1), m2 = dmin * KQuant.min(lo, hi, 2 * i + 1);
            for (int l = 0; l < 32; l++) {
                int q = u8(off + 16 + 32 * i + l);
                dst[o + 64 * i + l] = d1 * (q & 15) - m1;
                dst[o + 64 * i + 32 + l] = d2 * (q >>> 4) - m2;
            }
        }
    }


    /**
     * Fused dot, one 32-value sub-block per iteration of a single flat loop (bodies with a whole
     * 64- or 256-value step exceeded C2's inlining node budget and lost the intrinsics).
     */
    @Override
    float dotBlocks(long blk, int nb, float[] x, int xOff) {
        return L == 16 ? kQuantDot(blk, nb, x, xOff, 16, -1) : super.dotBlocks(blk, nb, x, xOff);
    }

    /** Row dots (prefill goes through the panel GEMM). See {@link QuantTensor} for why the loop is here. */
    @Override
    public void matmulRows(float[] x, int tokens, float[] y, int r0, int r1, float[] bias) {
        int in = dim(1), out = dim(0), nb = in / bs;
        for (int r = r0; r < r1; r++)
            for (int t = 0; t < tokens; t++) y[t * out + r] = dotBlocks((long) r * nb, nb, x, t * in) + (bias == null ? 0f : bias[r]);
    }
}

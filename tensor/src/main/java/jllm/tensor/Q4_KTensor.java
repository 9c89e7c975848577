package jllm.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

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

    /**
     * Per sub-block of 32: {@code d sc sum(q x) - dmin m sum(x)}. Written as one straight-line helper
     * per 64 values called four times: with nested loops carrying the accumulator, C2 failed to keep
     * the vectors in registers and allocated them.
     */
    @Override
    float dotBlocks(long blk, int nb, float[] x, int xOff) {
        if (L != 16) return super.dotBlocks(blk, nb, x, xOff);
        FloatVector acc = FloatVector.zero(F);
        long off = blk * 144;
        for (int b = 0; b < nb; b++, off += 144) {
            float d = half(off), dmin = half(off + 2);
            int xb = xOff + b * 256;
            acc = chunk(off, 0, d, dmin, x, xb, acc);
            acc = chunk(off, 1, d, dmin, x, xb + 64, acc);
            acc = chunk(off, 2, d, dmin, x, xb + 128, acc);
            acc = chunk(off, 3, d, dmin, x, xb + 192, acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private FloatVector chunk(long off, int i, float d, float dmin, float[] x, int xo, FloatVector acc) {
        ByteVector v0 = bytes16(off + 16 + 32 * i), v1 = bytes16(off + 32 + 32 * i);
        FloatVector xa = FloatVector.fromArray(F, x, xo), xb = FloatVector.fromArray(F, x, xo + 16);
        FloatVector xc = FloatVector.fromArray(F, x, xo + 32), xd = FloatVector.fromArray(F, x, xo + 48);
        FloatVector lo = widen16(v1.and((byte) 15)).fma(xb, widen16(v0.and((byte) 15)).mul(xa));
        FloatVector hi = widen16(shr(v1, 4)).fma(xd, widen16(shr(v0, 4)).mul(xc));
        acc = lo.fma(FloatVector.broadcast(F, d * KQuant.scale(seg, off + 4, 2 * i)), acc);
        acc = hi.fma(FloatVector.broadcast(F, d * KQuant.scale(seg, off + 4, 2 * i + 1)), acc);
        acc = xa.add(xb).fma(FloatVector.broadcast(F, -dmin * KQuant.min(seg, off + 4, 2 * i)), acc);
        return xc.add(xd).fma(FloatVector.broadcast(F, -dmin * KQuant.min(seg, off + 4, 2 * i + 1)), acc);
    }
}

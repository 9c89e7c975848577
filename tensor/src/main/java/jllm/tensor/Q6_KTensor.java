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
     * Vector form of {@link #decodeBlock}: 16 values share a scale, so each 16-byte load is one scaled
     * FMA. Straight-line helper per 64 values, called four times (see {@link Q4_KTensor#dotBlocks}).
     */
    @Override
    float dotBlocks(long blk, int nb, float[] x, int xOff) {
        if (L != 16) return super.dotBlocks(blk, nb, x, xOff);
        FloatVector acc = FloatVector.zero(F);
        long off = blk * 210;
        for (int b = 0; b < nb; b++, off += 210) {
            float d = half(off + 208);
            int xo = xOff + b * 256;
            acc = group(off, 0, 0, d, x, xo, acc);
            acc = group(off, 0, 1, d, x, xo, acc);
            acc = group(off, 1, 0, d, x, xo + 128, acc);
            acc = group(off, 1, 1, d, x, xo + 128, acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    private FloatVector group(long off, int n, int c, float d, float[] x, int xo, FloatVector acc) {
        long ql = off + 64 * n, qh = off + 128 + 32 * n, sc = off + 192 + 8 * n;
        ByteVector a = bytes16(ql + 16 * c), bb = bytes16(ql + 32 + 16 * c), h = bytes16(qh + 16 * c);
        ByteVector q1 = a.and((byte) 15).or(shl(h, 4).and((byte) 0x30)).sub((byte) 32);
        ByteVector q2 = bb.and((byte) 15).or(shl(h, 2).and((byte) 0x30)).sub((byte) 32);
        ByteVector q3 = shr(a, 4).or(h.and((byte) 0x30)).sub((byte) 32);
        ByteVector q4 = shr(bb, 4).or(shr(h, 2).and((byte) 0x30)).sub((byte) 32);
        int xc = xo + 16 * c;
        acc = widen16(q1).mul(FloatVector.fromArray(F, x, xc)).fma(FloatVector.broadcast(F, d * sc(sc + c)), acc);
        acc = widen16(q2).mul(FloatVector.fromArray(F, x, xc + 32)).fma(FloatVector.broadcast(F, d * sc(sc + c + 2)), acc);
        acc = widen16(q3).mul(FloatVector.fromArray(F, x, xc + 64)).fma(FloatVector.broadcast(F, d * sc(sc + c + 4)), acc);
        return widen16(q4).mul(FloatVector.fromArray(F, x, xc + 96)).fma(FloatVector.broadcast(F, d * sc(sc + c + 6)), acc);
    }

}

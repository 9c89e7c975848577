package jllm.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;


/** Q5_K: Q4_K plus a fifth bit per value (32 bytes qh: bit 2i / 2i+1 of byte l for the two halves of chunk i). */
public final class Q5_KTensor extends QuantTensor {
    public Q5_KTensor(MemorySegment seg, long... shape) { super(GgmlType.Q5_K, seg, shape); }

    @Override public DType dtype() { return DType.Q5_K; }

    @Override Q5_KTensor make(MemorySegment s, long[] shape) { return new Q5_KTensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off), dmin = half(off + 2);
        long lo = KQuant.low8(seg, off + 4);
        int hi = KQuant.high4(seg, off + 4);
        for (int i = 0; i < 4; i++) {
            float d1 = d * KQuant.scale(lo, hi, 2 * i), m1 = dmin * KQuant.min(lo, hi, 2 * i);
            float d2 = d * KQuant.scale(lo, hi, 2 * i + 1), m2 = dmin * KQuant.min(lo, hi, 2 * i + 1);
            if (L == 16) {
                int y = o + 64 * i;
                low16(off + 48 + 32 * i, off + 16, 2 * i, d1, m1, dst, y);
                low16(off + 64 + 32 * i, off + 32, 2 * i, d1, m1, dst, y + 16);
                high16(off + 48 + 32 * i, off + 16, 2 * i + 1, d2, m2, dst, y + 32);
                high16(off + 64 + 32 * i, off + 32, 2 * i + 1, d2, m2, dst, y + 48);
                continue;
            }
            for (int l = 0; l < 32; l++) {
                int q = u8(off + 48 + 32 * i + l), h = u8(off + 16 + l);
                dst[o + 64 * i + l] = d1 * ((q & 15) | ((h >>> (2 * i)) & 1) << 4) - m1;
                dst[o + 64 * i + 32 + l] = d2 * ((q >>> 4) | ((h >>> (2 * i + 1)) & 1) << 4) - m2;
            }
        }
    }


    /* 16 values from the low (high) nibbles at q with bit {@code bit} of the bytes at h as fifth bit,
       {@code * d - m} into dst[y..]; small helpers for the reason given at Q4_KTensor#nibbles16. */
    private void low16(long q, long h, int bit, float d, float m, float[] dst, int y) {
        ByteVector five = bytes16(q).and((byte) 15).or(shl(shr(bytes16(h), bit).and((byte) 1), 4));
        widen16(five).mul(d).sub(m).intoArray(dst, y);
    }

    private void high16(long q, long h, int bit, float d, float m, float[] dst, int y) {
        ByteVector five = shr(bytes16(q), 4).or(shl(shr(bytes16(h), bit).and((byte) 1), 4));
        widen16(five).mul(d).sub(m).intoArray(dst, y);
    }

    /** As {@link Q4_KTensor#dotBlocks}, the fifth bit of each value or-ed in from {@code qh}. */
    @Override
    float dotBlocks(long blk, int nb, float[] x, int xOff) {
        if (L != 16) return super.dotBlocks(blk, nb, x, xOff);
        FloatVector acc = FloatVector.zero(F), mins = acc;
        float[] sm = new float[16];
        long base = blk * 176;
        for (int p = 0, n = nb * 8; p < n; p++) {
            int j = p & 7;
            long off = base + (long) (p >>> 3) * 176, q = off + 48 + 32 * (j >>> 1);
            if (j == 0) KQuant.scalesAndMins(seg, off, sm);
            int shift = 4 * (j & 1), xo = xOff + 32 * p;
            FloatVector xa = FloatVector.fromArray(F, x, xo), xb = FloatVector.fromArray(F, x, xo + 16);
            ByteVector q0 = bits(bytes16(q), shift, 4, 0).or(bits(bytes16(off + 16), j, 1, 4));
            ByteVector q1 = bits(bytes16(q + 16), shift, 4, 0).or(bits(bytes16(off + 32), j, 1, 4));
            FloatVector s = widen16(q1).fma(xb, widen16(q0).mul(xa));
            acc = s.fma(FloatVector.broadcast(F, sm[j]), acc);
            mins = xa.add(xb).fma(FloatVector.broadcast(F, sm[8 + j]), mins);
        }
        return acc.sub(mins).reduceLanes(VectorOperators.ADD);
    }

    /** Row dots (prefill goes through the panel GEMM). See {@link QuantTensor#kernelPerClass} for why the loop is here. */
    @Override
    public void matmulRows(float[] x, int tokens, float[] y, int r0, int r1, float[] bias) {
        int in = dim(1), out = dim(0), nb = in / bs;
        for (int r = r0; r < r1; r++)
            for (int t = 0; t < tokens; t++) y[t * out + r] = dotBlocks((long) r * nb, nb, x, t * in) + (bias == null ? 0f : bias[r]);
    }
}

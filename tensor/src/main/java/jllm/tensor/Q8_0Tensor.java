package jllm.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Q8_0: blocks of 32 signed bytes with one fp16 scale, {@code x = q * d}. */
public final class Q8_0Tensor extends QuantTensor {
    static final int QK = 32, BB = 34;
    /** Output rows per cache block in prefill: their weights stay in L1/L2 while token groups stream past. */

    public Q8_0Tensor(MemorySegment seg, long... shape) { super(GgmlType.Q8_0, seg, shape); }

    @Override public DType dtype() { return DType.Q8_0; }

    @Override Q8_0Tensor make(MemorySegment s, long[] shape) { return new Q8_0Tensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off);
        if (L == 16) {
            bytesToFloats(off + 2).mul(d).intoArray(dst, o);
            bytesToFloats(off + 18).mul(d).intoArray(dst, o + 16);
            return;
        }
        for (int j = 0; j < QK; j++) dst[o + j] = seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, off + 2 + j) * d;
    }

    @Override
    float dotBlocks(long blk, int nb, float[] x, int xOff) {
        long o = blk * BB;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int b = 0;
        // Two blocks per step: two independent accumulator chains hide the FMA latency.
        for (; b + 1 < nb; b += 2, o += 2 * BB) {
            int xo = xOff + b * QK;
            // The first product initialises the block sum: starting from a zero vector costs a third more here.
            FloatVector s0 = bytesToFloats(o + 2).mul(FloatVector.fromArray(F, x, xo));
            FloatVector s1 = bytesToFloats(o + BB + 2).mul(FloatVector.fromArray(F, x, xo + QK));
            for (int j = L; j < QK; j += L) {
                s0 = bytesToFloats(o + 2 + j).fma(FloatVector.fromArray(F, x, xo + j), s0);
                s1 = bytesToFloats(o + BB + 2 + j).fma(FloatVector.fromArray(F, x, xo + QK + j), s1);
            }
            a0 = s0.fma(FloatVector.broadcast(F, half(o)), a0);
            a1 = s1.fma(FloatVector.broadcast(F, half(o + BB)), a1);
        }
        if (b < nb) {
            int xo = xOff + b * QK;
            FloatVector s0 = bytesToFloats(o + 2).mul(FloatVector.fromArray(F, x, xo));
            for (int j = L; j < QK; j += L) s0 = bytesToFloats(o + 2 + j).fma(FloatVector.fromArray(F, x, xo + j), s0);
            a0 = s0.fma(FloatVector.broadcast(F, half(o)), a0);
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void matmulRows(float[] x, int tokens, float[] y, int r0, int r1, float[] bias) {
        tiledMatmulRows(x, tokens, y, r0, r1, bias, QK);
    }

    /** Two rows against four tokens: each block is widened and scaled once, then used eight times. */
    @Override
    void tile2x4(float[] x, float[] y, int r, int t, int in, int out, int nb, float[] bias) {
        long rb = (long) nb * BB, o0 = r * rb, o1 = o0 + rb;
        int x0 = t * in, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in;
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        for (int b = 0; b < nb; b++, o0 += BB, o1 += BB) {
            float d0 = half(o0), d1 = half(o1);
            int xo = b * QK;
            for (int j = 0; j < QK; j += L) {
                FloatVector w0 = bytesToFloats(o0 + 2 + j).mul(d0), w1 = bytesToFloats(o1 + 2 + j).mul(d1);
                int k = xo + j;
                FloatVector v = FloatVector.fromArray(F, x, x0 + k);
                c00 = w0.fma(v, c00); c10 = w1.fma(v, c10);
                v = FloatVector.fromArray(F, x, x1 + k);
                c01 = w0.fma(v, c01); c11 = w1.fma(v, c11);
                v = FloatVector.fromArray(F, x, x2 + k);
                c02 = w0.fma(v, c02); c12 = w1.fma(v, c12);
                v = FloatVector.fromArray(F, x, x3 + k);
                c03 = w0.fma(v, c03); c13 = w1.fma(v, c13);
            }
        }
        float b0 = bias == null ? 0f : bias[r], b1 = bias == null ? 0f : bias[r + 1];
        y[t * out + r] = c00.reduceLanes(VectorOperators.ADD) + b0;
        y[(t + 1) * out + r] = c01.reduceLanes(VectorOperators.ADD) + b0;
        y[(t + 2) * out + r] = c02.reduceLanes(VectorOperators.ADD) + b0;
        y[(t + 3) * out + r] = c03.reduceLanes(VectorOperators.ADD) + b0;
        y[t * out + r + 1] = c10.reduceLanes(VectorOperators.ADD) + b1;
        y[(t + 1) * out + r + 1] = c11.reduceLanes(VectorOperators.ADD) + b1;
        y[(t + 2) * out + r + 1] = c12.reduceLanes(VectorOperators.ADD) + b1;
        y[(t + 3) * out + r + 1] = c13.reduceLanes(VectorOperators.ADD) + b1;
    }

    /**
     * Two rows against eight tokens (512-bit vectors only): each block is decoded and scaled once
     * into four registers and feeds 32 FMAs into 16 accumulators, so decoding costs an eighth of the math.
     */
    @Override
    void tile2x8(float[] x, float[] y, int r, int t, int in, int out, int nb, float[] bias) {
        long rb = (long) nb * BB, o0 = r * rb, o1 = o0 + rb;
        int x0 = t * in, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in, x4 = x3 + in, x5 = x4 + in, x6 = x5 + in, x7 = x6 + in;
        FloatVector z = FloatVector.zero(F), c00 = z, c01 = z, c02 = z, c03 = z, c04 = z, c05 = z, c06 = z, c07 = z, c10 = z, c11 = z, c12 = z, c13 = z, c14 = z, c15 = z, c16 = z, c17 = z;
        for (int b = 0; b < nb; b++, o0 += BB, o1 += BB) {
            FloatVector d0 = FloatVector.broadcast(F, half(o0)), d1 = FloatVector.broadcast(F, half(o1));
            FloatVector w0a = bytesToFloats(o0 + 2).mul(d0), w0b = bytesToFloats(o0 + 18).mul(d0);
            FloatVector w1a = bytesToFloats(o1 + 2).mul(d1), w1b = bytesToFloats(o1 + 18).mul(d1);
            int k = b * QK;
            FloatVector xa, xb;
                xa = FloatVector.fromArray(F, x, x0 + k); xb = FloatVector.fromArray(F, x, x0 + k + 16);
                c00 = w0b.fma(xb, w0a.fma(xa, c00)); c10 = w1b.fma(xb, w1a.fma(xa, c10));
                xa = FloatVector.fromArray(F, x, x1 + k); xb = FloatVector.fromArray(F, x, x1 + k + 16);
                c01 = w0b.fma(xb, w0a.fma(xa, c01)); c11 = w1b.fma(xb, w1a.fma(xa, c11));
                xa = FloatVector.fromArray(F, x, x2 + k); xb = FloatVector.fromArray(F, x, x2 + k + 16);
                c02 = w0b.fma(xb, w0a.fma(xa, c02)); c12 = w1b.fma(xb, w1a.fma(xa, c12));
                xa = FloatVector.fromArray(F, x, x3 + k); xb = FloatVector.fromArray(F, x, x3 + k + 16);
                c03 = w0b.fma(xb, w0a.fma(xa, c03)); c13 = w1b.fma(xb, w1a.fma(xa, c13));
                xa = FloatVector.fromArray(F, x, x4 + k); xb = FloatVector.fromArray(F, x, x4 + k + 16);
                c04 = w0b.fma(xb, w0a.fma(xa, c04)); c14 = w1b.fma(xb, w1a.fma(xa, c14));
                xa = FloatVector.fromArray(F, x, x5 + k); xb = FloatVector.fromArray(F, x, x5 + k + 16);
                c05 = w0b.fma(xb, w0a.fma(xa, c05)); c15 = w1b.fma(xb, w1a.fma(xa, c15));
                xa = FloatVector.fromArray(F, x, x6 + k); xb = FloatVector.fromArray(F, x, x6 + k + 16);
                c06 = w0b.fma(xb, w0a.fma(xa, c06)); c16 = w1b.fma(xb, w1a.fma(xa, c16));
                xa = FloatVector.fromArray(F, x, x7 + k); xb = FloatVector.fromArray(F, x, x7 + k + 16);
                c07 = w0b.fma(xb, w0a.fma(xa, c07)); c17 = w1b.fma(xb, w1a.fma(xa, c17));
        }
        float b0 = bias == null ? 0f : bias[r], b1 = bias == null ? 0f : bias[r + 1];
        y[(t + 0) * out + r] = c00.reduceLanes(VectorOperators.ADD) + b0;
        y[(t + 0) * out + r + 1] = c10.reduceLanes(VectorOperators.ADD) + b1;
        y[(t + 1) * out + r] = c01.reduceLanes(VectorOperators.ADD) + b0;
        y[(t + 1) * out + r + 1] = c11.reduceLanes(VectorOperators.ADD) + b1;
        y[(t + 2) * out + r] = c02.reduceLanes(VectorOperators.ADD) + b0;
        y[(t + 2) * out + r + 1] = c12.reduceLanes(VectorOperators.ADD) + b1;
        y[(t + 3) * out + r] = c03.reduceLanes(VectorOperators.ADD) + b0;
        y[(t + 3) * out + r + 1] = c13.reduceLanes(VectorOperators.ADD) + b1;
        y[(t + 4) * out + r] = c04.reduceLanes(VectorOperators.ADD) + b0;
        y[(t + 4) * out + r + 1] = c14.reduceLanes(VectorOperators.ADD) + b1;
        y[(t + 5) * out + r] = c05.reduceLanes(VectorOperators.ADD) + b0;
        y[(t + 5) * out + r + 1] = c15.reduceLanes(VectorOperators.ADD) + b1;
        y[(t + 6) * out + r] = c06.reduceLanes(VectorOperators.ADD) + b0;
        y[(t + 6) * out + r + 1] = c16.reduceLanes(VectorOperators.ADD) + b1;
        y[(t + 7) * out + r] = c07.reduceLanes(VectorOperators.ADD) + b0;
        y[(t + 7) * out + r + 1] = c17.reduceLanes(VectorOperators.ADD) + b1;
    }
}

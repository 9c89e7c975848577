package jllm.tensor;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/** Q4_0: 32 values per block, fp16 scale then 16 bytes of nibbles (low nibble = value j, high = j + 16); {@code x = (q - 8) d}. */
public final class Q4_0Tensor extends QuantTensor {
    static final int QK = 32, BB = 18;

    public Q4_0Tensor(MemorySegment seg, long... shape) { super(GgmlType.Q4_0, seg, shape); }

    @Override public DType dtype() { return DType.Q4_0; }

    @Override Q4_0Tensor make(MemorySegment s, long[] shape) { return new Q4_0Tensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off);
        if (L == 16) {
            ByteVector v = ByteVector.fromMemorySegment(B16, seg, off + 2, LE);
            widen(lowCodes(v), 0).mul(d).intoArray(dst, o);
            widen(highCodes(v), 0).mul(d).intoArray(dst, o + 16);
            return;
        }
        for (int j = 0; j < 16; j++) {
            int q = u8(off + 2 + j);
            dst[o + j] = ((q & 15) - 8) * d;
            dst[o + j + 16] = ((q >>> 4) - 8) * d;
        }
    }

    private static FloatVector lo(IntVector q) { return (FloatVector) q.and(15).sub(8).convert(VectorOperators.I2F, 0); }

    private static FloatVector hi(IntVector q) { return (FloatVector) q.lanewise(VectorOperators.ASHR, 4).and(15).sub(8).convert(VectorOperators.I2F, 0); }

    /**
     * The 32 codes of a block minus 8, as bytes: low nibbles (values 0..15) then high nibbles
     * (16..31). Nibble work happens on one 128-bit register; the high nibbles come from a 32-bit lane
     * shift (x86 has no byte shift), the mask dropping what crossed in from the neighbouring byte.
     */
    private static ByteVector lowCodes(ByteVector v) { return v.and((byte) 15).sub((byte) 8); }

    private static ByteVector highCodes(ByteVector v) {
        return v.reinterpretAsInts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 15).sub((byte) 8);
    }

    private static FloatVector widen(ByteVector v, int part) { return (FloatVector) v.convertShape(VectorOperators.B2F, F, part); }

    @Override
    float dotBlocks(long blk, int nb, float[] x, int xOff) {
        if (L != 16) return super.dotBlocks(blk, nb, x, xOff);
        long o = blk * BB;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int b = 0;
        for (; b + 1 < nb; b += 2, o += 2 * BB) {
            int xo = xOff + b * QK;
            ByteVector v0 = ByteVector.fromMemorySegment(B16, seg, o + 2, LE), v1 = ByteVector.fromMemorySegment(B16, seg, o + BB + 2, LE);
            FloatVector s0 = widen(lowCodes(v0), 0).mul(FloatVector.fromArray(F, x, xo));
            FloatVector s1 = widen(lowCodes(v1), 0).mul(FloatVector.fromArray(F, x, xo + QK));
            s0 = widen(highCodes(v0), 0).fma(FloatVector.fromArray(F, x, xo + 16), s0);
            s1 = widen(highCodes(v1), 0).fma(FloatVector.fromArray(F, x, xo + QK + 16), s1);
            a0 = s0.fma(FloatVector.broadcast(F, half(o)), a0);
            a1 = s1.fma(FloatVector.broadcast(F, half(o + BB)), a1);
        }
        if (b < nb) {
            int xo = xOff + b * QK;
            ByteVector v0 = ByteVector.fromMemorySegment(B16, seg, o + 2, LE);
            FloatVector s0 = widen(lowCodes(v0), 0).mul(FloatVector.fromArray(F, x, xo));
            s0 = widen(highCodes(v0), 0).fma(FloatVector.fromArray(F, x, xo + 16), s0);
            a0 = s0.fma(FloatVector.broadcast(F, half(o)), a0);
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void matmulRows(float[] x, int tokens, float[] y, int r0, int r1, float[] bias) {
        tiledMatmulRows(x, tokens, y, r0, r1, bias, QK);
    }

    @Override
    void tile2x4(float[] x, float[] y, int r, int t, int in, int out, int nb, float[] bias) {
        long rb = (long) nb * BB, o0 = r * rb, o1 = o0 + rb;
        int x0 = t * in, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in;
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        for (int b = 0; b < nb; b++, o0 += BB, o1 += BB) {
            float d0 = half(o0), d1 = half(o1);
            for (int h = 0; h < 2; h++) {
                for (int j = 0; j < 16; j += L) {
                    IntVector q0 = bytesToInts(o0 + 2 + j), q1 = bytesToInts(o1 + 2 + j);
                    FloatVector w0 = (h == 0 ? lo(q0) : hi(q0)).mul(d0), w1 = (h == 0 ? lo(q1) : hi(q1)).mul(d1);
                    int k = b * QK + h * 16 + j;
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
            ByteVector v0 = ByteVector.fromMemorySegment(B16, seg, o0 + 2, LE), v1 = ByteVector.fromMemorySegment(B16, seg, o1 + 2, LE);
            FloatVector w0a = widen(lowCodes(v0), 0).mul(d0), w0b = widen(highCodes(v0), 0).mul(d0);
            FloatVector w1a = widen(lowCodes(v1), 0).mul(d1), w1b = widen(highCodes(v1), 0).mul(d1);
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

package jllm.tensor;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.ZERO_EXTEND_B2S;
import static jllm.tensor.Panels.BP;
import static jllm.tensor.Panels.H;
import static jllm.tensor.Panels.I;
import static jllm.tensor.Panels.P;
import static jllm.tensor.Panels.S;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

/**
 * Q4_K: 256 values per block in 8 sub-blocks of 32 with 6-bit scales and mins under fp16 super-scales; {@code x = d sc q - dmin m}.
 *
 * <p>{@link Panels} layout, per panel and block ({@value #SBB} P bytes): {@code d} and {@code dmin}
 * (P fp16 each, lane order), then per sub-block j a 16-bit lane per row holding {@code sc_j | m_j << 8},
 * then 4 chunks of 32 groups of P bytes: group l of chunk c holds each row's byte {@code 32c + l} of the
 * nibbles (low nibble: column {@code 64c + l}, sub-block 2c; high nibble: column {@code 64c + 32 + l},
 * sub-block 2c + 1).
 *
 * <p>The kernels are split into methods that pass 16-bit sums and scales through per-thread arrays,
 * never vectors (see {@link Panels} for why).
 */
public final class Q4_KTensor extends QuantTensor {
    /** Panel bytes per block, in units of P. */
    private static final int SBB = 148;
    private static final int SCALES = 4 * P, CODES = 20 * P;

    public Q4_KTensor(MemorySegment seg, long... shape) { super(GgmlType.Q4_K, seg, shape); }

    private static final int[] SCALES_AT = {0, 2};

    @Override int[] scaleOffsets() { return SCALES_AT; }

    @Override public DType dtype() { return DType.Q4_K; }

    @Override Q4_KTensor make(MemorySegment s, long[] shape) { return new Q4_KTensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
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

    @Override boolean hasPanels() { return true; }

    @Override long panelBytes() { return (long) dim(1) / 256 * SBB * P; }

    @Override
    void repackPanel(byte[] src, byte[] dst) {
        int nb = dim(1) / 256, rb = nb * 144;
        for (int b = 0; b < nb; b++) {
            int o = b * SBB * P;
            for (int l = 0; l < P; l++) {
                int s = l * rb + b * 144;
                for (int i = 0; i < 2; i++) {
                    dst[o + 2 * l + i] = src[s + i];
                    dst[o + 2 * P + 2 * l + i] = src[s + 2 + i];
                }
                long lo = KQuant.low8(src, s + 4);
                int hi = KQuant.high4(src, s + 4);
                for (int j = 0; j < 8; j++) {
                    dst[o + SCALES + 2 * P * j + 2 * l] = (byte) KQuant.scale(lo, hi, j);
                    dst[o + SCALES + 2 * P * j + 2 * l + 1] = (byte) KQuant.min(lo, hi, j);
                }
                for (int q = 0; q < 128; q++) dst[o + CODES + q * P + l] = src[s + 16 + q];
            }
        }
    }

    @Override
    void int8Rows(MemorySegment pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        long panel = panelBytes();
        int nb = dim(1) / 256;
        Panels.Scratch sc = Panels.scratch();
        short[] sums = sc.sums(8 * P);
        float[] acc = sc.acc(P);
        for (int p = p0; p < p1; p++)
            for (int t = 0; t < a.tokens; t++) {
                java.util.Arrays.fill(acc, 0, P, 0f);
                long o = p * panel;
                for (int b = 0; b < nb; b++, o += (long) SBB * P) {
                    int xb = t * a.blocks + 8 * b, xq = t * a.cols + 256 * b;
                    for (int c = 0; c < 4; c++)
                        int8Chunk(pk, o + CODES + 32L * P * c, a.q2, xq + 64 * c, -8 * a.sum[xb + 2 * c], -8 * a.sum[xb + 2 * c + 1], sums, 2 * c);
                    int8Block(pk, o, a, xb, sums, acc);
                }
                Panels.store(acc, 0, y, t * dim(0), p * P, dim(0), bias);
            }
    }

    /**
     * 32 groups (two sub-blocks) of {@code sum((q - 8) x)} in 16 bits, started at the centring terms
     * {@code cA, cB} (see {@link Panels}), stored as {@code sums[j P ..]} and {@code sums[(j + 1) P ..]}.
     */
    private static void int8Chunk(MemorySegment pk, long g, int[] q2, int x, int cA, int cB, short[] sums, int j) {
        ShortVector sA = IntVector.broadcast(I, Panels.twice(cA)).reinterpretAsShorts(), sB = IntVector.broadcast(I, Panels.twice(cB)).reinterpretAsShorts();
        for (int l = 0; l < 32; l++, g += P) {
            ShortVector w = (ShortVector) ByteVector.fromMemorySegment(BP, pk, g, LE).convertShape(ZERO_EXTEND_B2S, S, 0);
            sA = sA.add(w.and((short) 15).mul(IntVector.broadcast(I, q2[x + l]).reinterpretAsShorts()));
            sB = sB.add(w.lanewise(LSHR, 4).mul(IntVector.broadcast(I, q2[x + 32 + l]).reinterpretAsShorts()));
        }
        sA.intoArray(sums, j * P);
        sB.intoArray(sums, (j + 1) * P);
    }

    /**
     * One block's epilogue: per sub-block j, {@code sum(q x) = sums_j + 8 sum(x codes)} times
     * {@code sc_j dx_j}, and {@code m_j dx_j sum(x codes)}, each summed over the block, then scaled by
     * the rows' {@code d} and {@code dmin} into {@code acc}.
     */
    private static void int8Block(MemorySegment pk, long o, Int8Activations a, int xb, short[] sums, float[] acc) {
        FloatVector z = FloatVector.zero(F), uLo = z, uHi = z, vLo = z, vHi = z;
        for (int j = 0; j < 8; j++) {
            IntVector s = ShortVector.fromArray(S, sums, j * P).reinterpretAsInts();
            IntVector m = IntVector.fromMemorySegment(I, pk, o + SCALES + 2L * P * j, LE);
            int sx = a.sum[xb + j];
            float dx = a.d[xb + j];
            FloatVector xm = FloatVector.broadcast(F, dx * sx);
            FloatVector sLo = (FloatVector) s.lanewise(LSHL, 16).lanewise(ASHR, 16).add(8 * sx).convert(I2F, 0);
            FloatVector sHi = (FloatVector) s.lanewise(ASHR, 16).add(8 * sx).convert(I2F, 0);
            uLo = sLo.mul(dx).fma((FloatVector) m.and(0xff).convert(I2F, 0), uLo);
            uHi = sHi.mul(dx).fma((FloatVector) m.lanewise(LSHR, 16).and(0xff).convert(I2F, 0), uHi);
            vLo = ((FloatVector) m.lanewise(LSHR, 8).and(0xff).convert(I2F, 0)).fma(xm, vLo);
            vHi = ((FloatVector) m.lanewise(LSHR, 24).convert(I2F, 0)).fma(xm, vHi);
        }
        IntVector d = IntVector.fromMemorySegment(I, pk, o, LE), dm = IntVector.fromMemorySegment(I, pk, o + 2L * P, LE);
        FloatVector dLo = d.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector dHi = d.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector mLo = dm.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector mHi = dm.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        dLo.fma(uLo, FloatVector.fromArray(F, acc, 0)).sub(mLo.mul(vLo)).intoArray(acc, 0);
        dHi.fma(uHi, FloatVector.fromArray(F, acc, H)).sub(mHi.mul(vHi)).intoArray(acc, H);
    }

    @Override
    void expand(MemorySegment pk, long o, int k0, int kn, float[] wk) {
        float[] sc = Panels.scratch().f(32 * H);
        o += (long) k0 / 256 * SBB * P;
        for (int b = 0; b < kn / 256; b++, o += (long) SBB * P) {
            expandScales(pk, o, sc);
            for (int c = 0; c < 8; c++) expandHalf(pk, o + CODES + 32L * P * (c >> 1), 4 * (c & 1), sc, c, wk, 256 * b + 64 * (c >> 1) + 32 * (c & 1));
        }
    }

    /** Per sub-block j: {@code d sc_j} then {@code dmin m_j}, rows [0, P/2) and [P/2, P), at {@code sc[4 j H ..]}. */
    private static void expandScales(MemorySegment pk, long o, float[] sc) {
        IntVector d = IntVector.fromMemorySegment(I, pk, o, LE), dm = IntVector.fromMemorySegment(I, pk, o + 2L * P, LE);
        FloatVector dLo = d.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector dHi = d.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector mLo = dm.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector mHi = dm.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        for (int j = 0; j < 8; j++) {
            IntVector m = IntVector.fromMemorySegment(I, pk, o + SCALES + 2L * P * j, LE);
            dLo.mul((FloatVector) m.and(0xff).convert(I2F, 0)).intoArray(sc, 4 * j * H);
            dHi.mul((FloatVector) m.lanewise(LSHR, 16).and(0xff).convert(I2F, 0)).intoArray(sc, (4 * j + 1) * H);
            mLo.mul((FloatVector) m.lanewise(LSHR, 8).and(0xff).convert(I2F, 0)).intoArray(sc, (4 * j + 2) * H);
            mHi.mul((FloatVector) m.lanewise(LSHR, 24).convert(I2F, 0)).intoArray(sc, (4 * j + 3) * H);
        }
    }

    /** Sub-block j's 32 columns from the nibbles at bit {@code shift} of a chunk, {@code d1 q - m1} as {@link #decodeBlock}. */
    private static void expandHalf(MemorySegment pk, long g, int shift, float[] sc, int j, float[] wk, int k) {
        FloatVector dLo = FloatVector.fromArray(F, sc, 4 * j * H), dHi = FloatVector.fromArray(F, sc, (4 * j + 1) * H);
        FloatVector mLo = FloatVector.fromArray(F, sc, (4 * j + 2) * H), mHi = FloatVector.fromArray(F, sc, (4 * j + 3) * H);
        for (int l = 0; l < 32; l++, g += P) {
            IntVector q = ((ShortVector) ByteVector.fromMemorySegment(BP, pk, g, LE).convertShape(ZERO_EXTEND_B2S, S, 0))
                    .lanewise(LSHR, shift).and((short) 15).reinterpretAsInts();
            ((FloatVector) q.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0)).mul(dLo).sub(mLo).intoArray(wk, (k + l) * P);
            ((FloatVector) q.lanewise(ASHR, 16).convert(I2F, 0)).mul(dHi).sub(mHi).intoArray(wk, (k + l) * P + H);
        }
    }
}

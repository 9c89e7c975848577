package jllm.tensor;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.NE;
import static jdk.incubator.vector.VectorOperators.ZERO_EXTEND_B2S;
import static jllm.tensor.Panels.B;
import static jllm.tensor.Panels.BP;
import static jllm.tensor.Panels.F;
import static jllm.tensor.Panels.H;
import static jllm.tensor.Panels.I;
import static jllm.tensor.Panels.P;
import static jllm.tensor.Panels.S;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

/**
 * The {@link Panels} kernels of the 32-value formats with a min or a fifth bit: Q4_1 ({@code q d + m}),
 * Q5_0 ({@code (q - 16) d}) and Q5_1 ({@code q d + m}), 4- or 5-bit codes, nibbles as Q4_0 stores
 * them (byte j: value j low, value j + 16 high) and the fifth bits as one 32-bit word (bit j: value j).
 *
 * <p>Panel layout per block: d (P fp16, lane order); m (P fp16) for the formats with a min; the fifth
 * bits as two groups of P 16-bit lanes (bits of values 0-15, then 16-31); then 16 groups of P bytes
 * (each row's nibble byte j). The same number of bytes as the file.
 *
 * <p>The int8 kernel keeps two 16-bit sums per block, values 0-15 and 16-31 (their low and high
 * nibbles): centred codes {@code q - c} (c = 8 or 16) times 8-bit x stay within 16 bits over 16
 * values even for 5-bit codes (16 * 16 * 127 = 32512). One kernel serves the three formats: the
 * branches on the format's shape are loop-invariant, so C2 unswitches the loops.
 */
final class SmallBlocks {
    /** Byte offsets in the file's block: nibbles, fifth-bit word (-1: none), min (-1: none); and the centre. */
    record Shape(int bb, int qs, int qh, int min, int centre) {
        int panelMin() { return 2 * P; }

        int panelQh() { return (min >= 0 ? 4 : 2) * P; }

        int panelQs() { return panelQh() + (qh >= 0 ? 4 * P : 0); }
    }

    static final Shape Q4_1 = new Shape(20, 4, -1, 2, 8), Q5_0 = new Shape(22, 6, 2, -1, 16), Q5_1 = new Shape(24, 8, 4, 2, 16);

    private SmallBlocks() { }

    /**
     * Whether the fifth bits are added as masked adds ({@code q + 16} where bit j is set: a test into a
     * mask register and one masked add per half, against a shift by j, an and, a shift by 4 and an or).
     * AVX-512 (512-bit vectors here) has mask registers: Q5_0 decode 1.12x in L2, 1.04-1.13x at 2
     * threads from memory (Q5_1 1.03x, 1.01-1.13x; AMD EPYC, paired, both orders). With 256-bit
     * vectors (AVX2) the masks are emulated with compares and blends: 0.89x, so there the shifts stay.
     */
    private static final boolean MASK_REGISTERS = S.length() >= 32;

    static void repack(Shape f, int nb, byte[] src, byte[] dst) {
        int rb = nb * f.bb, qs = f.panelQs(), qh = f.panelQh();
        for (int b = 0; b < nb; b++) {
            int o = b * f.bb * P;
            for (int l = 0; l < P; l++) {
                int s = l * rb + b * f.bb;
                dst[o + 2 * l] = src[s];
                dst[o + 2 * l + 1] = src[s + 1];
                if (f.min >= 0) {
                    dst[o + f.panelMin() + 2 * l] = src[s + f.min];
                    dst[o + f.panelMin() + 2 * l + 1] = src[s + f.min + 1];
                }
                if (f.qh >= 0)
                    for (int i = 0; i < 4; i++) dst[o + qh + 2 * P * (i >> 1) + 2 * l + (i & 1)] = src[s + f.qh + i];
                for (int j = 0; j < 16; j++) dst[o + qs + j * P + l] = src[s + f.qs + j];
            }
        }
    }

    static void int8Rows(Shape f, QuantTensor w, Panels.Store pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        float[] acc = Panels.scratch().acc(P);
        for (int p = p0; p < p1; p++)
            for (int t = 0; t < a.tokens; t++) {
                int8Panel(pk.of(p), pk.at(p), a, t, acc, f.bb, f.panelQs(), f.qh >= 0 ? f.panelQh() : -1, f.min >= 0, f.centre);
                Panels.store(acc, 0, y, t * w.dim(0), p * P, w.dim(0), bias);
            }
    }

    /** One panel against token t (qh < 0: no fifth bits; min: the {@code q d + m} formats). */
    private static void int8Panel(byte[] pk, int o, Int8Activations a, int t, float[] acc, int bb, int qs, int qh, boolean min, int c) {
        int nb = a.blocks, xb = t * nb, xq = t * a.cols;
        FloatVector lo = FloatVector.zero(F), hi = lo;
        for (int b = 0; b < nb; b++, o += bb * P) {
            int s8 = 4 * (xb + b), sumA = a.sum8[s8] + a.sum8[s8 + 1], sumB = a.sum8[s8 + 2] + a.sum8[s8 + 3];
            ShortVector sA = IntVector.broadcast(I, Panels.twice(-c * sumA)).reinterpretAsShorts();
            ShortVector sB = IntVector.broadcast(I, Panels.twice(-c * sumB)).reinterpretAsShorts();
            ShortVector hA = ShortVector.zero(S), hB = hA;
            if (qh >= 0) {
                hA = ByteVector.fromArray(B, pk, o + qh).reinterpretAsShorts();
                hB = ByteVector.fromArray(B, pk, o + qh + 2 * P).reinterpretAsShorts();
            }
            int x = xq + b * 32;
            int g = o + qs;
            for (int j = 0; j < 16; j++, g += P) {
                ShortVector v = (ShortVector) ByteVector.fromArray(BP, pk, g).convertShape(ZERO_EXTEND_B2S, S, 0);
                ShortVector q0 = v.and((short) 15), q1 = v.lanewise(LSHR, 4);
                if (qh >= 0 && MASK_REGISTERS) {
                    ShortVector bit = ShortVector.broadcast(S, (short) (1 << j));
                    q0 = q0.add((short) 16, hA.and(bit).compare(NE, 0));
                    q1 = q1.add((short) 16, hB.and(bit).compare(NE, 0));
                } else if (qh >= 0) {
                    q0 = q0.or(hA.lanewise(LSHR, j).and((short) 1).lanewise(LSHL, 4));
                    q1 = q1.or(hB.lanewise(LSHR, j).and((short) 1).lanewise(LSHL, 4));
                }
                sA = sA.add(q0.mul(IntVector.broadcast(I, a.q2[x + j]).reinterpretAsShorts()));
                sB = sB.add(q1.mul(IntVector.broadcast(I, a.q2[x + j + 16]).reinterpretAsShorts()));
            }
            IntVector iA = sA.reinterpretAsInts(), iB = sB.reinterpretAsInts();
            int back = min ? c * (sumA + sumB) : 0;
            IntVector sLo = iA.lanewise(LSHL, 16).lanewise(ASHR, 16).add(iB.lanewise(LSHL, 16).lanewise(ASHR, 16)).add(back);
            IntVector sHi = iA.lanewise(ASHR, 16).add(iB.lanewise(ASHR, 16)).add(back);
            IntVector h = ByteVector.fromArray(B, pk, o).reinterpretAsInts();
            float dx = a.d[xb + b];
            FloatVector dl = h.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            FloatVector dh = h.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            lo = ((FloatVector) sLo.convert(I2F, 0)).fma(dl.mul(dx), lo);
            hi = ((FloatVector) sHi.convert(I2F, 0)).fma(dh.mul(dx), hi);
            if (min) {
                IntVector m = ByteVector.fromArray(B, pk, o + 2 * P).reinterpretAsInts();
                FloatVector xs = FloatVector.broadcast(F, dx * (sumA + sumB));
                lo = m.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS).fma(xs, lo);
                hi = m.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS).fma(xs, hi);
            }
        }
        lo.intoArray(acc, 0);
        hi.intoArray(acc, H);
    }

    /**
     * {@link QuantTensor#expand16} of the 4-bit nibble formats (Q4_0, Q4_1): codes {@code q - 8}
     * (32 * 8 * 127 = 32512 fits in 16 bits), scale d, offset {@code m + 8 d} where the format has a
     * min (at byte {@code min} of the panel block; -1: none). Blocks of {@code bb} P bytes: d (P fp16,
     * lane order) first, the nibble groups at {@code codes}. Q5_0 and Q5_1's centred codes reach 16
     * and would not fit.
     */
    static boolean expand16Nibbles(byte[] pk, int o, int bb, int codes, int min, int k0, int kn, short[] wk, int wo, int ws, float[] sc, float[] mn, int so) {
        o += k0 / 32 * bb * P;
        for (int b = 0; b < kn / 32; b++, o += bb * P) {
            IntVector h = ByteVector.fromArray(B, pk, o).reinterpretAsInts();
            FloatVector dl = h.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            FloatVector dh = h.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            dl.intoArray(sc, so + b * ws);
            dh.intoArray(sc, so + b * ws + H);
            if (min >= 0) {
                IntVector m = ByteVector.fromArray(B, pk, o + min).reinterpretAsInts();
                dl.mul(8f).add(m.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS)).intoArray(mn, so + b * ws);
                dh.mul(8f).add(m.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS)).intoArray(mn, so + b * ws + H);
            }
            int g = o + codes;
            for (int j = 0, k = wo + b * 32 * ws; j < 16; j++, g += P, k += ws) {
                ShortVector v = (ShortVector) ByteVector.fromArray(BP, pk, g).convertShape(ZERO_EXTEND_B2S, S, 0);
                v.and((short) 15).sub((short) 8).intoArray(wk, k);
                v.lanewise(LSHR, 4).sub((short) 8).intoArray(wk, k + 16 * ws);
            }
        }
        return min >= 0;
    }

    /** {@code q d + m}, or {@code (q - c) d} without a min, exactly as the formats' decodeBlock computes them. */
    static void expand(Shape f, byte[] pk, int o, int k0, int kn, float[] wk) {
        o += k0 / 32 * f.bb * P;
        int qs = f.panelQs(), qh = f.qh >= 0 ? f.panelQh() : -1, c = f.min >= 0 ? 0 : f.centre;
        boolean min = f.min >= 0;
        for (int b = 0; b < kn / 32; b++, o += f.bb * P) {
            IntVector h = ByteVector.fromArray(B, pk, o).reinterpretAsInts();
            FloatVector dl = h.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            FloatVector dh = h.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            FloatVector ml = FloatVector.zero(F), mh = ml;
            if (min) {
                IntVector m = ByteVector.fromArray(B, pk, o + 2 * P).reinterpretAsInts();
                ml = m.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
                mh = m.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            }
            ShortVector hA = ShortVector.zero(S), hB = hA;
            if (qh >= 0) {
                hA = ByteVector.fromArray(B, pk, o + qh).reinterpretAsShorts();
                hB = ByteVector.fromArray(B, pk, o + qh + 2 * P).reinterpretAsShorts();
            }
            int g = o + qs;
            for (int j = 0, k = b * 32; j < 16; j++, g += P) {
                ShortVector v = (ShortVector) ByteVector.fromArray(BP, pk, g).convertShape(ZERO_EXTEND_B2S, S, 0);
                ShortVector q0 = v.and((short) 15), q1 = v.lanewise(LSHR, 4);
                if (qh >= 0) {
                    q0 = q0.or(hA.lanewise(LSHR, j).and((short) 1).lanewise(LSHL, 4));
                    q1 = q1.or(hB.lanewise(LSHR, j).and((short) 1).lanewise(LSHL, 4));
                }
                IntVector i0 = q0.sub((short) c).reinterpretAsInts(), i1 = q1.sub((short) c).reinterpretAsInts();
                FloatVector a0 = ((FloatVector) i0.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0)).mul(dl);
                FloatVector b0 = ((FloatVector) i0.lanewise(ASHR, 16).convert(I2F, 0)).mul(dh);
                FloatVector a1 = ((FloatVector) i1.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0)).mul(dl);
                FloatVector b1 = ((FloatVector) i1.lanewise(ASHR, 16).convert(I2F, 0)).mul(dh);
                if (min) {
                    a0 = a0.add(ml); b0 = b0.add(mh); a1 = a1.add(ml); b1 = b1.add(mh);
                }
                a0.intoArray(wk, (k + j) * P);
                b0.intoArray(wk, (k + j) * P + H);
                a1.intoArray(wk, (k + j + 16) * P);
                b1.intoArray(wk, (k + j + 16) * P + H);
            }
        }
    }
}

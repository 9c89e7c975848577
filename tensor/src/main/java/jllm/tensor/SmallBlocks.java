package jllm.tensor;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jllm.tensor.Panels.B;
import static jllm.tensor.Panels.F;
import static jllm.tensor.Panels.H;
import static jllm.tensor.Panels.P;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * The {@link Panels} kernels of the 32-value five-bit formats: Q5_0 ({@code (q - 16) d}) and Q5_1
 * ({@code q d + m}). Panel layout per block: d (P fp16, lane order); m (P fp16) for Q5_1; then the 32
 * codes as two runs of {@link FiveBits} (columns 0-15, then 16-31). 22 (Q5_0) or 24 (Q5_1) bytes per
 * row and block, as in the file (26 and 28 until the seventeenth round).
 *
 * <p>Until the sixteenth round the panels kept the file's nibbles and fifth bits (a byte per row
 * and two columns per step, the fifth bits shifted and or-ed in, one panel at a time): 51-57% of the
 * read bandwidth at AVX2 (AMD EPYC Zen 3). The five-bit runs are Q5_K's, and so is the kernel that
 * sums them, four panels at a time: paired against the old kernel, Q5_0 2.57x in L2 at one thread and
 * 2.11x from memory at two, Q5_1 2.35x and 1.68x, the outputs bit-identical. (The sixth round had
 * tried these runs one panel at a time at 512 bits: 1.34x in L2, 0.89-1.13x from memory; not
 * measured at 512 bits since.)
 */
final class SmallBlocks {
    /** A format: the file's block bytes, and where in it the min (-1: none), the fifth bits and the nibbles are. */
    record Shape(int bb, int min, int qh, int qs) {
        /** Where the codes start in a panel block. */
        int codes() { return (min >= 0 ? 4 : 2) * P; }

        /** Panel bytes per block. */
        int panelBlock() { return codes() + 2 * FiveBits.RUN; }
    }

    static final Shape Q5_0 = new Shape(22, -1, 2, 6), Q5_1 = new Shape(24, 2, 4, 8);

    private SmallBlocks() { }

    static long panelBytes(Shape f, int cols) { return (long) cols / 32 * f.panelBlock(); }

    static void repack(Shape f, int nb, byte[] src, byte[] dst) {
        final long m4 = 0x0F0F0F0F0F0F0F0FL;
        int rb = nb * f.bb;
        for (int b = 0; b < nb; b++) {
            int o = b * f.panelBlock();
            for (int l = 0; l < P; l++) {
                int s = l * rb + b * f.bb;
                dst[o + 2 * l] = src[s];
                dst[o + 2 * l + 1] = src[s + 1];
                if (f.min >= 0) {
                    dst[o + 2 * P + 2 * l] = src[s + f.min];
                    dst[o + 2 * P + 2 * l + 1] = src[s + f.min + 1];
                }
                int h = (int) Panels.INTS.get(src, s + f.qh);
                long q0 = (long) Panels.LONGS.get(src, s + f.qs), q1 = (long) Panels.LONGS.get(src, s + f.qs + 8);
                // columns j < 16: low nibble of byte j and bit j; j >= 16: high nibble of byte j - 16 and bit j
                int g = o + f.codes() + 2 * l;
                FiveBits.pack(q0 & m4 | fifths(h) << 4, q1 & m4 | fifths(h >>> 8) << 4, dst, g);
                FiveBits.pack(q0 >>> 4 & m4 | fifths(h >>> 16) << 4, q1 >>> 4 & m4 | fifths(h >>> 24) << 4, dst, g + FiveBits.RUN);
            }
        }
    }

    /** The low 8 bits of {@code bits}, bit i as the lowest bit of byte i. */
    private static long fifths(int bits) {
        long r = 0;
        for (int i = 0; i < 8; i++) r |= (long) (bits >>> i & 1) << 8 * i;
        return r;
    }

    /**
     * Four panels against token {@code t} into {@code acc[4 P]}: per block its two runs ({@link
     * FiveBits#run}: {@code sum((q - 16) x)} in 16 bits each), widened and added, times {@code d dx};
     * Q5_1 adds back {@code 16 sum(x codes)} and {@code m dx sum(x codes)}.
     */
    static void int8Fours(Shape f, byte[] pk, int o0, int o1, int o2, int o3, Int8Activations a, int t, float[] acc) {
        int nb = a.blocks, bb = f.panelBlock(), codes = f.codes();
        boolean min = f.min >= 0;
        int[] y5 = a.y5, sum8 = a.sum8;
        int[] sums = Panels.scratch().ints(4 * P);
        java.util.Arrays.fill(acc, 0, 4 * P, 0f);
        for (int b = 0; b < nb; b++) {
            int xb = t * nb + b, e = 4 * xb, x = 2 * Int8Activations.Y5_RUN * xb, c = b * bb + codes;
            FiveBits.run(pk, o0 + c, o1 + c, o2 + c, o3 + c, y5, x, -16 * (sum8[e] + sum8[e + 1]), sums, 0);
            c += FiveBits.RUN;
            FiveBits.run(pk, o0 + c, o1 + c, o2 + c, o3 + c, y5, x + Int8Activations.Y5_RUN, -16 * (sum8[e + 2] + sum8[e + 3]), sums, 2 * P);
            float dx = a.d[xb];
            int back = min ? 16 * a.sum[xb] : 0;
            FloatVector xs = FloatVector.broadcast(F, dx * a.sum[xb]);
            for (int p = 0; p < 4; p++) {
                int ob = (p == 0 ? o0 : p == 1 ? o1 : p == 2 ? o2 : o3) + b * bb;
                IntVector i = IntVector.fromArray(Panels.I, sums, p * H), k = IntVector.fromArray(Panels.I, sums, 2 * P + p * H);
                IntVector d = (IntVector) ByteVector.fromArray(B, pk, ob).reinterpretShape(Panels.I, 0);
                FloatVector lo = ((FloatVector) i.lanewise(LSHL, 16).lanewise(ASHR, 16).add(k.lanewise(LSHL, 16).lanewise(ASHR, 16)).add(back).convertShape(I2F, F, 0))
                        .fma(((FloatVector) d.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(F, 0)).mul(Panels.REBIAS).mul(dx), FloatVector.fromArray(F, acc, p * P));
                FloatVector hi = ((FloatVector) i.lanewise(ASHR, 16).add(k.lanewise(ASHR, 16)).add(back).convertShape(I2F, F, 0))
                        .fma(((FloatVector) d.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(F, 0)).mul(Panels.REBIAS).mul(dx), FloatVector.fromArray(F, acc, p * P + H));
                if (min) {
                    IntVector m = (IntVector) ByteVector.fromArray(B, pk, ob + 2 * P).reinterpretShape(Panels.I, 0);
                    lo = ((FloatVector) m.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(F, 0)).mul(Panels.REBIAS).fma(xs, lo);
                    hi = ((FloatVector) m.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(F, 0)).mul(Panels.REBIAS).fma(xs, hi);
                }
                lo.intoArray(acc, p * P);
                hi.intoArray(acc, p * P + H);
            }
        }
    }

    /** {@code (q - 16) d} (Q5_0) or {@code q d + m} (Q5_1), exactly as the formats' decodeBlock computes them. */
    static void expand(Shape f, byte[] pk, int o, int k0, int kn, float[] wk) {
        float[] t = Panels.scratch().f(2 * P);
        boolean min = f.min >= 0;
        o += k0 / 32 * f.panelBlock();
        for (int b = 0; b < kn / 32; b++, o += f.panelBlock()) {
            for (int l = 0; l < P; l++) {
                int r = Panels.laneRow(l);
                t[r] = Float.float16ToFloat((short) Panels.SHORTS.get(pk, o + 2 * l));
                t[P + r] = min ? -Float.float16ToFloat((short) Panels.SHORTS.get(pk, o + 2 * P + 2 * l)) : 0f;
            }
            int centre = min ? 0 : 16;
            FiveBits.expand(pk, o + f.codes(), centre, t, 0, t, P, wk, b * 32);
            FiveBits.expand(pk, o + f.codes() + FiveBits.RUN, centre, t, 0, t, P, wk, b * 32 + 16);
        }
    }
}

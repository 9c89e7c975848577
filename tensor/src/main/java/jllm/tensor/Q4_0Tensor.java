package jllm.tensor;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jllm.tensor.Panels.B;
import static jllm.tensor.Panels.H;
import static jllm.tensor.Panels.I;
import static jllm.tensor.Panels.P;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

/**
 * Q4_0: 32 values per block, fp16 scale then 16 bytes of nibbles (low nibble = value j, high = j + 16); {@code x = (q - 8) d}.
 *
 * <p>{@link Panels} layout: per panel and block, P fp16 scales in lane order, then 8 units of P
 * 16-bit lanes ({@link Panels#lanes16}); unit u holds each row's bytes 2u and 2u + 1, that is the
 * codes of columns 2u, 2u + 16, 2u + 1 and 2u + 17 from its lowest nibble up.
 */
public final class Q4_0Tensor extends QuantTensor {
    /** {@link Panels#VECTOR_COUNTS}, written out at each shift. */
    private static final boolean VC = Panels.VECTOR_COUNTS;

    static final int QK = 32, BB = 18;

    public Q4_0Tensor(MemorySegment seg, long... shape) { super(GgmlType.Q4_0, seg, shape); }

    private static final int[] SCALES_AT = {0};

    @Override int[] scaleOffsets() { return SCALES_AT; }

    @Override Q4_0Tensor make(MemorySegment s, long[] shape) { return new Q4_0Tensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off);
        for (int j = 0; j < 16; j++) {
            int q = u8(off + 2 + j);
            dst[o + j] = ((q & 15) - 8) * d;
            dst[o + j + 16] = ((q >>> 4) - 8) * d;
        }
    }

    @Override boolean hasPanels() { return true; }

    @Override int activationExtras() { return Int8Activations.NIB4; }

    @Override long panelBytes() { return (long) dim(1) / QK * BB * P; }

    @Override
    void repackPanel(byte[] src, byte[] dst) {
        int nb = dim(1) / QK, rb = nb * BB;
        for (int b = 0; b < nb; b++) {
            int o = b * BB * P;
            for (int l = 0; l < P; l++) {
                dst[o + 2 * l] = src[l * rb + b * BB];
                dst[o + 2 * l + 1] = src[l * rb + b * BB + 1];
            }
            Panels.lanes16(src, b * BB + 2, rb, dst, o + 2 * P, 8);
        }
    }

    @Override
    void int8Rows(Panels.Store pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        Panels.int8Fours((arr, o0, o1, o2, o3, x, t, acc) -> int8Panels(arr, o0, o1, o2, o3, x, t, acc, -1), pk, a, y, dim(0), p0, p1, bias);
    }

    /**
     * Four panels against token {@code t} into {@code acc[4 P]}: per unit of four columns (a 16-bit
     * lane per row holding four nibbles, {@link Int8Activations#nib4}) the lane and its three shifts
     * times the unit's four multipliers, summed over the block in 16 bits from {@code -8 sum(x codes)}
     * (see {@link Panels}), then per block and half-panel one conversion and one FMA with the rows'
     * scales.
     *
     * <p>Why four nibbles per lane: a unit's four products take one load, three shifts, four
     * multiplies and four adds per panel and no widening or mask. The two-column form before it
     * (a byte per row widened to 16 bits, the byte times x[j] plus its high nibble times
     * x[j + 16] - 16 x[j]) took a load, a widening, a shift, two multiplies and two adds per two
     * columns: at 256 bits C2 made ~40 instructions a step of 4 panels x 16 rows x 2 columns; this
     * form makes ~60 for twice the columns (AMD EPYC Zen 3, AVX2, paired passes: 1.18-1.22x in L3 at
     * one thread, 1.06x from memory at two; docs/quantization-and-speed.md, thirteenth round). The
     * shifts take their count from {@link FourNibbles#FOUR}: by the constant 4, C2 gave each of the
     * 12 shifts its own {@code vmovd} of the count. The scales are loaded after the code loop, so
     * that they do not hold four of the 16 registers through it.
     *
     * <p>Why four panels at once: one panel at a time, this kernel streamed from memory at about
     * {@code 1 / (1 / compute + 1 / bandwidth)} on the AMD EPYC (28 Gw/s per core, against 47 in L2
     * and 43 for the bare read stream), as if little of the stream ran ahead of the arithmetic. Fewer
     * instructions per weight byte leave more loads in flight in the out-of-order window: sharing
     * each unit's broadcasts of x between four panels cuts them to a quarter. Paired passes, one
     * thread, against one panel at a time: 1.33x from memory, 1.13x in L2 (two panels: 1.12x /
     * 1.04x); two threads from memory 1.23-1.29x; the 1B model's decode 1.0-1.3x in alternating
     * runs. (Q4_K's kernel, in this lane layout, and Q6_K's AVX2 byte kernel are built the same
     * way since the fourteenth round, docs/quantization-and-speed.md: KBlocks, Q6_KTensor.fours.)
     * All products of a lane go into one 16-bit sum per panel (four accumulators): with 16 vector
     * registers at 256 bits, more sums spill. The epilogue is written out per panel: through arrays
     * (a loop over the panels, as vectors cannot be indexed) it cost ~6% in L2.
     *
     * <p>Q4_1 runs this kernel on its panels too ({@link Q4_1Tensor}): Q4_0's blocks, and the mins in a
     * region of their own from {@code mins} (a second stream; -1 for Q4_0), with {@code (8 d + m) dx
     * sum(x codes)} added per block. The block stride stays a constant: as a parameter (the mins next
     * to the scales) it cost Q4_0 5-9% in L2.
     */
    static void int8Panels(byte[] pk, int o0, int o1, int o2, int o3, Int8Activations a, int t, float[] acc, int mins) {
        int nb = a.blocks;
        int[] v = a.nib4;
        int n4 = FourNibbles.FOUR[0];
        ShortVector c4 = ShortVector.broadcast(Panels.S, (short) n4);
        FloatVector lo0 = FloatVector.zero(F), hi0 = lo0, lo1 = lo0, hi1 = lo0, lo2 = lo0, hi2 = lo0, lo3 = lo0, hi3 = lo0;
        for (int b = 0, x = 34 * t * nb; b < nb; b++, x += 34) {
            int step = b * BB * P, g0 = o0 + step + 2 * P, g1 = o1 + step + 2 * P, g2 = o2 + step + 2 * P, g3 = o3 + step + 2 * P;
            ShortVector s0 = (ShortVector) IntVector.broadcast(I, v[x]).reinterpretShape(Panels.S, 0);
            ShortVector s1 = s0, s2 = s0, s3 = s0;
            for (int u = 0; u < 8; u++) {
                int d = 2 * u * P, m = x + 1 + 4 * u;
                ShortVector m0 = (ShortVector) IntVector.broadcast(I, v[m]).reinterpretShape(Panels.S, 0), m1 = (ShortVector) IntVector.broadcast(I, v[m + 1]).reinterpretShape(Panels.S, 0);
                ShortVector m2 = (ShortVector) IntVector.broadcast(I, v[m + 2]).reinterpretShape(Panels.S, 0), m3 = (ShortVector) IntVector.broadcast(I, v[m + 3]).reinterpretShape(Panels.S, 0);
                ShortVector w = (ShortVector) ByteVector.fromArray(B, pk, g0 + d).reinterpretShape(Panels.S, 0), h = VC ? w.lanewise(LSHR, c4) : w.lanewise(LSHR, n4);
                s0 = s0.add(w.mul(m0)).add(h.mul(m1));
                h = VC ? h.lanewise(LSHR, c4) : h.lanewise(LSHR, n4);
                s0 = s0.add(h.mul(m2)).add((VC ? h.lanewise(LSHR, c4) : h.lanewise(LSHR, n4)).mul(m3));
                w = (ShortVector) ByteVector.fromArray(B, pk, g1 + d).reinterpretShape(Panels.S, 0);
                h = VC ? w.lanewise(LSHR, c4) : w.lanewise(LSHR, n4);
                s1 = s1.add(w.mul(m0)).add(h.mul(m1));
                h = VC ? h.lanewise(LSHR, c4) : h.lanewise(LSHR, n4);
                s1 = s1.add(h.mul(m2)).add((VC ? h.lanewise(LSHR, c4) : h.lanewise(LSHR, n4)).mul(m3));
                w = (ShortVector) ByteVector.fromArray(B, pk, g2 + d).reinterpretShape(Panels.S, 0);
                h = VC ? w.lanewise(LSHR, c4) : w.lanewise(LSHR, n4);
                s2 = s2.add(w.mul(m0)).add(h.mul(m1));
                h = VC ? h.lanewise(LSHR, c4) : h.lanewise(LSHR, n4);
                s2 = s2.add(h.mul(m2)).add((VC ? h.lanewise(LSHR, c4) : h.lanewise(LSHR, n4)).mul(m3));
                w = (ShortVector) ByteVector.fromArray(B, pk, g3 + d).reinterpretShape(Panels.S, 0);
                h = VC ? w.lanewise(LSHR, c4) : w.lanewise(LSHR, n4);
                s3 = s3.add(w.mul(m0)).add(h.mul(m1));
                h = VC ? h.lanewise(LSHR, c4) : h.lanewise(LSHR, n4);
                s3 = s3.add(h.mul(m2)).add((VC ? h.lanewise(LSHR, c4) : h.lanewise(LSHR, n4)).mul(m3));
            }
            float dx = Float.intBitsToFloat(v[x + 33]);
            IntVector d0 = (IntVector) ByteVector.fromArray(B, pk, o0 + step).reinterpretShape(I, 0), d1 = (IntVector) ByteVector.fromArray(B, pk, o1 + step).reinterpretShape(I, 0);
            IntVector d2 = (IntVector) ByteVector.fromArray(B, pk, o2 + step).reinterpretShape(I, 0), d3 = (IntVector) ByteVector.fromArray(B, pk, o3 + step).reinterpretShape(I, 0);
            IntVector i0 = (IntVector) s0.reinterpretShape(I, 0);
            lo0 = ((FloatVector) i0.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0))
                    .fma(((FloatVector) d0.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS).mul(dx), lo0);
            hi0 = ((FloatVector) i0.lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0))
                    .fma(((FloatVector) d0.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS).mul(dx), hi0);
            IntVector i1 = (IntVector) s1.reinterpretShape(I, 0);
            lo1 = ((FloatVector) i1.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0))
                    .fma(((FloatVector) d1.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS).mul(dx), lo1);
            hi1 = ((FloatVector) i1.lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0))
                    .fma(((FloatVector) d1.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS).mul(dx), hi1);
            IntVector i2 = (IntVector) s2.reinterpretShape(I, 0);
            lo2 = ((FloatVector) i2.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0))
                    .fma(((FloatVector) d2.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS).mul(dx), lo2);
            hi2 = ((FloatVector) i2.lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0))
                    .fma(((FloatVector) d2.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS).mul(dx), hi2);
            IntVector i3 = (IntVector) s3.reinterpretShape(I, 0);
            lo3 = ((FloatVector) i3.lanewise(LSHL, 16).lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0))
                    .fma(((FloatVector) d3.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS).mul(dx), lo3);
            hi3 = ((FloatVector) i3.lanewise(ASHR, 16).convertShape(I2F, Panels.F, 0))
                    .fma(((FloatVector) d3.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS).mul(dx), hi3);
            if (mins >= 0) { // Q4_1: + (8 d + m) dx sum(x codes), as the sums count q - 8 and the values are q d + m
                FloatVector xs = FloatVector.broadcast(F, dx * a.sum[t * nb + b]), x8 = xs.mul(8f);
                int mb = mins + 2 * P * b;
                IntVector m0 = (IntVector) ByteVector.fromArray(B, pk, o0 + mb).reinterpretShape(I, 0);
                lo0 = ((FloatVector) m0.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS)
                        .fma(xs, ((FloatVector) d0.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS).fma(x8, lo0));
                hi0 = ((FloatVector) m0.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS)
                        .fma(xs, ((FloatVector) d0.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS).fma(x8, hi0));
                IntVector m1 = (IntVector) ByteVector.fromArray(B, pk, o1 + mb).reinterpretShape(I, 0);
                lo1 = ((FloatVector) m1.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS)
                        .fma(xs, ((FloatVector) d1.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS).fma(x8, lo1));
                hi1 = ((FloatVector) m1.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS)
                        .fma(xs, ((FloatVector) d1.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS).fma(x8, hi1));
                IntVector m2 = (IntVector) ByteVector.fromArray(B, pk, o2 + mb).reinterpretShape(I, 0);
                lo2 = ((FloatVector) m2.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS)
                        .fma(xs, ((FloatVector) d2.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS).fma(x8, lo2));
                hi2 = ((FloatVector) m2.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS)
                        .fma(xs, ((FloatVector) d2.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS).fma(x8, hi2));
                IntVector m3 = (IntVector) ByteVector.fromArray(B, pk, o3 + mb).reinterpretShape(I, 0);
                lo3 = ((FloatVector) m3.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS)
                        .fma(xs, ((FloatVector) d3.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS).fma(x8, lo3));
                hi3 = ((FloatVector) m3.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS)
                        .fma(xs, ((FloatVector) d3.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretShape(Panels.F, 0)).mul(Panels.REBIAS).fma(x8, hi3));
            }
        }
        lo0.intoArray(acc, 0); hi0.intoArray(acc, H);
        lo1.intoArray(acc, P); hi1.intoArray(acc, P + H);
        lo2.intoArray(acc, 2 * P); hi2.intoArray(acc, 2 * P + H);
        lo3.intoArray(acc, 3 * P); hi3.intoArray(acc, 3 * P + H);
    }

    @Override boolean hasInt16() { return true; }

    @Override
    boolean expand16(Panels.Store st, int p, int k0, int kn, short[] wk, int wo, int ws, float[] sc, float[] mn, int so) {
        byte[] pk = st.of(p);
        int o = st.at(p) + k0 / QK * BB * P;
        for (int b = 0; b < kn / QK; b++, o += BB * P) {
            Panels.halves(pk, o, 1f, sc, so + b * ws);
            FourNibbles.expand16(pk, o + 2 * P, wk, wo + b * QK * ws, ws);
        }
        return false;
    }

    @Override
    void expand(Panels.Store st, int p, int k0, int kn, float[] wk) {
        byte[] pk = st.of(p);
        float[] d = Panels.scratch().f(P);
        int o = st.at(p) + k0 / QK * BB * P;
        for (int b = 0; b < kn / QK; b++, o += BB * P) {
            Panels.halves(pk, o, 1f, d, 0);
            FourNibbles.expand(pk, o + 2 * P, 8, d, 0, FourNibbles.NO_MIN, 0, wk, b * QK);
        }
    }
}

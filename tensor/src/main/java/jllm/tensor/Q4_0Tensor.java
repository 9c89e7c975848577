package jllm.tensor;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.ZERO_EXTEND_B2S;
import static jllm.tensor.Panels.B;
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
 * Q4_0: 32 values per block, fp16 scale then 16 bytes of nibbles (low nibble = value j, high = j + 16); {@code x = (q - 8) d}.
 *
 * <p>{@link Panels} layout: per panel and block, P fp16 scales in lane order, then 16 groups of P
 * bytes; group j holds each row's byte j (low nibble: column j, high nibble: column j + 16).
 */
public final class Q4_0Tensor extends QuantTensor {
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

    @Override int activationExtras() { return Int8Activations.Q40; }

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
            Panels.lanes(src, b * BB + 2, rb, dst, o + 2 * P, 16);
        }
    }

    @Override
    void int8Rows(Panels.Store pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        Panels.int8Fours(Q4_0Tensor::int8Panels, pk, a, y, dim(0), p0, p1, bias);
    }

    /**
     * Four panels against token {@code t} into {@code acc[4 P]}: per group two columns,
     * {@code (q - 8) x} summed over the block in 16 bits (the sum starts at {@code -8 sum(x codes)},
     * see {@link Panels}; the byte times x[j] plus its high nibble times x[j + 16] - 16 x[j], {@link Int8Activations#q40}),
     * then per block and half-panel one conversion and one FMA with the rows' scales.
     *
     * <p>Why four panels at once: one panel at a time, this kernel streamed from memory at about
     * {@code 1 / (1 / compute + 1 / bandwidth)} on the AMD EPYC (28 Gw/s per core, against 47 in L2
     * and 43 for the bare read stream), as if little of the stream ran ahead of the arithmetic. Fewer
     * instructions per weight byte leave more loads in flight in the out-of-order window: sharing
     * each group's two broadcasts of x between four panels cuts them to a quarter. Paired passes, one
     * thread, against one panel at a time: 1.33x from memory, 1.13x in L2 (two panels: 1.12x /
     * 1.04x); two threads from memory 1.23-1.29x; the 1B model's decode 1.0-1.3x in alternating
     * runs. (Q4_K and Q6_K kernels built the same way lost at two threads; see
     * docs/quantization-and-speed.md, fifth round.) Both products of a byte go into one
     * 16-bit sum per panel (four accumulators, not eight): at 256 bits, with 16 vector registers,
     * eight accumulators, the broadcasts and the weights left two sums spilled to the stack and the
     * shift count re-made per use; one sum per panel ran at 1.2x (L3-resident [2048, 2048], one
     * thread, {@code -XX:UseAVX=2}: 28 -> 33-34 Gw/s, 4 alternating runs) and no slower at 512 bits
     * (48-49 Gw/s both; AMD EPYC). The epilogue is
     * written out per panel: through arrays (a loop over the panels, as vectors cannot be indexed) it
     * cost ~6% in L2.
     */
    private static void int8Panels(byte[] pk, int o0, int o1, int o2, int o3, Int8Activations a, int t, float[] acc) {
        int nb = a.blocks;
        int[] v = a.q40;
        FloatVector lo0 = FloatVector.zero(F), hi0 = lo0, lo1 = lo0, hi1 = lo0, lo2 = lo0, hi2 = lo0, lo3 = lo0, hi3 = lo0;
        for (int b = 0, x = 34 * t * nb; b < nb; b++, x += 34) {
            int step = b * BB * P, g0 = o0 + step + 2 * P, g1 = o1 + step + 2 * P, g2 = o2 + step + 2 * P, g3 = o3 + step + 2 * P;
            ShortVector s0 = IntVector.broadcast(I, v[x]).reinterpretAsShorts();
            ShortVector s1 = s0, s2 = s0, s3 = s0;
            IntVector d0 = ByteVector.fromArray(B, pk, o0 + step).reinterpretAsInts(), d1 = ByteVector.fromArray(B, pk, o1 + step).reinterpretAsInts();
            IntVector d2 = ByteVector.fromArray(B, pk, o2 + step).reinterpretAsInts(), d3 = ByteVector.fromArray(B, pk, o3 + step).reinterpretAsInts();
            for (int j = 0; j < 16; j++) {
                int d = j * P;
                ShortVector xl = IntVector.broadcast(I, v[x + 1 + j]).reinterpretAsShorts();
                ShortVector xu = IntVector.broadcast(I, v[x + 17 + j]).reinterpretAsShorts();
                ShortVector w0 = (ShortVector) ByteVector.fromArray(BP, pk, g0 + d).convertShape(ZERO_EXTEND_B2S, S, 0);
                ShortVector w1 = (ShortVector) ByteVector.fromArray(BP, pk, g1 + d).convertShape(ZERO_EXTEND_B2S, S, 0);
                ShortVector w2 = (ShortVector) ByteVector.fromArray(BP, pk, g2 + d).convertShape(ZERO_EXTEND_B2S, S, 0);
                ShortVector w3 = (ShortVector) ByteVector.fromArray(BP, pk, g3 + d).convertShape(ZERO_EXTEND_B2S, S, 0);
                s0 = s0.add(w0.mul(xl)).add(w0.lanewise(LSHR, 4).mul(xu));
                s1 = s1.add(w1.mul(xl)).add(w1.lanewise(LSHR, 4).mul(xu));
                s2 = s2.add(w2.mul(xl)).add(w2.lanewise(LSHR, 4).mul(xu));
                s3 = s3.add(w3.mul(xl)).add(w3.lanewise(LSHR, 4).mul(xu));
            }
            float dx = Float.intBitsToFloat(v[x + 33]);
            IntVector i0 = s0.reinterpretAsInts();
            lo0 = ((FloatVector) i0.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0))
                    .fma(d0.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS).mul(dx), lo0);
            hi0 = ((FloatVector) i0.lanewise(ASHR, 16).convert(I2F, 0))
                    .fma(d0.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS).mul(dx), hi0);
            IntVector i1 = s1.reinterpretAsInts();
            lo1 = ((FloatVector) i1.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0))
                    .fma(d1.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS).mul(dx), lo1);
            hi1 = ((FloatVector) i1.lanewise(ASHR, 16).convert(I2F, 0))
                    .fma(d1.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS).mul(dx), hi1);
            IntVector i2 = s2.reinterpretAsInts();
            lo2 = ((FloatVector) i2.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0))
                    .fma(d2.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS).mul(dx), lo2);
            hi2 = ((FloatVector) i2.lanewise(ASHR, 16).convert(I2F, 0))
                    .fma(d2.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS).mul(dx), hi2);
            IntVector i3 = s3.reinterpretAsInts();
            lo3 = ((FloatVector) i3.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0))
                    .fma(d3.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS).mul(dx), lo3);
            hi3 = ((FloatVector) i3.lanewise(ASHR, 16).convert(I2F, 0))
                    .fma(d3.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS).mul(dx), hi3);
        }
        lo0.intoArray(acc, 0); hi0.intoArray(acc, H);
        lo1.intoArray(acc, P); hi1.intoArray(acc, P + H);
        lo2.intoArray(acc, 2 * P); hi2.intoArray(acc, 2 * P + H);
        lo3.intoArray(acc, 3 * P); hi3.intoArray(acc, 3 * P + H);
    }

    @Override boolean hasInt16() { return true; }

    @Override
    boolean expand16(Panels.Store pk, int p, int k0, int kn, short[] wk, int wo, int ws, float[] sc, float[] mn, int so) {
        return SmallBlocks.expand16Nibbles(pk.of(p), pk.at(p), BB, 2 * P, -1, k0, kn, wk, wo, ws, sc, mn, so);
    }

    @Override
    void expand(Panels.Store st, int p, int k0, int kn, float[] wk) {
        byte[] pk = st.of(p);
        int o = st.at(p);
        o += k0 / QK * BB * P;
        for (int b = 0; b < kn / QK; b++, o += BB * P) {
            IntVector h = ByteVector.fromArray(B, pk, o).reinterpretAsInts();
            FloatVector dl = h.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            FloatVector dh = h.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
            int g = o + 2 * P;
            for (int j = 0, k = b * QK; j < 16; j++, g += P) {
                ShortVector w = (ShortVector) ByteVector.fromArray(BP, pk, g).convertShape(ZERO_EXTEND_B2S, S, 0);
                IntVector q0 = w.and((short) 15).sub((short) 8).reinterpretAsInts(), q1 = w.lanewise(LSHR, 4).sub((short) 8).reinterpretAsInts();
                ((FloatVector) q0.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0)).mul(dl).intoArray(wk, (k + j) * P);
                ((FloatVector) q0.lanewise(ASHR, 16).convert(I2F, 0)).mul(dh).intoArray(wk, (k + j) * P + H);
                ((FloatVector) q1.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0)).mul(dl).intoArray(wk, (k + j + 16) * P);
                ((FloatVector) q1.lanewise(ASHR, 16).convert(I2F, 0)).mul(dh).intoArray(wk, (k + j + 16) * P + H);
            }
        }
    }
}

package jllm.tensor;

import static jllm.tensor.Panels.P;

import java.lang.foreign.MemorySegment;

/** Q4_1: 32 values per block, fp16 scale and min, nibbles as Q4_0; {@code x = q d + m}. Kernels: Q4_0's ({@link Q4_0Tensor#int8Panels}, {@link FourNibbles}) with the mins. */
public final class Q4_1Tensor extends QuantTensor {
    private static final int[] SCALES_AT = {0, 2};

    public Q4_1Tensor(MemorySegment seg, long... shape) { super(GgmlType.Q4_1, seg, shape); }

    @Override int[] scaleOffsets() { return SCALES_AT; }

    @Override Q4_1Tensor make(MemorySegment s, long[] shape) { return new Q4_1Tensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off), m = half(off + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(off + 4 + j);
            dst[o + j] = (q & 15) * d + m;
            dst[o + j + 16] = (q >>> 4) * d + m;
        }
    }

    @Override boolean hasPanels() { return true; }

    @Override int activationExtras() { return Int8Activations.NIB4; }

    @Override long panelBytes() { return (long) dim(1) / 32 * 20 * P; }

    /** Q4_0's panel bytes per block, where Q4_1's mins start in a panel ({@link #repackPanel}). */
    private static final int BB = Q4_0Tensor.BB;

    private int minsAt() { return dim(1) / 32 * BB * P; }

    /**
     * Q4_0's panel layout ({@link FourNibbles}: per block P fp16 scales in lane order, then the codes
     * as 8 units of P 16-bit lanes), followed by the blocks' mins, P fp16 per block: Q4_0's kernel
     * reads these panels as they are, the mins as a second stream ({@link Q4_0Tensor#int8Panels}).
     * Until the sixteenth round Q4_1 had a byte per row and two columns per step (in SmallBlocks,
     * one panel at a time): 69% of the read bandwidth at AVX2 (AMD EPYC Zen 3).
     */
    @Override
    void repackPanel(byte[] src, byte[] dst) {
        int nb = dim(1) / 32, rb = nb * 20, mins = minsAt();
        for (int b = 0; b < nb; b++) {
            int o = b * BB * P;
            for (int l = 0; l < P; l++)
                for (int i = 0; i < 2; i++) {
                    dst[o + 2 * l + i] = src[l * rb + b * 20 + i];
                    dst[mins + b * 2 * P + 2 * l + i] = src[l * rb + b * 20 + 2 + i];
                }
            Panels.lanes16(src, b * 20 + 4, rb, dst, o + 2 * P, 8);
        }
    }

    @Override
    void int8Rows(Panels.Store pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        int mins = minsAt();
        Panels.int8Fours((arr, o0, o1, o2, o3, x, t, acc) -> Q4_0Tensor.int8Panels(arr, o0, o1, o2, o3, x, t, acc, mins), pk, a, y, dim(0), p0, p1, bias);
    }

    @Override boolean hasInt16() { return true; }

    /** Codes {@code q - 8} (32 * 8 * 127 = 32512 fits in 16 bits), scale d, offset {@code m + 8 d}. */
    @Override
    boolean expand16(Panels.Store st, int p, int k0, int kn, short[] wk, int wo, int ws, float[] sc, float[] mn, int so) {
        byte[] pk = st.of(p);
        int o = st.at(p), b0 = k0 / 32;
        float[] t = Panels.scratch().f(2 * P);
        for (int b = 0; b < kn / 32; b++) {
            halves(pk, o + (b0 + b) * BB * P, o + minsAt() + (b0 + b) * 2 * P, t);
            for (int r = 0; r < P; r++) {
                sc[so + b * ws + r] = t[r];
                mn[so + b * ws + r] = t[P + r] + 8 * t[r];
            }
            FourNibbles.expand16(pk, o + (b0 + b) * BB * P + 2 * P, wk, wo + b * 32 * ws, ws);
        }
        return true;
    }

    /** {@code q d + m} exactly as {@link #decodeBlock}: {@link FourNibbles#expand} with centre 0 and the mins negated. */
    @Override
    void expand(Panels.Store st, int p, int k0, int kn, float[] wk) {
        byte[] pk = st.of(p);
        float[] t = Panels.scratch().f(2 * P);
        int o = st.at(p), b0 = k0 / 32;
        for (int b = 0; b < kn / 32; b++) {
            halves(pk, o + (b0 + b) * BB * P, o + minsAt() + (b0 + b) * 2 * P, t);
            for (int r = P; r < 2 * P; r++) t[r] = -t[r];
            FourNibbles.expand(pk, o + (b0 + b) * BB * P + 2 * P, 0, t, 0, t, P, wk, b * 32);
        }
    }

    /** A block's P scales (at {@code pk[d ..]}) then its P mins (at {@code pk[m ..]}) as floats, rows in order. */
    private static void halves(byte[] pk, int d, int m, float[] t) {
        for (int l = 0; l < P; l++) {
            int r = Panels.laneRow(l);
            t[r] = Float.float16ToFloat((short) Panels.SHORTS.get(pk, d + 2 * l));
            t[P + r] = Float.float16ToFloat((short) Panels.SHORTS.get(pk, m + 2 * l));
        }
    }
}

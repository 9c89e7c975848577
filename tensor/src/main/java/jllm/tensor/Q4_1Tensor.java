package jllm.tensor;

import java.lang.foreign.MemorySegment;

/** Q4_1: 32 values per block, fp16 scale and min, nibbles as Q4_0; {@code x = q d + m}. Kernels: {@link SmallBlocks}. */
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

    @Override long panelBytes() { return (long) dim(1) / 32 * bb * Panels.P; }

    @Override void repackPanel(byte[] src, byte[] dst) { SmallBlocks.repack(SmallBlocks.Q4_1, dim(1) / 32, src, dst); }

    @Override
    void int8Rows(Panels.Store pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        SmallBlocks.int8Rows(SmallBlocks.Q4_1, this, pk, a, y, p0, p1, bias);
    }

    @Override boolean hasInt16() { return true; }

    @Override
    boolean expand16(Panels.Store pk, int p, int k0, int kn, short[] wk, int wo, int ws, float[] sc, float[] mn, int so) {
        return SmallBlocks.expand16Nibbles(pk.of(p), pk.at(p), SmallBlocks.Q4_1.bb(), SmallBlocks.Q4_1.panelQs(), SmallBlocks.Q4_1.panelMin(), k0, kn, wk, wo, ws, sc, mn, so);
    }

    @Override
    void expand(Panels.Store pk, int p, int k0, int kn, float[] wk) { SmallBlocks.expand(SmallBlocks.Q4_1, pk.of(p), pk.at(p), k0, kn, wk); }
}

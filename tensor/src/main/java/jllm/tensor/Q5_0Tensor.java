package jllm.tensor;

import java.lang.foreign.MemorySegment;

/** Q5_0: 32 values per block, fp16 scale, 32 high bits (bit j = 5th bit of value j), nibbles; {@code x = (q - 16) d}. Kernels: {@link SmallBlocks}. */
public final class Q5_0Tensor extends QuantTensor {
    private static final int[] SCALES_AT = {0};

    public Q5_0Tensor(MemorySegment seg, long... shape) { super(GgmlType.Q5_0, seg, shape); }

    @Override int[] scaleOffsets() { return SCALES_AT; }

    @Override Q5_0Tensor make(MemorySegment s, long[] shape) { return new Q5_0Tensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off);
        int qh = seg.get(LEI, off + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(off + 6 + j);
            dst[o + j] = (((q & 15) | ((qh >>> j) & 1) << 4) - 16) * d;
            dst[o + j + 16] = (((q >>> 4) | ((qh >>> (j + 16)) & 1) << 4) - 16) * d;
        }
    }

    @Override boolean hasPanels() { return true; }

    @Override long panelBytes() { return SmallBlocks.panelBytes(SmallBlocks.Q5_0, dim(1)); }

    @Override int activationExtras() { return Int8Activations.Y5; }

    @Override void repackPanel(byte[] src, byte[] dst) { SmallBlocks.repack(SmallBlocks.Q5_0, dim(1) / 32, src, dst); }

    @Override
    void int8Rows(Panels.Store pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        Panels.int8Fours((arr, o0, o1, o2, o3, x, t, acc) -> SmallBlocks.int8Fours(SmallBlocks.Q5_0, arr, o0, o1, o2, o3, x, t, acc), pk, a, y, dim(0), p0, p1, bias);
    }

    @Override
    void expand(Panels.Store pk, int p, int k0, int kn, float[] wk) { SmallBlocks.expand(SmallBlocks.Q5_0, pk.of(p), pk.at(p), k0, kn, wk); }
}

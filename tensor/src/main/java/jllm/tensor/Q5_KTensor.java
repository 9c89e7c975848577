package jllm.tensor;

import java.lang.foreign.MemorySegment;

/** Q5_K: Q4_K plus a fifth bit per value (32 bytes qh: bit 2i / 2i+1 of byte l for the two halves of chunk i). Kernels: {@link KBlocks}. */
public final class Q5_KTensor extends QuantTensor {
    public Q5_KTensor(MemorySegment seg, long... shape) { super(GgmlType.Q5_K, seg, shape); }

    private static final int[] SCALES_AT = {0, 2};

    @Override int[] scaleOffsets() { return SCALES_AT; }

    @Override Q5_KTensor make(MemorySegment s, long[] shape) { return new Q5_KTensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off), dmin = half(off + 2);
        long lo = KQuant.low8(seg, off + 4);
        int hi = KQuant.high4(seg, off + 4);
        for (int i = 0; i < 4; i++) {
            float d1 = d * KQuant.scale(lo, hi, 2 * i), m1 = dmin * KQuant.min(lo, hi, 2 * i);
            float d2 = d * KQuant.scale(lo, hi, 2 * i + 1), m2 = dmin * KQuant.min(lo, hi, 2 * i + 1);
            for (int l = 0; l < 32; l++) {
                int q = u8(off + 48 + 32 * i + l), h = u8(off + 16 + l);
                dst[o + 64 * i + l] = d1 * ((q & 15) | ((h >>> (2 * i)) & 1) << 4) - m1;
                dst[o + 64 * i + 32 + l] = d2 * ((q >>> 4) | ((h >>> (2 * i + 1)) & 1) << 4) - m2;
            }
        }
    }

    @Override boolean hasPanels() { return true; }

    @Override long panelBytes() { return (long) dim(1) / 256 * KBlocks.blockUnits(true) * Panels.P; }

    @Override void repackPanel(byte[] src, byte[] dst) { KBlocks.repack(true, dim(1) / 256, src, dst); }

    @Override
    void int8Rows(MemorySegment pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        KBlocks.int8Rows(true, this, pk, a, y, p0, p1, bias);
    }

    @Override
    void expand(MemorySegment pk, long off, int k0, int kn, float[] wk) { KBlocks.expand(true, pk, off, k0, kn, wk); }
}

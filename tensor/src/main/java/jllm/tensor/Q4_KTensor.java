package jllm.tensor;

import java.lang.foreign.MemorySegment;

/** Q4_K: 256 values per block in 8 sub-blocks of 32 with 6-bit scales and mins under fp16 super-scales; {@code x = d sc q - dmin m}. Kernels: {@link KBlocks}. */
public final class Q4_KTensor extends QuantTensor {
    public Q4_KTensor(MemorySegment seg, long... shape) { super(GgmlType.Q4_K, seg, shape); }

    private static final int[] SCALES_AT = {0, 2};

    @Override int[] scaleOffsets() { return SCALES_AT; }

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

    @Override int activationExtras() { return Int8Activations.NIB4; }

    @Override long panelBytes() { return (long) dim(1) / 256 * KBlocks.blockUnits() * Panels.P; }

    @Override void repackPanel(byte[] src, byte[] dst) { KBlocks.repack(dim(1) / 256, src, dst); }

    @Override
    void int8Rows(Panels.Store pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        KBlocks.int8Rows(this, pk, a, y, p0, p1, bias);
    }

    @Override boolean hasInt16() { return true; }

    @Override
    boolean expand16(Panels.Store pk, int p, int k0, int kn, short[] wk, int wo, int ws, float[] sc, float[] mn, int so) {
        return KBlocks.expand16(pk.of(p), pk.at(p), k0, kn, wk, wo, ws, sc, mn, so);
    }

    @Override
    void expand(Panels.Store pk, int p, int k0, int kn, float[] wk) { KBlocks.expand(pk.of(p), pk.at(p), k0, kn, wk); }
}

package jllm.tensor;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jllm.tensor.Panels.H;
import static jllm.tensor.Panels.I;
import static jllm.tensor.Panels.P;
import static jllm.tensor.Panels.S;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

/** Q6_K: 256 values per block, 4 low bits (ql) + 2 high bits (qh), 16 signed 8-bit scales, fp16 d last; {@code x = d sc (q - 32)}. */
public final class Q6_KTensor extends QuantTensor {
    public Q6_KTensor(MemorySegment seg, long... shape) { super(GgmlType.Q6_K, seg, shape); }

    private static final int[] SCALES_AT = {208};

    @Override int[] scaleOffsets() { return SCALES_AT; }

    @Override Q6_KTensor make(MemorySegment s, long[] shape) { return new Q6_KTensor(s, shape); }

    @Override
    void decodeBlock(long off, float[] dst, int o) {
        float d = half(off + 208);
        for (int n = 0; n < 2; n++) {
            long ql = off + 64 * n, qh = off + 128 + 32 * n, sc = off + 192 + 8 * n;
            int y = o + 128 * n;
            for (int l = 0; l < 32; l++) {
                int is = l / 16, a = u8(ql + l), b = u8(ql + l + 32), h = u8(qh + l);
                dst[y + l] = d * sc(sc + is) * (((a & 15) | (h & 3) << 4) - 32);
                dst[y + l + 32] = d * sc(sc + is + 2) * (((b & 15) | ((h >>> 2) & 3) << 4) - 32);
                dst[y + l + 64] = d * sc(sc + is + 4) * (((a >>> 4) | ((h >>> 4) & 3) << 4) - 32);
                dst[y + l + 96] = d * sc(sc + is + 6) * (((b >>> 4) | ((h >>> 6) & 3) << 4) - 32);
            }
        }
    }

    private int sc(long off) { return seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, off); }

    // ---- Panels layout, per panel and block (274 P bytes): 128 groups of P 16-bit lanes holding each
    // row's codes for columns 2i (low byte) and 2i + 1 (high byte) as signed q - 32; then d (P fp16,
    // lane order) and 8 groups of P 16-bit lanes holding each row's scales sc_2i | sc_2i+1 << 8. The
    // scales come after the codes because the kernels read them after the codes: a block read front to
    // back keeps the hardware prefetchers streaming (scales first: 8 against 19 Gw/s per core on the
    // AMD EPYC, weights streamed from memory; see KBlocks).
    // Bytes rather than the 6-bit packing: 30% more panel bytes for Q6_K tensors, half the operations
    // per column (two products of |q - 32| <= 32 with an 8-bit x fit 16 bits eight times over).

    /** META: where d and the scales start, after the codes, so that a block is read front to back. */
    private static final int SBB = 274, SCALES = 2 * P, CODES = 0, META = 256 * P;

    @Override boolean hasPanels() { return true; }

    @Override long panelBytes() { return (long) dim(1) / 256 * SBB * P; }

    @Override
    void repackPanel(byte[] src, byte[] dst) {
        int nb = dim(1) / 256, rb = nb * 210;
        int[] q = new int[256];
        for (int b = 0; b < nb; b++) {
            int o = b * SBB * P;
            for (int l = 0; l < P; l++) {
                int s = l * rb + b * 210;
                dst[o + META + 2 * l] = src[s + 208];
                dst[o + META + 2 * l + 1] = src[s + 209];
                for (int j = 0; j < 16; j++) dst[o + META + SCALES + 2 * P * (j >> 1) + 2 * l + (j & 1)] = src[s + 192 + j];
                for (int n = 0; n < 2; n++)
                    for (int i = 0; i < 32; i++) {
                        int a = src[s + 64 * n + i] & 0xff, c = src[s + 64 * n + 32 + i] & 0xff, h = src[s + 128 + 32 * n + i] & 0xff, k = 128 * n + i;
                        q[k] = ((a & 15) | (h & 3) << 4) - 32;
                        q[k + 32] = ((c & 15) | (h >>> 2 & 3) << 4) - 32;
                        q[k + 64] = ((a >>> 4) | (h >>> 4 & 3) << 4) - 32;
                        q[k + 96] = ((c >>> 4) | (h >>> 6) << 4) - 32;
                    }
                for (int k = 0, d = o + CODES + 2 * l; k < 256; k += 2, d += 2 * P) {
                    dst[d] = (byte) q[k];
                    dst[d + 1] = (byte) q[k + 1];
                }
            }
        }
    }

    @Override
    void int8Rows(MemorySegment pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        long panel = panelBytes();
        int nb = dim(1) / 256;
        Panels.Scratch sc = Panels.scratch();
        int[] sums = sc.ints(32 * P);
        float[] acc = sc.acc(P);
        for (int p = p0; p < p1; p++)
            for (int t = 0; t < a.tokens; t++) {
                java.util.Arrays.fill(acc, 0, P, 0f);
                long o = p * panel;
                for (int b = 0; b < nb; b++, o += (long) SBB * P) {
                    int8Sums(pk, o + CODES, a.q2, t * a.cols + 256 * b, sums);
                    int8Block(pk, o + META, a, t * a.blocks + 8 * b, sums, acc);
                }
                Panels.store(acc, 0, y, t * dim(0), p * P, dim(0), bias);
            }
    }

    /**
     * The block's 32 runs of 8 columns, each summed in 16 bits (at most 8 * 32 * 127 = 32512; even and
     * odd columns in two accumulators, two chains of adds as in Q4_0: +2% per core) and widened: rows
     * [0, P/2) of run h at {@code sums[2 h H ..]}, rows [P/2, P) at {@code sums[(2 h + 1) H ..]}.
     */
    private static void int8Sums(MemorySegment pk, long g, int[] q2, int x, int[] sums) {
        for (int h = 0; h < 32; h++) {
            ShortVector s = ShortVector.zero(S), t = s;
            for (int i = 0; i < 4; i++, g += 2L * P, x += 2) {
                ShortVector w = ShortVector.fromMemorySegment(S, pk, g, LE);
                s = s.add(w.lanewise(LSHL, 8).lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x]).reinterpretAsShorts()));
                t = t.add(w.lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 1]).reinterpretAsShorts()));
            }
            IntVector si = s.add(t).reinterpretAsInts();
            si.lanewise(LSHL, 16).lanewise(ASHR, 16).intoArray(sums, 2 * h * H);
            si.lanewise(ASHR, 16).intoArray(sums, (2 * h + 1) * H);
        }
    }

    /** The block's epilogue: per 16-column sub-block j, its two runs times {@code sc_j dx}, summed and scaled by the rows' {@code d} into {@code acc}. */
    private static void int8Block(MemorySegment pk, long o, Int8Activations a, int xb, int[] sums, float[] acc) {
        FloatVector uLo = FloatVector.zero(F), uHi = uLo;
        for (int i = 0; i < 8; i++) {
            IntVector v = IntVector.fromMemorySegment(I, pk, o + SCALES + 2L * P * i, LE);
            float dx = a.d[xb + i];
            int r = 8 * H * i;
            FloatVector s0 = (FloatVector) IntVector.fromArray(I, sums, r).add(IntVector.fromArray(I, sums, r + 2 * H)).convert(I2F, 0);
            FloatVector s1 = (FloatVector) IntVector.fromArray(I, sums, r + H).add(IntVector.fromArray(I, sums, r + 3 * H)).convert(I2F, 0);
            FloatVector s2 = (FloatVector) IntVector.fromArray(I, sums, r + 4 * H).add(IntVector.fromArray(I, sums, r + 6 * H)).convert(I2F, 0);
            FloatVector s3 = (FloatVector) IntVector.fromArray(I, sums, r + 5 * H).add(IntVector.fromArray(I, sums, r + 7 * H)).convert(I2F, 0);
            uLo = s0.mul(dx).fma((FloatVector) v.lanewise(LSHL, 24).lanewise(ASHR, 24).convert(I2F, 0), uLo);
            uHi = s1.mul(dx).fma((FloatVector) v.lanewise(LSHL, 8).lanewise(ASHR, 24).convert(I2F, 0), uHi);
            uLo = s2.mul(dx).fma((FloatVector) v.lanewise(LSHL, 16).lanewise(ASHR, 24).convert(I2F, 0), uLo);
            uHi = s3.mul(dx).fma((FloatVector) v.lanewise(ASHR, 24).convert(I2F, 0), uHi);
        }
        IntVector d = IntVector.fromMemorySegment(I, pk, o, LE);
        FloatVector dLo = d.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector dHi = d.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        dLo.fma(uLo, FloatVector.fromArray(F, acc, 0)).intoArray(acc, 0);
        dHi.fma(uHi, FloatVector.fromArray(F, acc, H)).intoArray(acc, H);
    }

    @Override
    void expand(MemorySegment pk, long o, int k0, int kn, float[] wk) {
        float[] sc = Panels.scratch().f(32 * H);
        o += (long) k0 / 256 * SBB * P;
        for (int b = 0; b < kn / 256; b++, o += (long) SBB * P) {
            expandScales(pk, o + META, sc);
            for (int j = 0; j < 16; j++) expandSub(pk, o + CODES + 16L * P * j, sc, j, wk, 256 * b + 16 * j);
        }
    }

    /** Per sub-block j: {@code d sc_j}, rows [0, P/2) at {@code sc[2 j H ..]}, rows [P/2, P) after them. */
    private static void expandScales(MemorySegment pk, long o, float[] sc) {
        IntVector d = IntVector.fromMemorySegment(I, pk, o, LE);
        FloatVector dLo = d.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector dHi = d.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        for (int i = 0; i < 8; i++) {
            IntVector v = IntVector.fromMemorySegment(I, pk, o + SCALES + 2L * P * i, LE);
            dLo.mul((FloatVector) v.lanewise(LSHL, 24).lanewise(ASHR, 24).convert(I2F, 0)).intoArray(sc, 4 * i * H);
            dHi.mul((FloatVector) v.lanewise(LSHL, 8).lanewise(ASHR, 24).convert(I2F, 0)).intoArray(sc, (4 * i + 1) * H);
            dLo.mul((FloatVector) v.lanewise(LSHL, 16).lanewise(ASHR, 24).convert(I2F, 0)).intoArray(sc, (4 * i + 2) * H);
            dHi.mul((FloatVector) v.lanewise(ASHR, 24).convert(I2F, 0)).intoArray(sc, (4 * i + 3) * H);
        }
    }

    /** Sub-block j's 16 columns, {@code (d sc_j) (q - 32)} as {@link #decodeBlock}. */
    private static void expandSub(MemorySegment pk, long g, float[] sc, int j, float[] wk, int k) {
        FloatVector dLo = FloatVector.fromArray(F, sc, 2 * j * H), dHi = FloatVector.fromArray(F, sc, (2 * j + 1) * H);
        for (int i = 0; i < 8; i++, g += 2L * P) {
            ShortVector w = ShortVector.fromMemorySegment(S, pk, g, LE);
            IntVector q0 = w.lanewise(LSHL, 8).lanewise(ASHR, 8).reinterpretAsInts(), q1 = w.lanewise(ASHR, 8).reinterpretAsInts();
            dLo.mul((FloatVector) q0.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0)).intoArray(wk, (k + 2 * i) * P);
            dHi.mul((FloatVector) q0.lanewise(ASHR, 16).convert(I2F, 0)).intoArray(wk, (k + 2 * i) * P + H);
            dLo.mul((FloatVector) q1.lanewise(LSHL, 16).lanewise(ASHR, 16).convert(I2F, 0)).intoArray(wk, (k + 2 * i + 1) * P);
            dHi.mul((FloatVector) q1.lanewise(ASHR, 16).convert(I2F, 0)).intoArray(wk, (k + 2 * i + 1) * P + H);
        }
    }
}

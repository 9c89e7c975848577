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

    // ---- Panels layout, per panel and block (274 P bytes): 8 chunks of 34 P bytes, one per 32 columns:
    // 16 groups of P 16-bit lanes holding each row's codes for columns 2i (low byte) and 2i + 1 (high
    // byte) as signed q - 32, then one group of P 16-bit lanes holding each row's scales of the chunk's
    // two sub-blocks, sc_2c | sc_2c+1 << 8; after the 8 chunks, d (P fp16, lane order). Every byte
    // sits where the kernel reads it, so a block is read front to back and the hardware prefetchers
    // keep streaming (scales first: 8 against 19 Gw/s per core on the AMD EPYC, weights streamed from
    // memory; see KBlocks).
    // Bytes rather than the 6-bit packing: 30% more panel bytes for Q6_K tensors, half the operations
    // per column (two products of |q - 32| <= 32 with an 8-bit x fit 16 bits eight times over).

    /** CHUNK: panel bytes per 32 columns (codes, then their scales); D: where d starts. */
    private static final int SBB = 274, CHUNK = 34 * P, SCALES = 32 * P, D = 272 * P;

    /** Where sub-block j's 16 columns of codes start within a block. */
    private static long codes(int j) { return (long) CHUNK * (j >> 1) + 16L * P * (j & 1); }

    @Override boolean hasPanels() { return true; }

    @Override long panelBytes() { return (long) dim(1) / 256 * SBB * P; }

    @Override
    void repackPanel(byte[] src, byte[] dst) {
        int nb = dim(1) / 256, rb = nb * 210;
        for (int b = 0; b < nb; b++) {
            int o = b * SBB * P;
            for (int l = 0; l < P; l++) {
                int s = l * rb + b * 210;
                dst[o + D + 2 * l] = src[s + 208];
                dst[o + D + 2 * l + 1] = src[s + 209];
                for (int j = 0; j < 16; j++) dst[o + CHUNK * (j >> 1) + SCALES + 2 * l + (j & 1)] = src[s + 192 + j];
                // value k of the block goes to byte k & 1 of lane pair (k & 31) / 2 of chunk k / 32
                for (int n = 0; n < 2; n++)
                    for (int i = 0, cb = o + 4 * CHUNK * n + 2 * l; i < 32; i++) {
                        int a = src[s + 64 * n + i] & 0xff, c = src[s + 64 * n + 32 + i] & 0xff, h = src[s + 128 + 32 * n + i] & 0xff;
                        int at = cb + P * (i & 30) + (i & 1);
                        dst[at] = (byte) (((a & 15) | (h & 3) << 4) - 32);
                        dst[at + CHUNK] = (byte) (((c & 15) | (h >>> 2 & 3) << 4) - 32);
                        dst[at + 2 * CHUNK] = (byte) (((a >>> 4) | (h >>> 4 & 3) << 4) - 32);
                        dst[at + 3 * CHUNK] = (byte) (((c >>> 4) | (h >>> 6) << 4) - 32);
                    }
            }
        }
    }

    @Override
    void int8Rows(MemorySegment pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        Panels.int8Blocks(Q6_KTensor::int8Block, pk, panelBytes(), (long) SBB * P, a, y, dim(0), p0, p1, bias);
    }

    /**
     * One block into {@code acc}, start to end in one method: per sub-block its two runs of 8 columns,
     * each summed in 16 bits (at most 8 * 32 * 127 = 32512; even and odd columns in two accumulators,
     * two chains of adds as in Q4_0: +2% per core), widened and added, times {@code sc_j dx}; then the
     * rows' {@code d}. The sums stay in registers (handed over through an array, the epilogue's loads
     * of the stored halves took a third of Q4_K's time in L2, see KBlocks). Paired against that, AMD
     * EPYC: 2 threads from memory 1.01-1.18x, 1 thread 1.06x, L2 about even. The two runs of a
     * sub-block are written out: as loops of 4 steps C2 kept a loop and its checks (written out: L2
     * 1.09x, AVX2 1.15x; 2 threads from memory 0.96-1.17x in six runs of both orders, 1.05 on average).
     *
     * <p>Tried: one byte group per column, widened by the load as Q4_K's nibbles are (no 16-bit shifts,
     * which C2 emits with the count in a register): 0.54x in L2, its 256-bit loads carried as much
     * scalar work each (range checks, the segment's liveness) as the 512-bit ones, and as loops of 4
     * steps C2 rebuilt its range-check limits on every entry; written out straight, 0.76x.
     */
    private static void int8Block(MemorySegment pk, long g, Int8Activations a, int x, int xb, float[] acc) {
        FloatVector uLo = FloatVector.zero(F), uHi = uLo;
        int[] q2 = a.q2;
        long o = g;
        for (int c = 0; c < 8; c++, g += 2L * P) {
            IntVector loA = IntVector.zero(I), hiA = loA, loB = loA, hiB = loA;
            for (int half = 0; half < 2; half++, g += 16L * P, x += 16) {
                ShortVector s = ShortVector.zero(S), t = s;
                ShortVector w0 = ShortVector.fromMemorySegment(S, pk, g + 0L * P, LE);
                s = s.add(w0.lanewise(LSHL, 8).lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 0]).reinterpretAsShorts()));
                t = t.add(w0.lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 1]).reinterpretAsShorts()));
                ShortVector w1 = ShortVector.fromMemorySegment(S, pk, g + 2L * P, LE);
                s = s.add(w1.lanewise(LSHL, 8).lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 2]).reinterpretAsShorts()));
                t = t.add(w1.lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 3]).reinterpretAsShorts()));
                ShortVector w2 = ShortVector.fromMemorySegment(S, pk, g + 4L * P, LE);
                s = s.add(w2.lanewise(LSHL, 8).lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 4]).reinterpretAsShorts()));
                t = t.add(w2.lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 5]).reinterpretAsShorts()));
                ShortVector w3 = ShortVector.fromMemorySegment(S, pk, g + 6L * P, LE);
                s = s.add(w3.lanewise(LSHL, 8).lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 6]).reinterpretAsShorts()));
                t = t.add(w3.lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 7]).reinterpretAsShorts()));
                ShortVector s2 = ShortVector.zero(S), t2 = s2;
                ShortVector w4 = ShortVector.fromMemorySegment(S, pk, g + 8L * P, LE);
                s2 = s2.add(w4.lanewise(LSHL, 8).lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 8]).reinterpretAsShorts()));
                t2 = t2.add(w4.lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 9]).reinterpretAsShorts()));
                ShortVector w5 = ShortVector.fromMemorySegment(S, pk, g + 10L * P, LE);
                s2 = s2.add(w5.lanewise(LSHL, 8).lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 10]).reinterpretAsShorts()));
                t2 = t2.add(w5.lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 11]).reinterpretAsShorts()));
                ShortVector w6 = ShortVector.fromMemorySegment(S, pk, g + 12L * P, LE);
                s2 = s2.add(w6.lanewise(LSHL, 8).lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 12]).reinterpretAsShorts()));
                t2 = t2.add(w6.lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 13]).reinterpretAsShorts()));
                ShortVector w7 = ShortVector.fromMemorySegment(S, pk, g + 14L * P, LE);
                s2 = s2.add(w7.lanewise(LSHL, 8).lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 14]).reinterpretAsShorts()));
                t2 = t2.add(w7.lanewise(ASHR, 8).mul(IntVector.broadcast(I, q2[x + 15]).reinterpretAsShorts()));
                IntVector r1 = s.add(t).reinterpretAsInts(), r2 = s2.add(t2).reinterpretAsInts();
                loA = loB;
                hiA = hiB;
                loB = r1.lanewise(LSHL, 16).lanewise(ASHR, 16).add(r2.lanewise(LSHL, 16).lanewise(ASHR, 16));
                hiB = r1.lanewise(ASHR, 16).add(r2.lanewise(ASHR, 16));
            }
            // sub-blocks 2c (A) and 2c + 1 (B); their scales follow the chunk's codes, at g now
            float dx = a.d[xb + c];
            IntVector v = IntVector.fromMemorySegment(I, pk, g, LE);
            uLo = ((FloatVector) loA.convert(I2F, 0)).mul(dx).fma((FloatVector) v.lanewise(LSHL, 24).lanewise(ASHR, 24).convert(I2F, 0), uLo);
            uHi = ((FloatVector) hiA.convert(I2F, 0)).mul(dx).fma((FloatVector) v.lanewise(LSHL, 8).lanewise(ASHR, 24).convert(I2F, 0), uHi);
            uLo = ((FloatVector) loB.convert(I2F, 0)).mul(dx).fma((FloatVector) v.lanewise(LSHL, 16).lanewise(ASHR, 24).convert(I2F, 0), uLo);
            uHi = ((FloatVector) hiB.convert(I2F, 0)).mul(dx).fma((FloatVector) v.lanewise(ASHR, 24).convert(I2F, 0), uHi);
        }
        IntVector d = IntVector.fromMemorySegment(I, pk, o + D, LE);
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
            expandScales(pk, o, sc);
            for (int j = 0; j < 16; j++) expandSub(pk, o + codes(j), sc, j, wk, 256 * b + 16 * j);
        }
    }

    /** Per sub-block j: {@code d sc_j}, rows [0, P/2) at {@code sc[2 j H ..]}, rows [P/2, P) after them. */
    private static void expandScales(MemorySegment pk, long o, float[] sc) {
        IntVector d = IntVector.fromMemorySegment(I, pk, o + D, LE);
        FloatVector dLo = d.lanewise(LSHL, 16).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        FloatVector dHi = d.and(0xffff0000).lanewise(ASHR, 3).and(0x8fffffff).reinterpretAsFloats().mul(Panels.REBIAS);
        for (int i = 0; i < 8; i++) {
            IntVector v = IntVector.fromMemorySegment(I, pk, o + (long) CHUNK * i + SCALES, LE);
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

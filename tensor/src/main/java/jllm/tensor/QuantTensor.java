package jllm.tensor;

import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * A ggml block-quantized matrix: a little-endian segment of blocks, each holding
 * {@link GgmlType#blockSize} values. Rows are whole blocks (the GGUF rule), so row views and
 * block boundaries always coincide and a kernel never has to start mid-block.
 *
 * <p>Subclasses give a scalar {@link #decodeBlock} written straight from the format (used by
 * {@link #read}, {@link #get} and misaligned dots); the hot types also override {@link #dotBlocks}
 * and {@link #matmulRows} with fused Vector API kernels.
 *
 * <p>Why every type has its own {@code matmulRows} loop calling its own kernel: the loop must sit in
 * a method of the final class, where C2 knows the receiver exactly and inlines that one kernel. A
 * loop shared in this class gets compiled on its own with a call-site profile that has seen two
 * types (Q4_K and Q6_K in every Q4_K_M model); C2 then inlines both kernels into one method, runs
 * past its inlining node budget (NodeCountInliningCutoff) and leaves the Vector API calls after
 * that point un-intrinsified, allocating every vector: 1 token/s instead of 15. (Q8_0 and Q4_0 share
 * {@link #tiledMatmulRows}; their kernels are small enough.)
 */
public abstract sealed class QuantTensor extends Tensor
        permits Q8_0Tensor, Q4_0Tensor, Q4_1Tensor, Q5_0Tensor, Q5_1Tensor, Q4_KTensor, Q5_KTensor, Q6_KTensor {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final java.lang.foreign.ValueLayout.OfShort LES = JAVA_SHORT_UNALIGNED.withOrder(LE);

    final MemorySegment seg;
    final GgmlType type;
    final int bs, bb;
    final long rowBytes;

    QuantTensor(GgmlType type, MemorySegment seg, long[] shape) {
        super(shape);
        this.type = type;
        this.bs = type.blockSize;
        this.bb = type.blockBytes;
        if (shape.length == 0) throw new IllegalArgumentException(type + " tensors need at least one dimension");
        this.rowBytes = type.rowBytes(shape[shape.length - 1]);
        long need = type.bytes(shape);
        if (seg.byteSize() != need)
            throw new IllegalArgumentException(type + Shapes.str(shape) + " needs " + need + " bytes, got " + seg.byteSize());
        this.seg = seg;
    }

    public final GgmlType ggmlType() { return type; }

    /** The {@link Panels} copy of the weights for the kernels ({@link QuantMatmul}), built on first use. */
    private volatile MemorySegment panels;

    /** Whether this format has {@link Panels} kernels. */
    boolean hasPanels() { return false; }

    /** Bytes of one {@link Panels#P}-row panel of the repacked layout. */
    long panelBytes() { throw new UnsupportedOperationException(type + " has no panel kernels"); }

    /**
     * One panel of the repacked layout into {@code dst}, from {@code src}: the panel's rows as stored,
     * {@link #rowBytes} each, in lane order ({@link Panels#laneRow}), rows past the end as zeros.
     */
    void repackPanel(byte[] src, byte[] dst) { throw new UnsupportedOperationException(type + " has no panel kernels"); }

    /** Panels {@code [p0, p1)} of {@code y = x W^T (+ bias)} for all of {@code a}'s tokens, from the repacked layout {@code pk}. */
    void int8Rows(MemorySegment pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        throw new UnsupportedOperationException(type + " has no panel kernels");
    }

    /**
     * Columns {@code [k0, k0 + kn)} of the panel at {@code pk[off..]} as fp32 weights, column-major:
     * {@code wk[(k - k0) P + r]} = row {@code r} of the panel (rows in order), column {@code k}; values
     * exactly as {@link #decodeBlock} gives them. {@code k0} and {@code kn} are whole blocks
     * ({@link QuantMatmul#CHUNK} is a multiple of every block size).
     */
    void expand(MemorySegment pk, long off, int k0, int kn, float[] wk) {
        throw new UnsupportedOperationException(type + " has no panel kernels");
    }

    /**
     * The repacked layout, built once (in parallel on {@code par}). The stored bytes stay this
     * tensor's {@link #segment()}; where they are a read-only file mapping, its pages are released
     * afterwards (the kernels no longer read them; a later read faults them back in from the file).
     */
    final MemorySegment panels(Parallel par) {
        MemorySegment pk = panels;
        if (pk != null) return pk;
        synchronized (this) {
            if (panels == null) {
                int rows = dim(0), n = (rows + Panels.P - 1) / Panels.P;
                long pb = panelBytes();
                MemorySegment dst = Panels.allocate(n * pb);
                par.forRange(n, 1, (a, b) -> {
                    byte[] src = new byte[Math.toIntExact(Panels.P * rowBytes)], out = new byte[Math.toIntExact(pb)];
                    for (int p = a; p < b; p++) {
                        java.util.Arrays.fill(src, (byte) 0);
                        for (int l = 0; l < Panels.P; l++) {
                            long r = (long) p * Panels.P + Panels.laneRow(l);
                            if (r < rows) MemorySegment.copy(seg, java.lang.foreign.ValueLayout.JAVA_BYTE, r * rowBytes, src, (int) (l * rowBytes), (int) rowBytes);
                        }
                        repackPanel(src, out);
                        MemorySegment.copy(out, 0, dst, java.lang.foreign.ValueLayout.JAVA_BYTE, p * pb, out.length);
                    }
                });
                if (seg.isMapped() && seg.isReadOnly()) seg.unload();
                panels = dst;
            }
            return panels;
        }
    }

    @Override
    public final MemorySegment segment() { return seg; }

    abstract QuantTensor make(MemorySegment seg, long[] shape);

    /** Byte offsets of the block's fp16 scales (and mins): a block decodes to finite values exactly when they are finite. */
    abstract int[] scaleOffsets();

    /** Elements of blocks with a NaN or infinite scale: only the scales are read. */
    @Override
    public final long nonFinite() {
        int[] at = scaleOffsets();
        long blocks = seg.byteSize() / bb, bad = 0;
        for (long b = 0, o = 0; b < blocks; b++, o += bb)
            for (int a : at)
                if ((seg.get(LES, o + a) & 0x7c00) == 0x7c00) {
                    bad += bs;
                    break;
                }
        return bad;
    }

    /** Decodes the block at byte offset {@code off} into {@code dst[dstOff .. dstOff + bs)}. */
    abstract void decodeBlock(long off, float[] dst, int dstOff);

    final float half(long off) { return Float.float16ToFloat(seg.get(LES, off)); }

    final int u8(long off) { return seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, off) & 0xff; }

    @Override
    public final float get(long i) {
        if (i < 0 || i >= numel) throw new IndexOutOfBoundsException(i);
        float[] tmp = new float[bs];
        decodeBlock(i / bs * bb, tmp, 0);
        return tmp[(int) (i % bs)];
    }

    @Override
    public final void read(long from, float[] dst, int dstOff, int n) {
        float[] tmp = null;
        long i = from, end = from + n;
        while (i < end) {
            long blk = i / bs;
            int inBlk = (int) (i - blk * bs), take = (int) Math.min(bs - inBlk, end - i);
            if (take == bs) {
                decodeBlock(blk * bb, dst, dstOff + (int) (i - from));
            } else {
                if (tmp == null) tmp = new float[bs];
                decodeBlock(blk * bb, tmp, 0);
                System.arraycopy(tmp, inBlk, dst, dstOff + (int) (i - from), take);
            }
            i += take;
        }
    }

    @Override
    public final float dot(long from, float[] x, int xOff, int n) {
        if (from % bs == 0 && n % bs == 0) return dotBlocks(from / bs, n / bs, x, xOff);
        // Misaligned runs (not produced by matmul) decode block by block.
        float[] tmp = new float[bs];
        float sum = 0;
        long i = from, end = from + n;
        while (i < end) {
            long blk = i / bs;
            int inBlk = (int) (i - blk * bs), take = (int) Math.min(bs - inBlk, end - i);
            decodeBlock(blk * bb, tmp, 0);
            int xo = xOff + (int) (i - from);
            for (int k = 0; k < take; k++) sum += tmp[inBlk + k] * x[xo + k];
            i += take;
        }
        return sum;
    }

    /**
     * Dot of {@code nb} whole blocks starting at block {@code blk} with {@code x[xOff..]}: each block is
     * decoded (vectorised {@link #decodeBlock}) into a small buffer that stays in L1, then FMA-ed.
     *
     * <p>The fallback of every type whose fused kernel needs 512-bit vectors (they override this and
     * call it on other vector shapes). Vectors never cross a method boundary: decodeBlock hands its
     * result over in the buffer. One flat loop, because C2 did not scalar-replace an accumulator
     * carried through nested loops.
     */
    float dotBlocks(long blk, int nb, float[] x, int xOff) {
        float[] tmp = new float[bs];
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        long off = blk * bb;
        for (int i = 0, j = bs, n = nb * bs; i < n; i += 2 * L, j += 2 * L) {
            if (j == bs) {
                decodeBlock(off, tmp, 0);
                off += bb;
                j = 0;
            }
            a0 = FloatVector.fromArray(F, tmp, j).fma(FloatVector.fromArray(F, x, xOff + i), a0);
            a1 = FloatVector.fromArray(F, tmp, j + L).fma(FloatVector.fromArray(F, x, xOff + i + L), a1);
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public final Tensor rows(long from, long count) {
        checkRows(from, count);
        long rb = rowSize() / bs * bb;
        return make(seg.asSlice(from * rb, count * rb), rowsShape(count));
    }

    @Override
    public final Tensor reshape(long... newShape) {
        checkReshape(newShape);
        return make(seg, newShape);
    }

    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;

    /** 16 bytes at {@code off}. */
    final ByteVector bytes16(long off) { return ByteVector.fromMemorySegment(B16, seg, off, LE); }

    /**
     * Bits {@code [n, n + width)} of every byte, moved to bit {@code to}: one shift pair and a mask on
     * 32-bit lanes (the mask drops what crossed in from neighbouring bytes), fewer operations than
     * byte-wise shift helpers chained, which matters in the K-quant kernels (C2 inlining budget).
     */
    static ByteVector bits(ByteVector v, int n, int width, int to) {
        int m = ((1 << width) - 1) * 0x01010101;
        IntVector i = v.reinterpretAsInts().lanewise(VectorOperators.LSHR, n).and(m);
        return (to == 0 ? i : i.lanewise(VectorOperators.LSHL, to)).reinterpretAsBytes();
    }

    /** Each byte shifted right by {@code n} with zeros in (x86 has no byte shift: shift 32-bit lanes, mask the spill). */
    static ByteVector shr(ByteVector v, int n) {
        return v.reinterpretAsInts().lanewise(VectorOperators.LSHR, n).reinterpretAsBytes().and((byte) (0xff >>> n));
    }

    /** Each byte shifted left by {@code n} (low bits zero). */
    static ByteVector shl(ByteVector v, int n) {
        return v.reinterpretAsInts().lanewise(VectorOperators.LSHL, n).reinterpretAsBytes().and((byte) (0xff << n));
    }

    private static final jdk.incubator.vector.VectorShuffle<Byte> QH_LO = jdk.incubator.vector.VectorShuffle.fromValues(B16, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    private static final jdk.incubator.vector.VectorShuffle<Byte> QH_HI = jdk.incubator.vector.VectorShuffle.fromValues(B16, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    private static final ByteVector BIT = ByteVector.fromArray(B16, new byte[] {1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128}, 0);

    /*
     * The fifth bits of a Q5_0/Q5_1 block as 16 bytes of 0 or 16: qh holds the block's 32-bit high-bit
     * word in its first four bytes, bit j belonging to value j. Each byte picks up its word byte
     * (a constant shuffle), keeps its own bit, and an unsigned min with 1 turns that into 0/1 — no
     * masks, which C2 boxed when this sat in a kernel loop.
     */
    static ByteVector fifthBitsLow(ByteVector qh) {
        return shl(qh.rearrange(QH_LO).and(BIT).lanewise(VectorOperators.UMIN, (byte) 1), 4);
    }

    static ByteVector fifthBitsHigh(ByteVector qh) {
        return shl(qh.rearrange(QH_HI).and(BIT).lanewise(VectorOperators.UMIN, (byte) 1), 4);
    }

    /** 16 bytes (as signed values) widened to 16 floats; needs 512-bit float vectors. */
    static FloatVector widen16(ByteVector v) { return (FloatVector) v.convertShape(VectorOperators.B2F, F, 0); }

    /**
     * The Q4_1 / Q5_1 dot, {@code sum = d sum(q x) + m sum(x)} per 32-value block (d, m the two fp16
     * halves at the block start): nibbles at {@code qs}, the 32-bit fifth-bit word at {@code qh}
     * (negative: none). One block per step of one flat loop, so C2 keeps both accumulators in registers.
     */
    final float scaleMinDot(long blk, int nb, float[] x, int xOff, int qs, int qh) {
        FloatVector acc = FloatVector.zero(F), mins = acc;
        long o = blk * bb;
        for (int b = 0; b < nb; b++, o += bb) {
            int xo = xOff + b * 32;
            ByteVector v = bytes16(o + qs), lo = v.and((byte) 15), hi = shr(v, 4);
            if (qh >= 0) {
                ByteVector h = bytes16(o + qh);
                lo = lo.or(fifthBitsLow(h));
                hi = hi.or(fifthBitsHigh(h));
            }
            FloatVector xa = FloatVector.fromArray(F, x, xo), xb = FloatVector.fromArray(F, x, xo + 16);
            FloatVector s = widen16(hi).fma(xb, widen16(lo).mul(xa));
            acc = s.fma(FloatVector.broadcast(F, half(o)), acc);
            mins = xa.add(xb).fma(FloatVector.broadcast(F, half(o + 2)), mins);
        }
        return acc.add(mins).reduceLanes(VectorOperators.ADD);
    }

    /**
     * Vector decode of a Q4_K/Q5_K block at {@code off}: nibbles at {@code qs} bytes into the block,
     * fifth bits at {@code qh} (negative: none); one {@link #kSub32} call per sub-block.
     */
    final void kDecodeBlock(long off, float[] dst, int o, int qs, int qh) {
        float[] sm = new float[16];
        KQuant.scalesAndMins(seg, off, sm);
        for (int j = 0; j < 8; j++)
            kSub32(off + qs + 32 * (j >>> 1), 4 * (j & 1), qh < 0 ? -1 : off + qh, j, sm[j], sm[8 + j], dst, o + 32 * j);
    }

    /**
     * Decodes one 32-value Q4_K/Q5_K sub-block, {@code q * dj - mj}: nibbles (at bit {@code shift}) of
     * the 32 bytes at {@code q}, fifth bit {@code bit} of the 32 bytes at {@code qh} (negative: none).
     * Called from a loop with nothing else vectorised, so one inlined copy stays within C2's budget.
     */
    final void kSub32(long q, int shift, long qh, int bit, float dj, float mj, float[] dst, int y) {
        ByteVector q0 = bits(bytes16(q), shift, 4, 0), q1 = bits(bytes16(q + 16), shift, 4, 0);
        if (qh >= 0) {
            q0 = q0.or(bits(bytes16(qh), bit, 1, 4));
            q1 = q1.or(bits(bytes16(qh + 16), bit, 1, 4));
        }
        widen16(q0).mul(dj).sub(mj).intoArray(dst, y);
        widen16(q1).mul(dj).sub(mj).intoArray(dst, y + 16);
    }

    /**
     * The Q4_K / Q5_K dot: {@code d sc sum(q x) - dmin m sum(x)} per 32-value sub-block, nibbles at
     * {@code qs} (bytes into the block), fifth bits at {@code qh} (negative: none). One sub-block per
     * step of one flat loop; scales unpacked once per block.
     */
    final float kQuantDot(long blk, int nb, float[] x, int xOff, int qs, int qh) {
        FloatVector acc = FloatVector.zero(F), mins = acc;
        float[] sm = new float[16];
        long base = blk * bb;
        for (int p = 0, n = nb * 8; p < n; p++) {
            int j = p & 7;
            long off = base + (long) (p >>> 3) * bb, q = off + qs + 32 * (j >>> 1);
            if (j == 0) KQuant.scalesAndMins(seg, off, sm);
            int shift = 4 * (j & 1), xo = xOff + 32 * p;
            ByteVector q0 = bits(bytes16(q), shift, 4, 0), q1 = bits(bytes16(q + 16), shift, 4, 0);
            if (qh >= 0) {
                q0 = q0.or(bits(bytes16(off + qh), j, 1, 4));
                q1 = q1.or(bits(bytes16(off + qh + 16), j, 1, 4));
            }
            FloatVector xa = FloatVector.fromArray(F, x, xo), xb = FloatVector.fromArray(F, x, xo + 16);
            FloatVector s = widen16(q1).fma(xb, widen16(q0).mul(xa));
            acc = s.fma(FloatVector.broadcast(F, sm[j]), acc);
            mins = xa.add(xb).fma(FloatVector.broadcast(F, sm[8 + j]), mins);
        }
        return acc.sub(mins).reduceLanes(VectorOperators.ADD);
    }
}

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
 */
public abstract sealed class QuantTensor extends Tensor
        permits Q8_0Tensor, Q4_0Tensor, Q4_1Tensor, Q5_0Tensor, Q5_1Tensor, Q4_KTensor, Q5_KTensor, Q6_KTensor {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /** Bytes that widen to one float vector. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 4));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(F.vectorBitSize()));
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

    @Override
    public final MemorySegment segment() { return seg; }

    abstract QuantTensor make(MemorySegment seg, long[] shape);

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

    /** Dot of {@code nb} whole blocks starting at block {@code blk} with {@code x[xOff..]}. */
    float dotBlocks(long blk, int nb, float[] x, int xOff) {
        float[] tmp = new float[bs];
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            decodeBlock((blk + b) * bb, tmp, 0);
            int xo = xOff + b * bs;
            for (int j = 0; j < bs; j += L)
                acc = FloatVector.fromArray(F, tmp, j).fma(FloatVector.fromArray(F, x, xo + j), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
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

    /** Each byte shifted right by {@code n} with zeros in (x86 has no byte shift: shift 32-bit lanes, mask the spill). */
    static ByteVector shr(ByteVector v, int n) {
        return v.reinterpretAsInts().lanewise(VectorOperators.LSHR, n).reinterpretAsBytes().and((byte) (0xff >>> n));
    }

    /** Each byte shifted left by {@code n} (low bits zero). */
    static ByteVector shl(ByteVector v, int n) {
        return v.reinterpretAsInts().lanewise(VectorOperators.LSHL, n).reinterpretAsBytes().and((byte) (0xff << n));
    }

    /** 16 bytes (as signed values) widened to 16 floats; needs 512-bit float vectors. */
    static FloatVector widen16(ByteVector v) { return (FloatVector) v.convertShape(VectorOperators.B2F, F, 0); }

    /** Widens {@code L} signed bytes at {@code off} to floats. */
    final FloatVector bytesToFloats(long off) {
        return (FloatVector) ByteVector.fromMemorySegment(B, seg, off, LE).convertShape(VectorOperators.B2F, F, 0);
    }

    /** Widens {@code L} bytes at {@code off} to ints (sign-extended; callers mask the nibbles they need). */
    final IntVector bytesToInts(long off) {
        return (IntVector) ByteVector.fromMemorySegment(B, seg, off, LE).convertShape(VectorOperators.B2I, I, 0);
    }

    private static final int ROW_BLOCK = 32;

    /** Two output rows against four tokens, for types with a fused prefill kernel ({@link #tiledMatmulRows}). */
    void tile2x4(float[] x, float[] y, int r, int t, int in, int out, int nb, float[] bias) {
        throw new UnsupportedOperationException(type + " has no prefill tile");
    }

    /** Two output rows against eight tokens (512-bit vectors only). */
    void tile2x8(float[] x, float[] y, int r, int t, int in, int out, int nb, float[] bias) {
        throw new UnsupportedOperationException(type + " has no prefill tile");
    }

    /**
     * The shared schedule of the fused types: decode (one token) goes row by row through
     * {@link #dotBlocks}; prefill walks blocks of {@value #ROW_BLOCK} rows, covering the tokens with
     * 2x8 tiles, then 2x4 tiles, then single dots for what is left over.
     */
    final void tiledMatmulRows(float[] x, int tokens, float[] y, int r0, int r1, float[] bias, int blockSize) {
        int in = dim(1), out = dim(0), nb = in / blockSize;
        if (tokens == 1) {
            // One row at a time: a four-row variant sharing x loads ran at half the speed (C2 spills it).
            int r = r0;
            for (; r < r1; r++) y[r] = dotBlocks((long) r * nb, nb, x, 0) + (bias == null ? 0f : bias[r]);
            return;
        }
        for (int rb = r0; rb < r1; rb += ROW_BLOCK) {
            int re = Math.min(r1, rb + ROW_BLOCK);
            int t = 0;
            if (L == 16)
                for (; t + 8 <= tokens; t += 8) {
                    int r = rb;
                    for (; r + 2 <= re; r += 2) tile2x8(x, y, r, t, in, out, nb, bias);
                    for (; r < re; r++)
                        for (int tt = t; tt < t + 8; tt++) y[tt * out + r] = dotBlocks((long) r * nb, nb, x, tt * in) + (bias == null ? 0f : bias[r]);
                }
            for (; t + 4 <= tokens; t += 4) {
                int r = rb;
                for (; r + 2 <= re; r += 2) tile2x4(x, y, r, t, in, out, nb, bias);
                for (; r < re; r++)
                    for (int tt = t; tt < t + 4; tt++) y[tt * out + r] = dotBlocks((long) r * nb, nb, x, tt * in) + (bias == null ? 0f : bias[r]);
            }
            for (; t < tokens; t++)
                for (int r = rb; r < re; r++) y[t * out + r] = dotBlocks((long) r * nb, nb, x, t * in) + (bias == null ? 0f : bias[r]);
        }
    }
}

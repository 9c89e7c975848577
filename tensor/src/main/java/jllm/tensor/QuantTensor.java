package jllm.tensor;

import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A ggml block-quantized matrix: a little-endian segment of blocks, each holding
 * {@link GgmlType#blockSize} values. Rows are whole blocks (the GGUF rule), so row views and
 * block boundaries always coincide and a kernel never has to start mid-block.
 *
 * <p>Each format is one subclass with: a scalar {@link #decodeBlock} written straight from the format
 * (the reference: {@link #read}, {@link #get}, {@link #dot}); {@link #repackPanel}, which lays its
 * blocks out as {@link Panels} (rows as vector lanes, built once per tensor); and the kernels over
 * that layout, {@link #int8Rows} (int8 activations) and {@link #expand} (fp32 weights for the fp32
 * GEMM), which {@link QuantMatmul} schedules. The repacked layout is a second view of the same tensor:
 * {@link #segment()} stays the file's bytes.
 */
public abstract sealed class QuantTensor extends Tensor
        permits Q8_0Tensor, Q4_0Tensor, Q4_1Tensor, Q5_0Tensor, Q5_1Tensor, Q4_KTensor, Q5_KTensor, Q6_KTensor {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final java.lang.foreign.ValueLayout.OfShort LES = JAVA_SHORT_UNALIGNED.withOrder(LE);
    /**
     * Little-endian ints (Q5_0's and Q5_1's fifth bits). A constant: {@code withOrder} builds a new
     * layout at each call, and called per 32-value block it was the backward pass's top allocation
     * (it decodes the weights block by block; JFR, AMD EPYC Zen 5), dX 1.5-1.9x slower.
     */
    static final java.lang.foreign.ValueLayout.OfInt LEI = java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);

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
    public final DType dtype() { return type.dtype; }

    /** The {@link Panels} copy of the weights for the kernels ({@link QuantMatmul}), built on first use. */
    private volatile Panels.Store panels;
    /** Where {@link #panels} goes when it is built, if placed beforehand ({@link #placePanels}). */
    private volatile Panels.Store placed;

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
    void int8Rows(Panels.Store pk, Int8Activations a, float[] y, int p0, int p1, float[] bias) {
        throw new UnsupportedOperationException(type + " has no panel kernels");
    }

    /**
     * Columns {@code [k0, k0 + kn)} of panel {@code p} of {@code pk} as fp32 weights, column-major:
     * {@code wk[(k - k0) P + r]} = row {@code r} of the panel (rows in order), column {@code k}; values
     * exactly as {@link #decodeBlock} gives them. {@code k0} and {@code kn} are whole blocks
     * ({@link QuantMatmul#CHUNK} is a multiple of every block size).
     */
    void expand(Panels.Store pk, int p, int k0, int kn, float[] wk) {
        throw new UnsupportedOperationException(type + " has no panel kernels");
    }

    /**
     * The optional arrays of {@link Int8Activations} that {@link #int8Rows} reads ({@link Int8Activations#HI2},
     * {@link Int8Activations#Y5}, {@link Int8Activations#Y6}; made only for the formats that read them).
     */
    int activationExtras() { return 0; }

    /** Whether this format has {@link #expand16}, the 16-bit codes of the int8-activation prefill tile. */
    boolean hasInt16() { return false; }

    /**
     * Columns {@code [k0, k0 + kn)} of panel {@code p} of {@code pk} for the int8-activation prefill
     * tile ({@link QuantMatmul}): centred codes {@code wk[wo + (k - k0) ws + lane]} in panel lane order,
     * small enough that 32 of them times int8 activations sum within 16 bits, and per 32 columns
     * {@code b} the rows' scale {@code sc[so + b ws + r]} and offset {@code mn[so + b ws + r]} (rows in
     * order), so that the weight is {@code sc code + mn}. Returns false when every offset is zero
     * (then {@code mn} is not written). {@code k0} and {@code kn} are whole blocks.
     */
    boolean expand16(Panels.Store pk, int p, int k0, int kn, short[] wk, int wo, int ws, float[] sc, float[] mn, int so) {
        throw new UnsupportedOperationException(type + " has no 16-bit tile");
    }

    /**
     * Whether this format's panels are heap arrays ({@link Panels.Store}); false keeps them in native
     * memory, for kernels that read them with long offsets (Q6_K, see there).
     */
    boolean heapPanels() { return true; }

    /** Panels of {@link Panels#P} rows in the repacked layout, the last one padded. */
    final int panelCount() { return (dim(0) + Panels.P - 1) / Panels.P; }

    /**
     * The repacked layout, built once (in parallel on {@code par}). The stored bytes stay this
     * tensor's {@link #segment()}; where they are a read-only file mapping, its pages are released
     * afterwards (the kernels no longer read them; a later read faults them back in from the file).
     */
    final Panels.Store panels(Parallel par) {
        Panels.Store pk = panels;
        if (pk != null) return pk;
        synchronized (this) {
            if (panels == null) {
                int rows = dim(0), n = panelCount();
                long pb = panelBytes();
                Panels.Store dst;
                try {
                    dst = placed != null ? placed : new Panels.Store(n, pb, heapPanels());
                    dst.allocateShared();
                } catch (OutOfMemoryError e) {
                    throw new IllegalStateException("no heap left for the repacked weights of " + this + " (" + n * pb / (1 << 20)
                            + " MiB); give java more with JLLM_JAVA_OPTS=-Xmx...", e);
                }
                par.forRange(n, 1, (a, b) -> {
                    byte[] src = new byte[Math.toIntExact(Panels.P * rowBytes)], out = new byte[dst.bytes];
                    for (int p = a; p < b; p++) {
                        java.util.Arrays.fill(src, (byte) 0);
                        for (int l = 0; l < Panels.P; l++) {
                            long r = (long) p * Panels.P + Panels.laneRow(l);
                            if (r < rows) MemorySegment.copy(seg, java.lang.foreign.ValueLayout.JAVA_BYTE, r * rowBytes, src, (int) (l * rowBytes), (int) rowBytes);
                        }
                        repackPanel(src, out);
                        dst.put(p, out);
                    }
                });
                if (seg.isMapped() && seg.isReadOnly()) seg.unload();
                panels = dst;
                placed = null;
            }
            return panels;
        }
    }

    /**
     * Before the panels of several tensors are built: the small ones with heap panels get their places
     * in shared arrays ({@link Panels.Store#place}); the rest allocate their own when built.
     */
    static void placePanels(java.util.List<QuantTensor> ws) {
        java.util.List<QuantTensor> heap = new java.util.ArrayList<>();
        for (QuantTensor w : ws) if (w.hasPanels() && w.panels == null && w.placed == null && w.heapPanels()) heap.add(w);
        int[] n = new int[heap.size()];
        long[] bytes = new long[heap.size()];
        for (int i = 0; i < n.length; i++) {
            n[i] = heap.get(i).panelCount();
            bytes[i] = heap.get(i).panelBytes();
        }
        Panels.Store[] at = Panels.Store.place(n, bytes);
        for (int i = 0; i < at.length; i++) heap.get(i).placed = at[i];
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

    /**
     * The reference dot product: each block decoded ({@link #decodeBlock}), then multiplied. The
     * kernels ({@link QuantMatmul}) do not use it; tests and cold paths do.
     */
    @Override
    public final float dot(long from, float[] x, int xOff, int n) {
        float[] tmp = new float[bs];
        float sum = 0;
        long i = from, end = from + n;
        while (i < end) {
            long blk = i / bs;
            int inBlk = (int) (i - blk * bs), take = (int) Math.min(bs - inBlk, end - i);
            decodeBlock(blk * bb, tmp, 0);
            sum += CpuBackend.dot(tmp, inBlk, x, xOff + (int) (i - from), take);
            i += take;
        }
        return sum;
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
}

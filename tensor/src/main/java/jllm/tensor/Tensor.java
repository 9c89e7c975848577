package jllm.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A read-only weight matrix or vector as stored (mmapped file bytes or heap), viewed as fp32.
 *
 * <p>Each storage format (F32, F16, BF16, and later the GGUF quant types) is one subclass that
 * overrides the kernels reading its bytes: {@link #dot} for matrix-vector products and
 * {@link #read} for decoding a run of elements. Everything else — matmul scheduling, threading —
 * is written once against this type, so adding a format means writing one dot kernel.
 *
 * <p>Matrices are row-major {@code [rows, cols]} like PyTorch's {@code nn.Linear.weight}
 * ({@code [out_features, in_features]}).
 */
public abstract class Tensor {
    protected final long[] shape;
    protected final long numel;

    protected Tensor(long[] shape) {
        this.shape = shape.clone();
        this.numel = Shapes.numel(shape);
    }

    public abstract DType dtype();

    public final long[] shape() { return shape.clone(); }

    public final int dim(int i) { return Math.toIntExact(shape[i < 0 ? shape.length + i : i]); }

    public final int rank() { return shape.length; }

    public final long numel() { return numel; }

    /** Element {@code i} (flat index) as fp32; for tests and cold paths only. */
    public abstract float get(long i);

    /** Decodes {@code n} elements starting at flat index {@code from} into {@code dst[dstOff..]}. */
    public void read(long from, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) dst[dstOff + i] = get(from + i);
    }

    /**
     * Rows {@code [row0, row0 + rows)} of a matrix widened to fp32 in {@link PanelMatmul}'s
     * interleaved layout (four rows at a time, each column's four weights adjacent), where the format
     * can widen its rows straight into it (F16, BF16: one pass instead of {@link #read} and an
     * interleaving pass); false where it cannot (the caller then reads the rows and interleaves them
     * itself).
     */
    boolean readInterleaved(int row0, int rows, float[] wt) { return false; }

    /** {@code sum_i this[from + i] * x[xOff + i]} for {@code i < n}, accumulated in fp32. */
    public abstract float dot(long from, float[] x, int xOff, int n);

    /**
     * Rows {@code [r0, r1)} of {@code y = x W^T (+ bias)} for {@code tokens} rows of {@code x}:
     * {@code y[t * out + r] = dot(row r, x[t * in ..]) + bias[r]}. The backend splits output rows over
     * threads and calls this per chunk; formats override it with kernels that read each weight block
     * once for several rows and tokens.
     */
    public void matmulRows(float[] x, int tokens, float[] y, int r0, int r1, float[] bias) {
        int in = dim(1), out = dim(0);
        for (int r = r0; r < r1; r++) {
            long wOff = (long) r * in;
            float b = bias == null ? 0f : bias[r];
            for (int t = 0; t < tokens; t++) y[t * out + r] = dot(wOff, x, t * in, in) + b;
        }
    }

    /**
     * How many elements are NaN or infinite. Formats override this with a scan of the stored bits
     * (dense types) or of the block scales alone (block-quantized types: integer codes times a finite
     * scale are always finite), so checking a model at load costs a pass over the bytes at most, not
     * a decode of every weight.
     */
    public long nonFinite() {
        float[] buf = new float[1 << 14];
        long bad = 0;
        for (long off = 0; off < numel; off += buf.length) {
            int n = (int) Math.min(buf.length, numel - off);
            read(off, buf, 0, n);
            for (int i = 0; i < n; i++) if (!Float.isFinite(buf[i])) bad++;
        }
        return bad;
    }

    /** The raw bytes behind this tensor, when it has any (for writers and hashing). */
    public abstract MemorySegment segment();

    /** All elements as a fresh fp32 array (small tensors: norms, biases, tests). */
    public final float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(numel)];
        read(0, out, 0, out.length);
        return out;
    }

    /** Row {@code r} of a matrix decoded to fp32. */
    public final float[] row(int r) {
        int cols = dim(-1);
        float[] out = new float[cols];
        read((long) r * cols, out, 0, cols);
        return out;
    }

    /** A view of rows {@code [from, from + count)} of a matrix (e.g. Q out of a fused QKV weight). */
    public abstract Tensor rows(long from, long count);

    /** A view with another shape of the same number of elements. */
    public abstract Tensor reshape(long... newShape);

    protected final void checkRows(long from, long count) {
        long rowsTotal = shape.length == 0 ? 1 : shape[0];
        if (from < 0 || count < 0 || from + count > rowsTotal)
            throw new IllegalArgumentException("rows [" + from + ", " + (from + count) + ") outside " + Shapes.str(shape));
    }

    protected final long[] rowsShape(long count) {
        long[] s = shape.clone();
        s[0] = count;
        return s;
    }

    protected final long rowSize() {
        return shape.length == 0 ? 1 : numel / Math.max(1, shape[0]);
    }

    protected final void checkReshape(long[] newShape) {
        if (Shapes.numel(newShape) != numel)
            throw new IllegalArgumentException("cannot reshape " + Shapes.str(shape) + " to " + Shapes.str(newShape));
    }

    @Override
    public String toString() {
        return dtype() + Shapes.str(shape);
    }
}

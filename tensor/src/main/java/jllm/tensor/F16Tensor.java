package jllm.tensor;

import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** IEEE half precision. */
public final class F16Tensor extends SegmentTensor {
    private static final java.lang.foreign.ValueLayout.OfShort LES = JAVA_SHORT_UNALIGNED.withOrder(LE);
    /** 2^112: rebiases a half exponent (bias 15) placed in an fp32 exponent field (bias 127). */
    private static final float REBIAS = 0x1p112f;

    public F16Tensor(MemorySegment seg, long... shape) { super(seg, shape); }

    @Override public DType dtype() { return DType.F16; }

    @Override Tensor make(MemorySegment s, long[] shape) { return new F16Tensor(s, shape); }

    @Override public float get(long i) { return Float.float16ToFloat(data().get(LES, i * 2)); }

    @Override
    public void read(long from, float[] dst, int dstOff, int n) {
        MemorySegment d = data();
        int i = 0;
        for (int upper = n - F.length(); i <= upper; i += F.length()) load(d, (from + i) * 2).intoArray(dst, dstOff + i);
        for (; i < n; i++) dst[dstOff + i] = Float.float16ToFloat(d.get(LES, (from + i) * 2));
    }

    /**
     * Widening without a per-lane branch and without a subnormal operand (slow on Intel, {@link
     * CpuInfo#slowSubnormals}): normal halves get their exponent rebiased by an integer add, subnormal
     * ones ({@code m 2^-24}) come from converting their 10 mantissa bits, and exponent 31 (inf/NaN) is
     * patched with a mask; the sign is or-ed back in.
     */
    private static FloatVector load(MemorySegment seg, long byteOff) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, seg, byteOff, LE).convertShape(VectorOperators.S2I, I, 0);
        IntVector mag = h.and(0x7fff), shifted = mag.lanewise(VectorOperators.LSHL, 13);
        FloatVector v = ((FloatVector) shifted.add(0x38000000).reinterpretShape(F, 0))
                .blend(((FloatVector) mag.convertShape(VectorOperators.I2F, F, 0)).mul(0x1p-24f), mag.compare(VectorOperators.LT, 0x400).cast(F));
        IntVector bits = ((IntVector) v.reinterpretShape(I, 0)).blend(shifted.or(0x7f800000), mag.compare(VectorOperators.GE, 0x7c00));
        return ((FloatVector) bits.or(h.and(0x80000000)).reinterpretShape(F, 0));
    }

    @Override
    public float dot(long from, float[] x, int xOff, int n) {
        MemorySegment d = data();
        long base = from * 2;
        int step = F.length(), i = 0;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        for (int upper = n - 2 * step; i <= upper; i += 2 * step) {
            a0 = load(d, base + i * 2L).fma(FloatVector.fromArray(F, x, xOff + i), a0);
            a1 = load(d, base + (i + step) * 2L).fma(FloatVector.fromArray(F, x, xOff + i + step), a1);
        }
        for (int upper = n - step; i <= upper; i += step)
            a0 = load(d, base + i * 2L).fma(FloatVector.fromArray(F, x, xOff + i), a0);
        float r = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) r += Float.float16ToFloat(d.get(LES, base + i * 2L)) * x[xOff + i];
        return r;
    }

    private static final int ROW_BLOCK = 32;

    private static final ThreadLocal<Object[]> ROW = ThreadLocal.withInitial(() -> new Object[] {new short[0], new float[0]});

    /** Where the kernels read the weights: {@link #seg}, or its copy on huge pages ({@link #prepare}). */
    private volatile MemorySegment data;

    /**
     * Before a matmul: scans for inf/NaN once, and where {@link #hugeCopy} asks for it copies a large
     * tensor that lives in native memory (the model file's mapping) onto transparent huge pages, once,
     * in parallel, releasing the mapping's pages. Decode reads every weight once per token, and on 4
     * KiB pages that stream ran 20-35% slower per CPU-second on the AMD EPYC Zen 4.
     */
    void prepare(Parallel par) {
        if (data != null) return;
        synchronized (this) {
            if (data != null) return;
            allFinite(); // scanned here, before the mapping's pages are released
            MemorySegment d = seg;
            long bytes = seg.byteSize();
            if (hugeCopy && seg.isNative() && bytes >= 8L << 20) {
                MemorySegment h = Panels.allocateHuge(bytes);
                if (h != null) {
                    long per = 2L << 20;
                    int chunks = Math.toIntExact((bytes + per - 1) / per);
                    boolean release = seg.isMapped() && seg.isReadOnly();
                    // Each chunk's file pages are released right after its copy, so the peak is not both copies.
                    par.forRange(chunks, 1, (a, b) -> {
                        for (int c = a; c < b; c++) {
                            long from = c * per, n = Math.min(bytes, from + per) - from;
                            MemorySegment.copy(seg, from, h, from, n);
                            if (release) seg.asSlice(from, n).unload();
                        }
                    });
                    d = h;
                }
            }
            data = d;
        }
    }

    /**
     * For prefill: {@link #interleaveHalves} with {@link #dotFinite}'s widening, times 2^112, for
     * tensors without inf/NaN. Its multiply does see the subnormal halves, slow on Intel ({@link
     * CpuInfo#slowSubnormals}), but once per weight for all the tokens: steering them around it as
     * decode does ({@link #guardedStreams}) measured slower (46.8 against 50.5 GMAC/s, [2048, 2048] x
     * 128 tokens of N(0, 0.02^2) weights, one thread, Intel Xeon family 6 model 207).
     */
    @Override
    boolean readInterleaved(int row0, int rows, float[] wt) {
        return allFinite() && interleaveHalves(data(), row0, rows, 13, 0x8fffffff, REBIAS, wt);
    }

    /** Whether the kernels steer subnormal halves away from their multiplies ({@link CpuInfo#slowSubnormals}); tests switch it. */
    static volatile boolean guardSubnormals = CpuInfo.slowSubnormals();
    private static final long[] NONE = new long[0];
    /** {@link #subnormalChunks}; null until scanned. */
    private volatile long[] subnormals;

    /** Words of {@link #subnormalChunks} per row of {@code in} columns. */
    private static int chunkWords(int in) { return (in + 2047) >>> 11; }

    /**
     * Where CPUs with slow subnormals ({@link #guardSubnormals}) have work to do: per row {@link #chunkWords}
     * words, bit {@code c % 64} of word {@code c / 64} set where columns {@code [32 c, 32 c + 32)} hold
     * a subnormal half (zero is not one); {@link #NONE} where no half is subnormal or the CPU is not
     * slow with them. Found by the inf/NaN scan ({@link #scan}), before the first matmul. A 32-column chunk is one cache line of halves
     * and one step of the 512-bit decode kernel ({@link #guardedStreams}); a real model has subnormal halves in a few percent of
     * its chunks (N(0, 0.02) weights: 7.4%), so a flag per row or per tensor would send nearly
     * everything down the slow path.
     */
    long[] subnormalChunks() {
        if (!guardSubnormals) return NONE;
        long[] s = subnormals;
        if (s == null) {
            synchronized (this) {
                if (subnormals == null) scan();
                s = subnormals;
            }
        }
        return s;
    }

    /**
     * Off by default: on the development VMs filling huge pages cost 0.2-2.7 s per GiB at the first
     * matmul (host-side faults), i.e. 2-3 s more to the first token of a 1B F16 model, for ~6% faster
     * decode (AMD EPYC). {@code -Djllm.f16.hugepages=true} turns it on (tests switch it here).
     */
    static volatile boolean hugeCopy = Boolean.getBoolean("jllm.f16.hugepages");

    private MemorySegment data() { MemorySegment d = data; return d != null ? d : seg; }

    /** 0: not scanned yet; 1: every element finite; 2: some inf or NaN (see {@link #dotFinite}). */
    private volatile int finiteState;

    @Override
    public synchronized long nonFinite() { return scan(); }

    private boolean allFinite() {
        int s = finiteState;
        if (s == 0) {
            synchronized (this) {
                if (finiteState == 0) scan();
                s = finiteState;
            }
        }
        return s == 1;
    }

    /**
     * One pass over the weights for the inf/NaN count ({@link #finiteState}) and, where {@link
     * #guardSubnormals}, the subnormal chunks ({@link #subnormals}): two passes cost the 1B F16 model
     * 0.3-0.5 s more before its first token on the Intel Xeon. Returns the count; the caller holds the lock.
     */
    private long scan() {
        if (!guardSubnormals) {
            long bad = countExponentAllOnes(0x7c00);
            finiteState = bad == 0 ? 1 : 2;
            return bad;
        }
        MemorySegment d = data();
        int in = Math.toIntExact(rowSize()), wpr = chunkWords(in);
        long rows = numel / Math.max(1, in), bad = 0;
        long[] bits = new long[Math.toIntExact(rows * wpr)];
        VectorSpecies<Short> sp = ShortVector.SPECIES_PREFERRED;
        boolean any = false;
        for (long r = 0; r < rows; r++) {
            long base = r * in * 2;
            int w = (int) (r * wpr), c = 0;
            for (; c + sp.length() <= in; c += sp.length()) {
                ShortVector m = ShortVector.fromMemorySegment(sp, d, base + c * 2L, LE).and((short) 0x7fff);
                bad += m.compare(VectorOperators.GE, (short) 0x7c00).trueCount();
                // m - 1 below 0x3ff, unsigned: exponent 0 and a nonzero mantissa
                if (m.sub((short) 1).compare(VectorOperators.ULT, (short) 0x3ff).anyTrue()) {
                    bits[w + (c >>> 11)] |= 1L << (c >>> 5);
                    any = true;
                }
            }
            for (; c < in; c++) {
                int m = d.get(LES, base + c * 2L) & 0x7fff;
                if (m >= 0x7c00) bad++;
                if (m != 0 && m < 0x400) {
                    bits[w + (c >>> 11)] |= 1L << (c >>> 5);
                    any = true;
                }
            }
        }
        subnormals = any ? bits : NONE;
        finiteState = bad == 0 ? 1 : 2;
        return bad;
    }

    /**
     * Decode (1-3 tokens). Tensors without inf/NaN (every real model; the loader scans and warns
     * otherwise) widen in registers with three vector operations per 16 weights ({@link #dotFinite}),
     * reading the weights straight from the mapping, four rows a quarter of the range apart at a time
     * ({@link #streamRows}): the stream then runs at the memory bandwidth. On CPUs where subnormal
     * operands are slow ({@link CpuInfo#slowSubnormals}) the steps that would multiply one go another
     * way ({@link #guardedStreams}): Intel Xeon, one thread, [512, 2048] of N(0, 0.02^2) weights in L2,
     * 8.7-9.8 Gw/s against 5.3-5.4 (11-12.5 either way for weights without subnormal halves), the
     * same bits. There, too, the rows prefetch ahead of their reads ({@link Prefetch#ROW_AHEAD}): the
     * 1B F16 model's decode beside llama.cpp's went from 0.98x to 1.22x (thirty-fourth round).
     * Otherwise each row is widened to fp32 into an L1-resident array first, then dotted with every
     * token: the plain loop over {@link Float#float16ToFloat} compiles to the CPU's own conversion
     * instruction (vcvtph2ps), but copying, widening and dotting in three passes made decode
     * compute-bound at 70-80% of the bandwidth on the AMD EPYC; that path also serves activations
     * that {@link #prescaled} cannot scale exactly. Both give the same values in the same summation
     * order as {@link #dot}.
     */
    private void fewTokens(float[] x, int tokens, float[] y, int r0, int r1, float[] bias) {
        int in = dim(1), out = dim(0);
        MemorySegment d = data();
        float[] xs;
        int r = r0;
        if (allFinite() && (xs = prescaled(x, tokens * in)) != null) {
            long[] sub = subnormalChunks();
            if (sub.length == 0) {
                r = streamRows(d, 13, 0x8fffffff, xs, tokens, y, r0, r1, bias);
                for (; r < r1; r++) {
                    float b = bias == null ? 0f : bias[r];
                    for (int t = 0; t < tokens; t++) y[t * out + r] = dotFinite(d, (long) r * in * 2, xs, x, t * in, in) + b;
                }
                return;
            }
            r = guardedRows(d, sub, xs, x, tokens, y, r0, r1, bias);
        }
        Object[] buf = ROW.get();
        if (((short[]) buf[0]).length < in) { buf[0] = new short[in]; buf[1] = new float[in]; }
        short[] h = (short[]) buf[0];
        float[] w = (float[]) buf[1];
        for (; r < r1; r++) {
            MemorySegment.copy(d, LES, (long) r * in * 2, h, 0, in);
            for (int i = 0; i < in; i++) w[i] = Float.float16ToFloat(h[i]);
            float b = bias == null ? 0f : bias[r];
            for (int t = 0; t < tokens; t++) y[t * out + r] = dotWidened(w, x, t * in, in) + b;
        }
    }

    /**
     * {@link #streamRows} for CPUs with slow subnormals, with {@link #subnormalChunks} {@code sub}: the
     * same four streams and summation order; returns the first row left to the caller.
     */
    private int guardedRows(MemorySegment g, long[] sub, float[] xs, float[] x, int tokens, float[] y, int r0, int r1, float[] bias) {
        int in = dim(1), out = dim(0), q = (r1 - r0) / STREAMS, wpr = chunkWords(in);
        if (q == 0 || in % (2 * F.length()) != 0) return r0;
        long rb = in * 2L;
        float[] exact = EXACT.get();
        for (int i = 0; i < q; i++)
            for (int t = 0; t < tokens; t++)
                guardedStreams(g, (r0 + i) * rb, q * rb, sub, (r0 + i) * wpr, q * wpr, xs, x, t * in, in, y, t * out + r0 + i, q, bias, r0 + i, exact);
        return r0 + STREAMS * q;
    }

    /**
     * SegmentTensor's four-row decode stream ({@link #STREAMS} rows) for F16, where a step whose 32-column chunk holds a
     * subnormal half in any of the four rows (bit {@code i / 32} of the rows' OR-ed words {@code w, w +
     * wq, ...}) widens to the exact values, without a multiply, and multiplies them by the unscaled {@code x}: the same
     * real products as {@code (w 2^-112)(x 2^112)}, so the same bits, without a subnormal operand. The
     * other steps are streamRows' three-operation widening, written out again (a shared helper
     * returning vectors would be boxed, and a flag test in the shared loop would cost the BF16 and
     * non-Intel paths).
     *
     * <p>The exact widening of a subnormal step is a method of its own ({@link #exactStep}, through
     * {@code exact}, a scratch of eight vectors): written out here as well, it made this method large
     * enough that C2 sometimes left its last FMAs as calls to the Vector API's Java fallbacks (the
     * late inlining of {@code VectorSupport.ternaryOp} failed for the subnormal branch's FMAs; which
     * ones depended on the compile), and the whole decode then ran at 5-20% of its speed for the rest
     * of the process: `bench kernels --types f16,q8_0` f16 at 9-24% in 4 of 9 runs at 256 bits and 1 of
     * 3 at 512 (Intel Xeon, thirtieth round).
     */
    private static void guardedStreams(MemorySegment g, long base, long stride, long[] sub, int w0, int wq, float[] xs, float[] x, int xOff, int n, float[] y, int yo, int q, float[] bias, int r, float[] exact) {
        int step = F.length();
        long o = base, s2 = 2 * stride, s3 = 3 * stride, half = step * 2L;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        for (int i = 0, w = w0; i < n; w++) {
            long m = sub[w] | sub[w + wq] | sub[w + 2 * wq] | sub[w + 3 * wq];
            for (int end = Math.min(n, i + 2048); i < end; i += 2 * step, o += 2 * half) {
                if (Prefetch.KERNELS && (i & (Prefetch.ROW_EVERY - 1)) == 0) Prefetch.rowsAhead(g, o, stride);
                if ((m >>> (i >>> 5) & 1) == 0) {
                    FloatVector x0 = FloatVector.fromArray(F, xs, xOff + i), x1 = FloatVector.fromArray(F, xs, xOff + i + step);
                    a0 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretShape(F, 0)).fma(x0, a0);
                    a1 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + half, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretShape(F, 0)).fma(x1, a1);
                    b0 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + stride, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretShape(F, 0)).fma(x0, b0);
                    b1 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + stride + half, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretShape(F, 0)).fma(x1, b1);
                    c0 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + s2, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretShape(F, 0)).fma(x0, c0);
                    c1 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + s2 + half, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretShape(F, 0)).fma(x1, c1);
                    d0 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + s3, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretShape(F, 0)).fma(x0, d0);
                    d1 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(S, g, o + s3 + half, LE).convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretShape(F, 0)).fma(x1, d1);
                } else {
                    exactStep(g, o, stride, half, exact);
                    FloatVector x0 = FloatVector.fromArray(F, x, xOff + i), x1 = FloatVector.fromArray(F, x, xOff + i + step);
                    a0 = FloatVector.fromArray(F, exact, 0).fma(x0, a0);
                    a1 = FloatVector.fromArray(F, exact, step).fma(x1, a1);
                    b0 = FloatVector.fromArray(F, exact, 2 * step).fma(x0, b0);
                    b1 = FloatVector.fromArray(F, exact, 3 * step).fma(x1, b1);
                    c0 = FloatVector.fromArray(F, exact, 4 * step).fma(x0, c0);
                    c1 = FloatVector.fromArray(F, exact, 5 * step).fma(x1, c1);
                    d0 = FloatVector.fromArray(F, exact, 6 * step).fma(x0, d0);
                    d1 = FloatVector.fromArray(F, exact, 7 * step).fma(x1, d1);
                }
            }
        }
        y[yo] = a0.add(a1).reduceLanes(VectorOperators.ADD) + (bias == null ? 0f : bias[r]);
        y[yo + q] = b0.add(b1).reduceLanes(VectorOperators.ADD) + (bias == null ? 0f : bias[r + q]);
        y[yo + 2 * q] = c0.add(c1).reduceLanes(VectorOperators.ADD) + (bias == null ? 0f : bias[r + 2 * q]);
        y[yo + 3 * q] = d0.add(d1).reduceLanes(VectorOperators.ADD) + (bias == null ? 0f : bias[r + 3 * q]);
    }

    private static final ThreadLocal<float[]> EXACT = ThreadLocal.withInitial(() -> new float[8 * F.length()]);

    /**
     * The exact values of one step of {@link #guardedStreams} (the four rows at {@code o}, {@code o +
     * stride}, ..., two vectors each) into {@code out}, row by row: normal halves rebiased by an
     * integer add; for exponent 0 that add gives {@code +-2^-15 (1 + m / 1024)}, below 2^-14 in
     * magnitude as no normal half is, and twice its distance from {@code +-2^-15} is {@code m 2^-24}.
     */
    private static void exactStep(MemorySegment g, long o, long stride, long half, float[] out) {
        int step = F.length();
        for (int k = 0; k < 8; k++) {
            IntVector s = ((IntVector) ShortVector.fromMemorySegment(S, g, o + (k >> 1) * stride + (k & 1) * half, LE)
                    .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8fffffff);
            FloatVector v = (FloatVector) s.add(0x38000000).reinterpretShape(F, 0);
            v.blend(v.sub((FloatVector) s.and(0x80000000).or(0x38000000).reinterpretShape(F, 0)).mul(2f), v.abs().compare(VectorOperators.LT, 0x1p-14f))
                    .intoArray(out, k * step);
        }
    }

    private static final ThreadLocal<float[][]> SCALED = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    /**
     * {@code x} times 2^112 in a per-thread array, or null where that is not exact (some {@code |x|}
     * at or above 2^16, or not finite). The finite-weight kernels then skip the multiply by 2^112 that
     * completes each widened weight ({@link #dotFinite}): {@code (w 2^-112)(x 2^112)} is the same real
     * product as {@code w x}, so the FMA rounds to the same bits, and the widening takes three vector
     * operations per 16 weights instead of four. On the AMD EPYC decode is compute-bound enough
     * that this shows: see docs/quantization-and-speed.md, tenth round.
     */
    private static float[] prescaled(float[] x, int n) {
        float[][] box = SCALED.get();
        if (box[0].length < n) box[0] = new float[n];
        float[] xs = box[0];
        int i = 0;
        FloatVector m = FloatVector.zero(F);
        for (int upper = n - F.length(); i <= upper; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            m = m.max(v.abs());
            v.mul(REBIAS).intoArray(xs, i);
        }
        float max = m.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, Math.abs(x[i]));
            xs[i] = x[i] * REBIAS;
        }
        return max < 0x1p16f ? xs : null;
    }

    /**
     * {@link #dot} of finite weights starting at byte {@code base}: each half, sign-extended to 32
     * bits and shifted left by 13, has its exponent and mantissa in fp32's fields and its sign in bit
     * 31 (bits 28-30 hold copies of it, cleared by the mask); times 2^112 (the exponent bias
     * difference) that is exactly the half's value, normal or subnormal. That factor is taken by
     * {@code xs}, x times 2^112 ({@link #prescaled}); {@code x} itself serves the scalar tail. Exponent
     * 31 (inf/NaN) would come out finite, hence {@link #allFinite}. The vector code is written out in the loop: a helper
     * returning a vector is boxed once C2 stops inlining (docs/quantization-and-speed.md).
     */
    private static float dotFinite(MemorySegment seg, long base, float[] xs, float[] x, int xOff, int n) {
        int step = F.length(), i = 0;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        for (int upper = n - 2 * step; i <= upper; i += 2 * step) {
            IntVector h0 = (IntVector) ShortVector.fromMemorySegment(S, seg, base + i * 2L, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector h1 = (IntVector) ShortVector.fromMemorySegment(S, seg, base + (i + step) * 2L, LE).convertShape(VectorOperators.S2I, I, 0);
            FloatVector w0 = (FloatVector) h0.lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretShape(F, 0);
            FloatVector w1 = (FloatVector) h1.lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretShape(F, 0);
            a0 = w0.fma(FloatVector.fromArray(F, xs, xOff + i), a0);
            a1 = w1.fma(FloatVector.fromArray(F, xs, xOff + i + step), a1);
        }
        for (int upper = n - step; i <= upper; i += step) {
            IntVector h0 = (IntVector) ShortVector.fromMemorySegment(S, seg, base + i * 2L, LE).convertShape(VectorOperators.S2I, I, 0);
            a0 = ((FloatVector) h0.lanewise(VectorOperators.LSHL, 13).and(0x8fffffff).reinterpretShape(F, 0)).fma(FloatVector.fromArray(F, xs, xOff + i), a0);
        }
        float r = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) r += Float.float16ToFloat(seg.get(LES, base + i * 2L)) * x[xOff + i];
        return r;
    }

    /** {@link #dot} over a row already widened to fp32. */
    private static float dotWidened(float[] w, float[] x, int xOff, int n) {
        int step = F.length(), i = 0;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        for (int upper = n - 2 * step; i <= upper; i += 2 * step) {
            a0 = FloatVector.fromArray(F, w, i).fma(FloatVector.fromArray(F, x, xOff + i), a0);
            a1 = FloatVector.fromArray(F, w, i + step).fma(FloatVector.fromArray(F, x, xOff + i + step), a1);
        }
        for (int upper = n - step; i <= upper; i += step) a0 = FloatVector.fromArray(F, w, i).fma(FloatVector.fromArray(F, x, xOff + i), a0);
        float r = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) r += w[i] * x[xOff + i];
        return r;
    }

    @Override
    public void matmulRows(float[] x, int tokens, float[] y, int r0, int r1, float[] bias) {
        int in = dim(1), out = dim(0);
        if (tokens < 4 || in % F.length() != 0) {
            fewTokens(x, tokens, y, r0, r1, bias);
            return;
        }
        for (int rb = r0; rb < r1; rb += ROW_BLOCK) {
            int re = Math.min(r1, rb + ROW_BLOCK);
            int t = 0;
            for (; t + 4 <= tokens; t += 4) {
                int r = rb;
                for (; r + 2 <= re; r += 2) tile2x4(x, y, r, t, in, out, bias);
                for (; r < re; r++)
                    for (int tt = t; tt < t + 4; tt++) y[tt * out + r] = dot((long) r * in, x, tt * in, in) + (bias == null ? 0f : bias[r]);
            }
            for (; t < tokens; t++)
                for (int r = rb; r < re; r++) y[t * out + r] = dot((long) r * in, x, t * in, in) + (bias == null ? 0f : bias[r]);
        }
    }

    /**
     * Two rows against four tokens: each widened weight vector feeds four FMAs. (A 2 x 8 tile, as the
     * quant types use, made C2 give up inlining the half-precision loads in the model and box them.)
     */
    private void tile2x4(float[] x, float[] y, int r, int t, int in, int out, float[] bias) {
        MemorySegment d = data();
        long o0 = (long) r * in * 2, o1 = o0 + in * 2L;
        int x0 = t * in, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in;
        FloatVector z = FloatVector.zero(F), c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
        for (int k = 0; k < in; k += F.length()) {
            FloatVector w0 = load(d, o0 + k * 2L), w1 = load(d, o1 + k * 2L), v;
            v = FloatVector.fromArray(F, x, x0 + k); c00 = w0.fma(v, c00); c10 = w1.fma(v, c10);
            v = FloatVector.fromArray(F, x, x1 + k); c01 = w0.fma(v, c01); c11 = w1.fma(v, c11);
            v = FloatVector.fromArray(F, x, x2 + k); c02 = w0.fma(v, c02); c12 = w1.fma(v, c12);
            v = FloatVector.fromArray(F, x, x3 + k); c03 = w0.fma(v, c03); c13 = w1.fma(v, c13);
        }
        float b0 = bias == null ? 0f : bias[r], b1 = bias == null ? 0f : bias[r + 1];
        y[(t + 0) * out + r] = c00.reduceLanes(VectorOperators.ADD) + b0;
        y[(t + 0) * out + r + 1] = c10.reduceLanes(VectorOperators.ADD) + b1;
        y[(t + 1) * out + r] = c01.reduceLanes(VectorOperators.ADD) + b0;
        y[(t + 1) * out + r + 1] = c11.reduceLanes(VectorOperators.ADD) + b1;
        y[(t + 2) * out + r] = c02.reduceLanes(VectorOperators.ADD) + b0;
        y[(t + 2) * out + r + 1] = c12.reduceLanes(VectorOperators.ADD) + b1;
        y[(t + 3) * out + r] = c03.reduceLanes(VectorOperators.ADD) + b0;
        y[(t + 3) * out + r + 1] = c13.reduceLanes(VectorOperators.ADD) + b1;
    }
}

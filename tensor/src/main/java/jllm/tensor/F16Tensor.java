package jllm.tensor;

import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

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

    private static final ThreadLocal<float[][]> ROW = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

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
     * CpuInfo#slowSubnormals}), but once per weight for all the tokens: steering them around it, as
     * decode did until the thirty-eighth round, measured slower (46.8 against 50.5 GMAC/s, [2048, 2048]
     * x 128 tokens of N(0, 0.02^2) weights, one thread, Intel Xeon family 6 model 207).
     */
    @Override
    boolean readInterleaved(int row0, int rows, float[] wt) {
        return allFinite() && interleaveHalves(data(), row0, rows, 13, 0x8fffffff, REBIAS, wt);
    }

    /**
     * Whether decode widens the rows with the CPU's conversion instruction ({@link #widenedRows}):
     * where subnormal operands are slow ({@link CpuInfo#slowSubnormals}), unless {@code
     * -Djllm.f16.widen=off}; tests switch it.
     */
    static volatile boolean widenRows = CpuInfo.slowSubnormals() && !"off".equals(System.getProperty("jllm.f16.widen"));

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

    /** The inf/NaN count, kept as {@link #finiteState}; the caller holds the lock. */
    private long scan() {
        long bad = countExponentAllOnes(0x7c00);
        finiteState = bad == 0 ? 1 : 2;
        return bad;
    }

    /**
     * Decode (1-3 tokens). Where subnormal operands are slow ({@link #widenRows}, Intel) the rows are
     * widened by the CPU's own conversion instruction, a chunk of four rows at a time ({@link
     * #widenedRows}). Elsewhere tensors without inf/NaN (every real model; the loader scans and warns
     * otherwise) widen in registers with three vector operations per 16 weights ({@link #dotFinite}),
     * reading the weights straight from the mapping, four rows a quarter of the range apart at a time
     * ({@link #streamRows}): the stream then runs at the memory bandwidth. What is left (and
     * activations that {@link #prescaled} cannot scale exactly) is widened a row at a time into an
     * L1-resident array by {@link #widen} (vcvtph2ps), then dotted with every token: as the only
     * path (then copying each row to a short array first, three passes) that made decode
     * compute-bound at 70-80% of the bandwidth on the AMD EPYC. All give the same values in the same
     * summation order as {@link #dot}.
     */
    private void fewTokens(float[] x, int tokens, float[] y, int r0, int r1, float[] bias) {
        int in = dim(1), out = dim(0);
        MemorySegment d = data();
        float[] xs;
        int r = r0;
        if (widenRows) {
            r = widenedRows(d, x, tokens, y, r0, r1, bias);
        } else if (allFinite() && (xs = prescaled(x, tokens * in)) != null) {
            r = streamRows(d, 13, 0x8fffffff, xs, tokens, y, r0, r1, bias);
            for (; r < r1; r++) {
                float b = bias == null ? 0f : bias[r];
                for (int t = 0; t < tokens; t++) y[t * out + r] = dotFinite(d, (long) r * in * 2, xs, x, t * in, in) + b;
            }
            return;
        }
        float[][] buf = ROW.get();
        if (buf[0].length < in) buf[0] = new float[in];
        float[] w = buf[0];
        for (; r < r1; r++) {
            widen(d, (long) r * in * 2, w, 0, in);
            float b = bias == null ? 0f : bias[r];
            for (int t = 0; t < tokens; t++) y[t * out + r] = dotWidened(w, x, t * in, in) + b;
        }
    }

    /** Columns of each of the four rows that {@link #widenedRows} widens at a time: 8 KiB of fp32 scratch, beside x in L1. */
    private static final int WIDE = 512;

    /**
     * Floats (128 bytes, two lines) left unused before and after each thread's scratch, so that no
     * other object shares a line it writes. A young collection copies the threads' scratch arrays next
     * to each other, and the two threads' stores to {@code acc} and the widened rows (one line per
     * 512 columns) then took lines from each other's cores: the 1B F16 decode ran at 7.1-7.8 tok/s in
     * about a third of the processes and 9.3-10.1 in the rest, the same in every step of a process
     * (Intel Xeon family 6 model 167, 2 threads, at 256 and 512 bits); with the margins 9.5-10.1 in 11
     * of 11 at 256 bits (thirty-ninth round).
     */
    private static final int PAD = 32;
    private static final ThreadLocal<float[][]> WIDENED = ThreadLocal.withInitial(() -> new float[][] {new float[PAD + STREAMS * WIDE + PAD], new float[0]});

    /**
     * The four-row decode stream ({@link #streamRows}' rows) for CPUs with slow subnormals: per {@link
     * #WIDE} columns the four rows' halves are widened into an L1 scratch by {@link #widen}
     * (vcvtph2ps, which takes subnormal halves at full speed and gives fp32 values the FMAs take at full
     * speed too), then every token's FMAs read them, the rows prefetched {@link Prefetch#ROW_AHEAD}
     * bytes ahead. The same summation order as {@link #dot}; each token's accumulators live in {@code
     * acc} between chunks (an exact store and reload). It replaced a kernel that widened in registers
     * and steered the 32-column steps holding a subnormal half (a quarter of the steps of four N(0,
     * 0.02^2) rows) through an exact widening without a multiply: Intel Xeon (family 6 model 167), F16
     * [8192, 2048] from memory, two threads, 13.0-13.8 Gw/s against 9.5-10.0 at 256 bits, 13.1-13.7
     * against 12.1-13.5 at 512 and 10.2-10.4 against 6.5 at 128; the 1B F16 model's decode beside
     * llama.cpp's 1.18x against 0.96x at AVX2 and 1.20x against 1.13x at AVX-512 (thirty-eighth
     * round). Without the prefetch 11.4 Gw/s at 256 bits and 11.8 at 512. Returns the first row left
     * to the caller.
     */
    private int widenedRows(MemorySegment g, float[] x, int tokens, float[] y, int r0, int r1, float[] bias) {
        int in = dim(1), out = dim(0), q = (r1 - r0) / STREAMS, step = F.length(), per = 8 * step;
        if (q == 0 || in % (2 * step) != 0) return r0;
        long rb = in * 2L, stride = q * rb;
        float[][] box = WIDENED.get();
        if (box[1].length < PAD + tokens * per + PAD) box[1] = new float[PAD + tokens * per + PAD];
        float[] w = box[0], acc = box[1];
        for (int i = 0; i < q; i++) {
            long base = (r0 + i) * rb;
            java.util.Arrays.fill(acc, PAD, PAD + tokens * per, 0f);
            for (int c = 0; c < in; c += WIDE) {
                int len = Math.min(WIDE, in - c);
                long o = base + c * 2L;
                if (Prefetch.KERNELS) Prefetch.four(g, o + Prefetch.ROW_AHEAD, o + stride + Prefetch.ROW_AHEAD, o + 2 * stride + Prefetch.ROW_AHEAD, o + 3 * stride + Prefetch.ROW_AHEAD, len * 2 / Prefetch.LINE);
                widen(g, o, w, PAD, len);
                widen(g, o + stride, w, PAD + WIDE, len);
                widen(g, o + 2 * stride, w, PAD + 2 * WIDE, len);
                widen(g, o + 3 * stride, w, PAD + 3 * WIDE, len);
                for (int t = 0; t < tokens; t++) fourRowsFma(w, len, x, t * in + c, acc, PAD + t * per);
            }
            for (int t = 0; t < tokens; t++)
                for (int k = 0; k < STREAMS; k++) {
                    int a = PAD + t * per + 2 * k * step;
                    y[t * out + r0 + i + k * q] = FloatVector.fromArray(F, acc, a).add(FloatVector.fromArray(F, acc, a + step)).reduceLanes(VectorOperators.ADD)
                            + (bias == null ? 0f : bias[r0 + i + k * q]);
                }
        }
        return r0 + STREAMS * q;
    }

    /**
     * The plain loop C2's SuperWord turns into vcvtph2ps: the Vector API has no half-precision
     * conversion. In cache, four rows of 2048 columns at 256 bits: 11-12 Gw/s, 1.1 with {@code
     * -XX:-UseSuperWord}.
     */
    private static void widen(MemorySegment g, long off, float[] w, int wo, int len) {
        for (int j = 0; j < len; j++) w[wo + j] = Float.float16ToFloat(g.get(LES, off + 2L * j));
    }

    /** {@code len} widened columns of four rows (from {@link #PAD}, {@link #WIDE} apart in {@code w}) times {@code x}, into the eight accumulators at {@code acc[a..]}. */
    private static void fourRowsFma(float[] w, int len, float[] x, int xOff, float[] acc, int a) {
        int step = F.length();
        FloatVector a0 = FloatVector.fromArray(F, acc, a), a1 = FloatVector.fromArray(F, acc, a + step);
        FloatVector b0 = FloatVector.fromArray(F, acc, a + 2 * step), b1 = FloatVector.fromArray(F, acc, a + 3 * step);
        FloatVector c0 = FloatVector.fromArray(F, acc, a + 4 * step), c1 = FloatVector.fromArray(F, acc, a + 5 * step);
        FloatVector d0 = FloatVector.fromArray(F, acc, a + 6 * step), d1 = FloatVector.fromArray(F, acc, a + 7 * step);
        for (int j = 0; j < len; j += 2 * step) {
            FloatVector x0 = FloatVector.fromArray(F, x, xOff + j), x1 = FloatVector.fromArray(F, x, xOff + j + step);
            a0 = FloatVector.fromArray(F, w, PAD + j).fma(x0, a0);
            a1 = FloatVector.fromArray(F, w, PAD + j + step).fma(x1, a1);
            b0 = FloatVector.fromArray(F, w, PAD + WIDE + j).fma(x0, b0);
            b1 = FloatVector.fromArray(F, w, PAD + WIDE + j + step).fma(x1, b1);
            c0 = FloatVector.fromArray(F, w, PAD + 2 * WIDE + j).fma(x0, c0);
            c1 = FloatVector.fromArray(F, w, PAD + 2 * WIDE + j + step).fma(x1, c1);
            d0 = FloatVector.fromArray(F, w, PAD + 3 * WIDE + j).fma(x0, d0);
            d1 = FloatVector.fromArray(F, w, PAD + 3 * WIDE + j + step).fma(x1, d1);
        }
        a0.intoArray(acc, a); a1.intoArray(acc, a + step);
        b0.intoArray(acc, a + 2 * step); b1.intoArray(acc, a + 3 * step);
        c0.intoArray(acc, a + 4 * step); c1.intoArray(acc, a + 5 * step);
        d0.intoArray(acc, a + 6 * step); d1.intoArray(acc, a + 7 * step);
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

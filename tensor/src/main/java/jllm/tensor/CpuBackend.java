package jllm.tensor;

import jdk.incubator.vector.FloatVector;

/**
 * The CPU backend: Vector API kernels in the tensor types, rows spread over a thread pool. Buffers
 * are {@link HeapBuf}s; the kernels of each op family live beside their backward partners in
 * {@link CpuNorms}, {@link CpuAttention}, {@link CpuMoe} and {@link CpuLoss}; this class holds
 * memory, the linear layer, the embedding and the element-wise ops.
 */
public final class CpuBackend implements Backend {
    final Parallel par;
    private final boolean exact, reproducible;

    /** Quantized weights multiply int8-quantized activations in decode (llama.cpp's speed and rounding). */
    public CpuBackend(int threads) { this(threads, false, false); }

    /**
     * {@code exact}: activations stay fp32 for every weight format (the reference path for comparisons
     * with transformers); otherwise quantized formats ({@link QuantMatmul}) quantize the activations
     * of decode steps to 8 bits per 32-value block, as llama.cpp does.
     */
    public CpuBackend(int threads, boolean exact) { this(threads, exact, false); }

    private CpuBackend(int threads, boolean exact, boolean reproducible) {
        JitLimits.warnOnce();
        this.par = Parallel.shared(threads);
        this.exact = exact;
        this.reproducible = reproducible;
    }

    public boolean exact() { return exact; }

    public static CpuBackend withAllCores() { return new CpuBackend(Runtime.getRuntime().availableProcessors()); }

    /**
     * A backend whose results are the same bits on every run and in every JIT tier, for training
     * (gradient checkpointing recomputes layers; a seed must reproduce a loss exactly). Every kernel
     * here is, except the formats' per-row matmul kernels used below {@link PanelMatmul}'s token
     * count: they reduce vector lanes, whose order C2 may change. This backend sends those shapes to
     * a row-decoding kernel with a fixed reduction instead (slower for single-token decoding, which
     * training never does). Quantized weights keep their panel kernels ({@link QuantMatmul}): they
     * reduce no lanes, and in this mode run with fp32 activations.
     */
    public static CpuBackend reproducible(int threads) { return new CpuBackend(threads, true, true); }

    @Override public String name() { return "cpu"; }

    @Override public int threads() { return par.threads(); }

    /** The thread pool (for kernels written against plain arrays, e.g. {@link Gemm}). */
    public Parallel parallel() { return par; }

    // ---- memory ------------------------------------------------------------------------------

    @Override public Buf alloc(int n) { return new HeapBuf(n); }

    @Override public Buf wrap(float[] host) { return new HeapBuf(host); }

    @Override
    public void upload(float[] src, int srcOff, Buf dst, int dstOff, int n) {
        System.arraycopy(src, srcOff, HeapBuf.of(dst), dstOff, n);
    }

    @Override
    public void download(Buf src, int srcOff, float[] dst, int dstOff, int n) {
        System.arraycopy(HeapBuf.of(src), srcOff, dst, dstOff, n);
    }

    @Override
    public void copy(Buf src, int srcOff, Buf dst, int dstOff, int n) {
        System.arraycopy(HeapBuf.of(src), srcOff, HeapBuf.of(dst), dstOff, n);
    }

    @Override
    public void fill(Buf x, int off, int n, float value) {
        java.util.Arrays.fill(HeapBuf.of(x), off, off + n, value);
    }

    @Override public Tensor weight(Tensor w) { return w; }

    /**
     * The quantized matrices' panels and the F16 matrices' huge-page copies, a whole tensor per
     * thread, largest first (a nested {@link Parallel#forRange} runs on its caller), so that each
     * thread also allocates its own arrays: 800 MiB of fresh heap arrays took 0.64-0.79 s to allocate
     * on one thread (0.08 s on a pre-touched heap; AMD EPYC Zen 3 VM). 1B Q4_K_M: 1.41-1.45 s against
     * 1.67-2.49 s one tensor at a time over both threads, though the time to the first token came out
     * even: the compiles the repack no longer overlaps move into the first forward
     * (docs/quantization-and-speed.md, eighteenth round).
     */
    @Override
    public void prepare(java.util.Collection<Tensor> weights) {
        java.util.List<Tensor> todo = new java.util.ArrayList<>();
        java.util.Set<Tensor> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Tensor w : weights)
            if (w != null && seen.add(w) && (QuantMatmul.applies(w) || w instanceof F16Tensor)) todo.add(w);
        todo.sort(java.util.Comparator.comparingLong((Tensor w) -> w.segment().byteSize()).reversed());
        java.util.List<QuantTensor> quant = new java.util.ArrayList<>();
        for (Tensor w : todo) if (w instanceof QuantTensor q) quant.add(q);
        QuantTensor.placePanels(quant);
        par.forRange(todo.size(), 1, (a, b) -> {
            for (int i = a; i < b; i++) {
                Tensor w = todo.get(i);
                if (w instanceof F16Tensor f) f.prepare(par);
                else ((QuantTensor) w).panels(par);
            }
        });
    }

    @Override public void round(Buf x, int off, int n, Precision p) { p.round(HeapBuf.of(x), off, n); }

    @Override
    public KvCache kvCache(int layers, int kvHeads, int headDim, KvType type) { return new CpuKvCache(layers, kvHeads, headDim, type); }

    @Override
    public void kvStore(KvCache cache, int layer, Buf k, Buf v, int start, int rows) {
        ((CpuKvCache) cache).store(layer, HeapBuf.of(k), HeapBuf.of(v), start, rows);
    }

    // ---- linear ------------------------------------------------------------------------------

    @Override
    public void matmul(Tensor w, Buf x, Buf y, int rows, Buf bias) {
        float[] xa = HeapBuf.of(x), ya = HeapBuf.of(y), b = HeapBuf.of(bias);
        if (reproducible && !QuantMatmul.applies(w) && !PanelMatmul.applies(w, rows)) decodedRowsMatmul(w, xa, ya, rows, b);
        else matmul(w, xa, ya, rows, b);
    }

    /**
     * Decode of several quantized matrices over the same x (q/k/v, gate/up) runs as one parallel job
     * over all their panels, with x quantized once ({@link QuantMatmul#decodeTogether}). Small
     * matrices stream more slowly than large ones at 2 threads; one job instead of five per layer made
     * these products of a 1B model's shapes 3-7% faster (AMD EPYC, Q4_0 / Q8_0 / Q4_K; paired passes).
     * The same for F16's row kernels measured no change (1.005x), so everything else runs matrix by
     * matrix. Each output is computed by the same kernel either way.
     */
    @Override
    public void matmuls(Tensor[] ws, Buf x, Buf[] ys, int rows, Buf[] biases) {
        float[][] y = new float[ws.length][], b = new float[ws.length][];
        for (int i = 0; i < ws.length; i++) {
            y[i] = HeapBuf.of(ys[i]);
            b[i] = biases == null ? null : HeapBuf.of(biases[i]);
        }
        float[] xa = HeapBuf.of(x);
        if (!QuantMatmul.decodeTogether(par, ws, xa, y, rows, b, exact)) Backend.super.matmuls(ws, x, ys, rows, biases);
    }

    /** {@code y = x W^T + b}, each weight row decoded to fp32 once and dotted with every token in a fixed order. */
    private void decodedRowsMatmul(Tensor w, float[] x, float[] y, int rows, float[] bias) {
        int out = w.dim(0), in = w.dim(1);
        if ((long) rows * in > x.length || (long) rows * out > y.length)
            throw new IllegalArgumentException("matmul " + w + " with " + rows + " rows: buffers too small");
        par.forRange(out, Math.max(1, (1 << 14) / Math.max(1, in * rows)), (r0, r1) -> {
            float[] row = new float[in];
            for (int r = r0; r < r1; r++) {
                w.read((long) r * in, row, 0, in);
                float b = bias == null ? 0f : bias[r];
                for (int t = 0; t < rows; t++) y[t * out + r] = dot(row, 0, x, t * in, in) + b;
            }
        });
    }

    /** The forward product on plain arrays (kernel benchmarks and tests call it directly). */
    public void matmul(Tensor w, float[] x, float[] y, int rows, float[] bias) {
        int out = w.dim(0), in = w.dim(1);
        if ((long) rows * in > x.length || (long) rows * out > y.length)
            throw new IllegalArgumentException("matmul " + w + " with " + rows + " rows: buffers too small");
        if (w instanceof F16Tensor f) f.prepare(par);
        if (QuantMatmul.applies(w)) {
            QuantMatmul.matmul(par, (QuantTensor) w, x, y, rows, bias, exact);
            return;
        }
        if (PanelMatmul.applies(w, rows)) {
            PanelMatmul.matmul(par, w, x, y, rows, bias);
            return;
        }
        // Each worker owns a block of output features (a multiple of 4, the kernels' row group) and reuses
        // each weight block across all tokens; tiny matrices stay on the calling thread.
        long work = (long) out * in * rows;
        if (work < 1 << 16) {
            w.matmulRows(x, rows, y, 0, out, bias);
            return;
        }
        // decode streams each weight once: a few long runs per thread (Parallel.streamChunk)
        par.forRange(out, rows < 4 ? Math.max(4, par.streamChunk(out)) : 4, 4, (r0, r1) -> w.matmulRows(x, rows, y, r0, r1, bias));
    }

    @Override
    public void matmulBackward(Tensor w, Buf x, Buf dy, int rows, Buf dx, boolean accumulate, Buf dw, Buf db) {
        int out = w.dim(0), in = w.dim(1);
        float[] g = HeapBuf.of(dy);
        if (dx != null) Gemm.dyW(par, w, g, rows, HeapBuf.of(dx), accumulate);
        if (dw != null) Gemm.dyTx(par, g, HeapBuf.of(x), rows, out, in, HeapBuf.of(dw), true);
        if (db != null) columnSums(g, rows, out, HeapBuf.of(db));
    }

    /**
     * {@code acc[c] += sum_t m[t, c]}, columns split over threads and each column summed over t in
     * order: a parameter gradient must not depend on which thread got which rows.
     */
    void columnSums(float[] m, int rows, int n, float[] acc) {
        par.forRange(n, Math.max(16, ELEMENTWISE_CHUNK / Math.max(1, rows)), (c0, c1) -> {
            for (int t = 0; t < rows; t++) {
                int o = t * n;
                for (int c = c0; c < c1; c++) acc[c] += m[o + c];
            }
        });
    }

    // ---- embedding ---------------------------------------------------------------------------

    @Override
    public void embed(Tensor table, int[] ids, int rows, Buf out, float scale) {
        float[] x = HeapBuf.of(out);
        int n = table.dim(1);
        for (int t = 0; t < rows; t++) table.read((long) ids[t] * n, x, t * n, n);
        if (scale != 1f) for (int i = 0; i < rows * n; i++) x[i] *= scale;
    }

    @Override
    public void embedBackward(Buf dy, int[] ids, int rows, int width, float scale, Buf dTable) {
        float[] g = HeapBuf.of(dy), d = HeapBuf.of(dTable);
        // A token id may repeat: columns are split over threads and tokens added in order (deterministic).
        par.forRange(width, 16, (c0, c1) -> {
            for (int t = 0; t < rows; t++) {
                int src = t * width, dst = ids[t] * width;
                for (int c = c0; c < c1; c++) d[dst + c] += scale * g[src + c];
            }
        });
    }

    // ---- norms, rope, attention, experts, loss: see the op-family classes ---------------------

    @Override
    public void rmsNorm(Buf x, Buf y, int rows, int n, Buf w, float eps, boolean onePlus, Buf rstd) {
        CpuNorms.rmsNorm(par, HeapBuf.of(x), HeapBuf.of(y), rows, n, HeapBuf.of(w), eps, onePlus, HeapBuf.of(rstd));
    }

    @Override
    public void rmsNormBackward(Buf x, Buf w, boolean onePlus, Buf rstd, Buf dy, int rows, int n, Buf dx, boolean accumulate, Buf dw) {
        CpuNorms.rmsNormBackward(par, HeapBuf.of(x), HeapBuf.of(w), onePlus, HeapBuf.of(rstd), HeapBuf.of(dy), rows, n,
                HeapBuf.of(dx), accumulate, HeapBuf.of(dw));
    }

    @Override
    public void layerNorm(Buf x, Buf y, int rows, int n, Buf w, Buf b, float eps, boolean onePlus, Buf mean, Buf rstd) {
        CpuNorms.layerNorm(par, HeapBuf.of(x), HeapBuf.of(y), rows, n, HeapBuf.of(w), HeapBuf.of(b), eps, onePlus,
                HeapBuf.of(mean), HeapBuf.of(rstd));
    }

    @Override
    public void layerNormBackward(Buf x, Buf w, boolean onePlus, Buf mean, Buf rstd, Buf dy, int rows, int n,
                                  Buf dx, boolean accumulate, Buf dw, Buf db) {
        if (db != null) columnSums(HeapBuf.of(dy), rows, n, HeapBuf.of(db));
        CpuNorms.layerNormBackward(par, HeapBuf.of(x), HeapBuf.of(w), onePlus, HeapBuf.of(mean), HeapBuf.of(rstd),
                HeapBuf.of(dy), rows, n, HeapBuf.of(dx), accumulate, HeapBuf.of(dw), HeapBuf.of(db));
    }

    @Override
    public void rope(Buf x, int rows, int heads, int headDim, int rotaryDim, Buf cos, Buf sin, boolean interleaved, boolean inverse) {
        CpuAttention.rope(HeapBuf.of(x), rows, heads, headDim, rotaryDim, HeapBuf.of(cos), HeapBuf.of(sin), interleaved, inverse);
    }

    @Override
    public void attention(Buf q, int rows, int[] pos, int[] keyBase, Buf k, Buf v, int heads, int kvHeads, int hd,
                          float scale, float softcap, AttentionMask mask, Buf out, Buf lse) {
        CpuAttention.forward(par, HeapBuf.of(q), rows, pos, keyBase, HeapBuf.of(k), HeapBuf.of(v), heads, kvHeads, hd,
                scale, softcap, mask, HeapBuf.of(out), HeapBuf.of(lse));
    }

    @Override
    public void attention(Buf q, int rows, int[] pos, KvCache cache, int layer, int heads, int hd,
                          float scale, float softcap, AttentionMask mask, Buf out) {
        CpuKvAttention.attention(par, HeapBuf.of(q), rows, pos, (CpuKvCache) cache, layer, heads, hd, scale, softcap, mask, HeapBuf.of(out));
    }

    @Override
    public void attentionBackward(Buf q, Buf k, Buf v, Buf out, Buf lse, Buf dOut, int rows, int[] pos, int[] keyBase,
                                  int heads, int kvHeads, int hd, float scale, float softcap, AttentionMask mask,
                                  Buf dq, Buf dk, Buf dv) {
        CpuAttention.backward(par, HeapBuf.of(q), HeapBuf.of(k), HeapBuf.of(v), HeapBuf.of(out), HeapBuf.of(lse), HeapBuf.of(dOut),
                rows, pos, keyBase, heads, kvHeads, hd, scale, softcap, mask, HeapBuf.of(dq), HeapBuf.of(dk), HeapBuf.of(dv));
    }

    @Override
    public void gatherRows(Buf src, int[] rows, int[] scaleIdx, Buf scale, int n, int width, Buf dst) {
        CpuMoe.gatherRows(par, HeapBuf.of(src), rows, scaleIdx, HeapBuf.of(scale), n, width, HeapBuf.of(dst));
    }

    @Override
    public void gatherRowsBackward(Buf dDst, int[] rows, int[] scaleIdx, Buf scale, Buf src, int n, int width, Buf dSrc, Buf dScale) {
        CpuMoe.gatherRowsBackward(par, HeapBuf.of(dDst), rows, scaleIdx, HeapBuf.of(scale), HeapBuf.of(src), n, width,
                HeapBuf.of(dSrc), HeapBuf.of(dScale));
    }

    @Override
    public void scatterAddRows(Buf src, int[] rows, int[] scaleIdx, Buf scale, int n, int width, Buf dst) {
        CpuMoe.scatterAddRows(par, HeapBuf.of(src), rows, scaleIdx, HeapBuf.of(scale), n, width, HeapBuf.of(dst));
    }

    @Override
    public void scatterAddRowsBackward(Buf dDst, int[] rows, int[] scaleIdx, Buf scale, Buf src, int n, int width, Buf dSrc, Buf dScale) {
        CpuMoe.scatterAddRowsBackward(par, HeapBuf.of(dDst), rows, scaleIdx, HeapBuf.of(scale), HeapBuf.of(src), n, width,
                HeapBuf.of(dSrc), HeapBuf.of(dScale));
    }

    @Override
    public void route(Buf logits, int rows, int experts, int k, boolean sigmoid, boolean renormalize, int[] chosen, Buf weights, Buf probs) {
        CpuMoe.route(HeapBuf.of(logits), rows, experts, k, sigmoid, renormalize, chosen, HeapBuf.of(weights), HeapBuf.of(probs));
    }

    @Override
    public void routeBackward(Buf logits, Buf probs, int[] chosen, Buf weights, Buf dWeights, int rows, int experts, int k,
                              boolean sigmoid, boolean renormalize, Buf dLogits) {
        CpuMoe.routeBackward(HeapBuf.of(probs), chosen, HeapBuf.of(weights), HeapBuf.of(dWeights), rows, experts, k,
                sigmoid, renormalize, HeapBuf.of(dLogits));
    }

    @Override
    public double crossEntropy(Buf logits, int rows, int vocab, int[] labels, int labelOff, float logitScale, float softcap,
                               float dScale, Buf rowLoss) {
        return CpuLoss.crossEntropy(par, HeapBuf.of(logits), rows, vocab, labels, labelOff, logitScale, softcap, dScale, HeapBuf.of(rowLoss));
    }

    // ---- element-wise ------------------------------------------------------------------------

    @Override
    public void gated(Activation act, Buf gate, Buf up, Buf out, int n) {
        float[] g = HeapBuf.of(gate), u = HeapBuf.of(up), o = HeapBuf.of(out);
        // Element-wise with an exp/tanh per element: in prefill this is worth spreading over the cores.
        par.forRange(n, ELEMENTWISE_CHUNK, (a, b) -> {
            if (act == Activation.SILU) {
                Silu.forward(g, u, o, a, b);
                return;
            }
            for (int i = a; i < b; i++) o[i] = act.apply(g[i]) * u[i];
        });
    }

    @Override
    public void gatedBackward(Activation act, Buf gate, Buf up, Buf dy, Buf dGate, Buf dUp, int n) {
        float[] g = HeapBuf.of(gate), u = HeapBuf.of(up), d = HeapBuf.of(dy), dg = HeapBuf.of(dGate), du = HeapBuf.of(dUp);
        par.forRange(n, ELEMENTWISE_CHUNK, (a, b) -> {
            if (act == Activation.SILU) {
                Silu.backward(g, u, d, dg, du, a, b);
                return;
            }
            for (int i = a; i < b; i++) {
                float gi = g[i], di = d[i];
                dg[i] = di * u[i] * act.derivative(gi);
                du[i] = di * act.apply(gi);
            }
        });
    }

    @Override
    public void activate(Activation act, Buf x, Buf y, int n) {
        float[] a = HeapBuf.of(x), o = HeapBuf.of(y);
        par.forRange(n, ELEMENTWISE_CHUNK, (s, e) -> {
            for (int i = s; i < e; i++) o[i] = act.apply(a[i]);
        });
    }

    @Override
    public void activateBackward(Activation act, Buf x, Buf dy, Buf dx, int n) {
        float[] a = HeapBuf.of(x), d = HeapBuf.of(dy), o = HeapBuf.of(dx);
        par.forRange(n, ELEMENTWISE_CHUNK, (s, e) -> {
            for (int i = s; i < e; i++) o[i] = d[i] * act.derivative(a[i]);
        });
    }

    @Override
    public void addScaled(Buf x, Buf y, float s, int n) {
        float[] a = HeapBuf.of(x), b = HeapBuf.of(y);
        if (s == 1f) for (int i = 0; i < n; i++) a[i] += b[i];
        else for (int i = 0; i < n; i++) a[i] += b[i] * s;
    }

    @Override
    public void scale(Buf x, Buf y, float s, int n) {
        float[] a = HeapBuf.of(x), b = HeapBuf.of(y);
        for (int i = 0; i < n; i++) b[i] = a[i] * s;
    }

    @Override
    public void dropout(Buf x, Buf y, int n, float p, long seed) {
        if (!(p >= 0f && p < 1f)) throw new IllegalArgumentException("dropout probability " + p + " outside [0, 1)");
        float[] a = HeapBuf.of(x), b = HeapBuf.of(y);
        float keepScale = 1f / (1f - p);
        // keep element i when the top 24 bits of mix(seed, i), as a fraction of 2^24, reach p
        int threshold = (int) Math.ceil(p * (double) (1 << 24));
        par.forRange(n, ELEMENTWISE_CHUNK, (s0, s1) -> {
            for (int i = s0; i < s1; i++) b[i] = (int) (mix(seed, i) >>> 40) >= threshold ? a[i] * keepScale : 0f;
        });
    }

    /** SplitMix64's finaliser of seed + i: a counter-based random stream (any element, any order, same bits). */
    static long mix(long seed, long i) {
        long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public void scaleRows(Buf x, Buf f, int rows, int width) {
        float[] a = HeapBuf.of(x), s = HeapBuf.of(f);
        for (int t = 0; t < rows; t++) {
            float c = s[t];
            for (int i = t * width; i < (t + 1) * width; i++) a[i] *= c;
        }
    }

    @Override
    public void softcap(Buf x, int n, float c) {
        float[] a = HeapBuf.of(x);
        for (int i = 0; i < n; i++) a[i] = (float) (c * Math.tanh(a[i] / c));
    }

    @Override
    public void softcapBackward(Buf y, Buf dy, Buf dx, int n, float c) {
        float[] a = HeapBuf.of(y), d = HeapBuf.of(dy), o = HeapBuf.of(dx);
        for (int i = 0; i < n; i++) {
            float t = a[i] / c;
            o[i] = d[i] * (1f - t * t);
        }
    }

    // ---- vector helpers shared by the kernels --------------------------------------------------

    static final jdk.incubator.vector.VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float s = 0;
        if (n >= F.length()) {
            FloatVector acc = FloatVector.fromArray(F, a, ao).mul(FloatVector.fromArray(F, b, bo));
            for (i = F.length(); i <= n - F.length(); i += F.length())
                acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
            s = VecMath.sum(acc);
        }
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /** {@code y[yo..] += a * x[xo..]} over {@code n} elements. */
    static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector av = FloatVector.broadcast(F, a);
        for (; i <= n - F.length(); i += F.length())
            FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] += a * x[xo + i];
    }

    static final int ELEMENTWISE_CHUNK = 1 << 13;
}

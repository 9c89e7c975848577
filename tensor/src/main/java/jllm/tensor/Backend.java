package jllm.tensor;

/**
 * Every computation the decoder does, forward and backward, as the model and trainer call it.
 * Activations and gradients are backend-owned {@link Buf}s, row-major fp32 {@code [rows, n]};
 * weights are {@link Tensor}s in any stored format, passed once through {@link #weight} so a
 * device backend can upload them. Each forward operation has its backward partner right after it
 * (llm.c's {@code *_forward} / {@code *_backward} pairs): there is no autograd tape; the model's
 * backward calls them in reverse order with the activations its forward saved.
 *
 * <p>Conventions. Backward calls take the forward's inputs (and saved statistics) plus {@code dy},
 * the gradient of the loss with respect to the forward's output. Input gradients are overwritten
 * unless a call says it accumulates; parameter gradients ({@code dw}, {@code db}) always
 * accumulate ({@code +=}), so several uses of a weight (tied embeddings, micro-batches) sum.
 * A null gradient buffer means "not wanted" (frozen parameter) and costs nothing.
 *
 * <p>Determinism: every implementation must produce bit-identical results for the same inputs
 * and thread count: each output element is summed in a fixed order, whatever the thread timing
 * (gradient checkpointing relies on a recomputed layer matching its first run exactly).
 */
public interface Backend {
    String name();

    int threads();

    // ---- memory ------------------------------------------------------------------------------

    /** A zero-filled buffer of {@code n} floats. */
    Buf alloc(int n);

    /**
     * A buffer holding host values: the CPU backend shares {@code host} (writes through both ways,
     * so trainable values and gradients live in one array); a device backend copies it up.
     */
    Buf wrap(float[] host);

    void upload(float[] src, int srcOff, Buf dst, int dstOff, int n);

    void download(Buf src, int srcOff, float[] dst, int dstOff, int n);

    /** {@code dst[dstOff + i] = src[srcOff + i]} for {@code i < n}. */
    void copy(Buf src, int srcOff, Buf dst, int dstOff, int n);

    void fill(Buf x, int off, int n, float value);

    /** The backend's form of a weight, made once at load (device upload); the CPU uses it as stored. */
    Tensor weight(Tensor w);

    /**
     * Readies weight matrices for their first matmul all at once, instead of each at its first use
     * (the CPU repacks its quantized matrices into panels); the ones it skips are readied on first use.
     */
    default void prepare(java.util.Collection<Tensor> weights) { }

    /** An empty KV cache for {@code layers} layers of {@code kvHeads} heads of {@code headDim}, stored as {@code type}. */
    KvCache kvCache(int layers, int kvHeads, int headDim, KvType type);

    /**
     * Stores keys and values {@code k, v [rows, kvHeads * headDim]} as positions
     * {@code start .. start + rows - 1} of the cache's layer {@code layer} (converted to its type).
     */
    void kvStore(KvCache cache, int layer, Buf k, Buf v, int start, int rows);

    // ---- linear ------------------------------------------------------------------------------

    /** {@code y[t, r] = sum_c W[r, c] x[t, c] (+ bias[r])} for {@code t < rows}; W is {@code [out, in]}. */
    void matmul(Tensor w, Buf x, Buf y, int rows, Buf bias);

    /**
     * Several products of the same input, {@code ys[i] = x ws[i]^T (+ biases[i])} (a null
     * {@code biases}: none), each exactly as {@link #matmul} computes it. Decode's q/k/v and gate/up
     * projections: a backend may run them as one job (one hand-off to the threads, one quantization of
     * x) instead of several small ones.
     */
    default void matmuls(Tensor[] ws, Buf x, Buf[] ys, int rows, Buf[] biases) {
        for (int i = 0; i < ws.length; i++) matmul(ws[i], x, ys[i], rows, biases == null ? null : biases[i]);
    }

    /**
     * Backward of {@link #matmul}: {@code dx (+)= dy W} (when dx is not null; accumulated if
     * {@code accumulate}), {@code dw += dy^T x}, {@code db += sum_t dy[t]}. W may be frozen and in
     * any format (decoded on the fly for dx).
     */
    void matmulBackward(Tensor w, Buf x, Buf dy, int rows, Buf dx, boolean accumulate, Buf dw, Buf db);

    // ---- embedding ---------------------------------------------------------------------------

    /** {@code out[t] = scale * table[ids[t]]}; ids must be in range (the caller checks). */
    void embed(Tensor table, int[] ids, int rows, Buf out, float scale);

    /** {@code dTable[ids[t]] += scale * dy[t]}. */
    void embedBackward(Buf dy, int[] ids, int rows, int width, float scale, Buf dTable);

    // ---- norms -------------------------------------------------------------------------------

    /**
     * RMSNorm per row in fp32: {@code y = x r g}, {@code r = 1 / sqrt(mean(x^2) + eps)},
     * {@code g = w} or {@code 1 + w} ({@code onePlus}), no weight when w is null. x and y may be the
     * same buffer. {@code rstd} (null = not kept) receives r per row for the backward.
     */
    void rmsNorm(Buf x, Buf y, int rows, int n, Buf w, float eps, boolean onePlus, Buf rstd);

    /**
     * {@code dx (+)= r (dy g - xhat mean(dy g xhat))} with {@code xhat = x r};
     * {@code dw += sum_t dy xhat}.
     */
    void rmsNormBackward(Buf x, Buf w, boolean onePlus, Buf rstd, Buf dy, int rows, int n, Buf dx, boolean accumulate, Buf dw);

    /** LayerNorm per row in fp32: {@code y = (x - mean) r g + b}; keeps mean and r per row when not null. */
    void layerNorm(Buf x, Buf y, int rows, int n, Buf w, Buf b, float eps, boolean onePlus, Buf mean, Buf rstd);

    /**
     * {@code dx (+)= r (dxhat - mean(dxhat) - xhat mean(dxhat xhat))}, {@code dxhat = dy g};
     * {@code dw += sum_t dy xhat}, {@code db += sum_t dy}.
     */
    void layerNormBackward(Buf x, Buf w, boolean onePlus, Buf mean, Buf rstd, Buf dy, int rows, int n,
                           Buf dx, boolean accumulate, Buf dw, Buf db);

    // ---- rotary embedding --------------------------------------------------------------------

    /**
     * Rotates the first {@code rotaryDim} dims of each head of {@code x [rows, heads * headDim]} in
     * place; {@code cos/sin [rows, rotaryDim / 2]}. Rotate-half layout (HF) or adjacent pairs
     * (interleaved). {@code inverse} rotates by the opposite angle (sin negated): that is RoPE's
     * backward, since a rotation's transpose is its inverse.
     */
    void rope(Buf x, int rows, int heads, int headDim, int rotaryDim, Buf cos, Buf sin, boolean interleaved, boolean inverse);

    // ---- attention ---------------------------------------------------------------------------

    /**
     * Scaled dot-product attention of {@code q [rows, heads * hd]} against keys/values
     * {@code [*, kvHeads * hd]}. Query {@code t} sits at position {@code pos[t]} of its sequence and
     * sees the keys of positions {@code mask.firstKey(pos[t]) .. pos[t]}, stored at rows
     * {@code keyBase[t] + position} of k and v ({@code keyBase} null = 0: a KV cache holding the
     * sequence from position 0; in training, the row where the query's packed example starts).
     * Scores {@code q.k * scale}, soft-capped {@code c tanh(s / c)} when {@code softcap > 0},
     * softmaxed in fp32 with the row max subtracted. {@code lse [rows * heads]} (null = not kept)
     * receives each softmax's log-sum-exp, all the backward needs to rebuild the probabilities.
     */
    void attention(Buf q, int rows, int[] pos, int[] keyBase, Buf k, Buf v, int heads, int kvHeads, int hd,
                   float scale, float softcap, AttentionMask mask, Buf out, Buf lse);

    /**
     * {@link #attention} of {@code q [rows, heads * hd]} against layer {@code layer} of a KV cache
     * (inference: the sequence from position 0, each position stored before a query attends to it):
     * query t at position {@code pos[t]} sees keys {@code mask.firstKey(pos[t]) .. pos[t]}. The same
     * scores, soft-cap and fp32 softmax; a query's result does not depend on which other queries
     * share the call (a decoded token gets the bits it would get in a prefill). No log-sum-exp: the
     * backward never runs on a cache.
     */
    void attention(Buf q, int rows, int[] pos, KvCache cache, int layer, int heads, int hd,
                   float scale, float softcap, AttentionMask mask, Buf out);

    /**
     * Backward of {@link #attention} for self-attention over the same rows (training: k and v are
     * this call's own rows, row {@code keyBase[t] + pos[t] == t}). Probabilities are recomputed from
     * {@code lse}, never stored: {@code P = exp(S - lse)}, {@code dP = dO V^T},
     * {@code dS = P (dP - rowsum(P dP))} (rowsum(P dP) = dO . O), times the soft-cap's
     * {@code 1 - tanh^2}; {@code dq = scale dS K}, {@code dk = scale dS^T Q}, {@code dv = P^T dO}.
     * dq, dk and dv are overwritten.
     */
    void attentionBackward(Buf q, Buf k, Buf v, Buf out, Buf lse, Buf dOut, int rows, int[] pos, int[] keyBase,
                           int heads, int kvHeads, int hd, float scale, float softcap, AttentionMask mask,
                           Buf dq, Buf dk, Buf dv);

    // ---- element-wise ------------------------------------------------------------------------

    /** {@code out = act(gate) * up}; out may be gate. */
    void gated(Activation act, Buf gate, Buf up, Buf out, int n);

    /** {@code dGate = dy * up * act'(gate)}, {@code dUp = dy * act(gate)}. */
    void gatedBackward(Activation act, Buf gate, Buf up, Buf dy, Buf dGate, Buf dUp, int n);

    /** {@code y = act(x)}; y may be x. */
    void activate(Activation act, Buf x, Buf y, int n);

    /** {@code dx = dy * act'(x)}. */
    void activateBackward(Activation act, Buf x, Buf dy, Buf dx, int n);

    /** {@code x += s * y} (residual add with Granite's multiplier). Backward: {@code dy = s dx} ({@link #scale}). */
    void addScaled(Buf x, Buf y, float s, int n);

    /** {@code y = s * x}; y may be x. Its own backward: {@code dx = s dy}. */
    void scale(Buf x, Buf y, float s, int n);

    /**
     * Inverted dropout: {@code y[i] = keep(seed, i) ? x[i] / (1 - p) : 0}, the keep decision a pure
     * function of (seed, i), so the backward ({@code dx = dropout(dy)} with the same seed) and a
     * recomputation under gradient checkpointing see the same mask. y may be x.
     */
    void dropout(Buf x, Buf y, int n, float p, long seed);

    /** {@code x[r, :] *= f[r]} in place (per-position query scaling). Its own backward. */
    void scaleRows(Buf x, Buf f, int rows, int width);

    /** {@code x = c tanh(x / c)} in place. */
    void softcap(Buf x, int n, float c);

    /** {@code dx = dy (1 - (y / c)^2)} from the soft-capped output y. */
    void softcapBackward(Buf y, Buf dy, Buf dx, int n, float c);

    // ---- gather / scatter (mixture of experts) ----------------------------------------------

    /**
     * {@code dst[r] = s_r * src[rows[r]]} for {@code r < n} over rows of {@code width}, with
     * {@code s_r = scale[scaleIdx[r]]}, or 1 when scaleIdx is null.
     */
    void gatherRows(Buf src, int[] rows, int[] scaleIdx, Buf scale, int n, int width, Buf dst);

    /** {@code dSrc[rows[r]] += s_r dDst[r]} (accumulates); {@code dScale[scaleIdx[r]] += dDst[r] . src[rows[r]]}. */
    void gatherRowsBackward(Buf dDst, int[] rows, int[] scaleIdx, Buf scale, Buf src, int n, int width, Buf dSrc, Buf dScale);

    /** {@code dst[rows[r]] += s_r * src[r]}. */
    void scatterAddRows(Buf src, int[] rows, int[] scaleIdx, Buf scale, int n, int width, Buf dst);

    /** {@code dSrc[r] = s_r dDst[rows[r]]} (overwrites); {@code dScale[scaleIdx[r]] += dDst[rows[r]] . src[r]}. */
    void scatterAddRowsBackward(Buf dDst, int[] rows, int[] scaleIdx, Buf scale, Buf src, int n, int width, Buf dSrc, Buf dScale);

    /**
     * Mixture-of-experts routing of {@code logits [rows, experts]}: the {@code k} chosen experts per
     * row go to {@code chosen[t * k + j]} (host array: the host schedules the experts), their weights
     * to {@code weights [rows * k]}. Softmax routing: softmax over all experts in fp32 (kept in
     * {@code probs [rows * experts]}), top-k of the probabilities, divided by their sum when
     * {@code renormalize}. Sigmoid routing: top-k of the raw logits, weight = sigmoid(logit).
     * Ties go to the lower index.
     */
    void route(Buf logits, int rows, int experts, int k, boolean sigmoid, boolean renormalize, int[] chosen, Buf weights, Buf probs);

    /**
     * Backward of {@link #route} through the weights (the selection itself has no gradient):
     * renormalised {@code dp_c = (dw_c - sum_j dw_j w_j) / S}; softmax {@code dz = p (dp - p . dp)};
     * sigmoid {@code dz_c = dw_c w_c (1 - w_c)}. Writes {@code dLogits [rows, experts]}.
     */
    void routeBackward(Buf logits, Buf probs, int[] chosen, Buf weights, Buf dWeights, int rows, int experts, int k,
                       boolean sigmoid, boolean renormalize, Buf dLogits);

    // ---- loss --------------------------------------------------------------------------------

    /**
     * Cross-entropy of raw logits {@code z [rows, vocab]} (one chunk of rows), forward and backward
     * fused as llm.c's classifier: the logits seen by the loss are {@code y = m z}, soft-capped
     * {@code c tanh(y / c)} when {@code softcap > 0}; row t's target is {@code labels[labelOff + t]}
     * (negative = ignored). Returns the sum of {@code logsumexp(y) - y[label]} over the rows that
     * count, with each row's loss in {@code rowLoss} when not null. When {@code dScale != 0} the
     * logits are overwritten by the gradient of {@code dScale * sum loss} with respect to z:
     * {@code dScale (softmax(y) - onehot) (1 - (y_capped / c)^2) m} (zero rows for ignored targets).
     */
    double crossEntropy(Buf logits, int rows, int vocab, int[] labels, int labelOff, float logitScale, float softcap,
                        float dScale, Buf rowLoss);

    // ---- low-precision emulation (jllm doctor) ------------------------------------------------
    // The forward under non-default Numerics: a PyTorch model held in bf16/fp16, or an implementation
    // variant. Inference only (no statistics kept for a backward). The defaults compute on host
    // copies (LowPrecisionOps, written for clarity, not speed); a device backend may override them.

    /** Rounds {@code x[off, off + n)} to {@code p} in place, as casting a tensor to that dtype does. */
    default void round(Buf x, int off, int n, Precision p) {
        if (p == Precision.FP32 || n == 0) return;
        float[] h = new float[n];
        download(x, off, h, 0, n);
        p.round(h, 0, n);
        upload(h, 0, x, off, n);
    }

    /** {@link #rmsNorm} rounding as {@code nx} says ({@link Numerics#normUpcast}: the weight before or after the rounding). */
    default void rmsNormRounded(Buf x, Buf y, int rows, int n, Buf w, float eps, boolean onePlus, Numerics nx) {
        float[] out = new float[rows * n];
        LowPrecisionOps.rmsNorm(host(x, rows * n), out, rows, n, w == null ? null : host(w, n), eps, onePlus, nx);
        upload(out, 0, y, 0, rows * n);
    }

    /** {@link #layerNorm} as {@code F.layer_norm} computes it on a tensor in the activation dtype. */
    default void layerNormRounded(Buf x, Buf y, int rows, int n, Buf w, Buf b, float eps, boolean onePlus, Numerics nx) {
        float[] out = new float[rows * n];
        LowPrecisionOps.layerNorm(host(x, rows * n), out, rows, n, w == null ? null : host(w, n), b == null ? null : host(b, n), eps,
                onePlus, nx.activations());
        upload(out, 0, y, 0, rows * n);
    }

    /** {@link #rope} (forward) with each product and sum rounded to the activation dtype. */
    default void ropeRounded(Buf x, int rows, int heads, int headDim, int rotaryDim, Buf cos, Buf sin, boolean interleaved, Numerics nx) {
        int n = rows * heads * headDim, half = rotaryDim / 2;
        float[] h = host(x, n);
        LowPrecisionOps.rope(h, rows, heads, headDim, rotaryDim, host(cos, rows * half), host(sin, rows * half), interleaved, nx.activations());
        upload(h, 0, x, 0, n);
    }

    /** {@link #attention} (no lse kept) with scores, soft-cap, softmax and output rounded as {@code nx} says. */
    default void attentionRounded(Buf q, int rows, int[] pos, int[] keyBase, Buf k, Buf v, int heads, int kvHeads, int hd,
                           float scale, float softcap, AttentionMask mask, Buf out, Numerics nx) {
        float[] o = new float[rows * heads * hd];
        LowPrecisionOps.attention(host(q, rows * heads * hd), rows, pos, keyBase, host(k, k.size()), host(v, v.size()), heads, kvHeads, hd,
                scale, softcap, mask, o, nx);
        upload(o, 0, out, 0, o.length);
    }

    /**
     * {@link #attentionRounded} against layer {@code layer} of a KV cache: reads positions
     * {@code 0 .. max(pos)} back as fp32 (a reference-comparison mode, not a fast path).
     */
    default void attentionRounded(Buf q, int rows, int[] pos, KvCache cache, int layer, int heads, int hd,
                                  float scale, float softcap, AttentionMask mask, Buf out, Numerics nx) {
        int n = 0;
        for (int t = 0; t < rows; t++) n = Math.max(n, pos[t] + 1);
        float[][] kv = cache.read(layer, n);
        int kvHeads = n == 0 ? 1 : kv[0].length / (n * hd);
        float[] o = new float[rows * heads * hd];
        LowPrecisionOps.attention(host(q, rows * heads * hd), rows, pos, null, kv[0], kv[1], heads, kvHeads, hd, scale, softcap, mask, o, nx);
        upload(o, 0, out, 0, o.length);
    }

    /** {@link #gated} with the activation and the product each rounded to the activation dtype. */
    default void gatedRounded(Activation act, Buf gate, Buf up, Buf out, int n, Numerics nx) {
        float[] o = new float[n];
        LowPrecisionOps.gated(act, host(gate, n), host(up, n), o, n, nx.activations());
        upload(o, 0, out, 0, n);
    }

    /** {@link #softcap} with the division, tanh and product each rounded to the activation dtype. */
    default void softcapRounded(Buf x, int n, float c, Numerics nx) {
        float[] h = host(x, n);
        LowPrecisionOps.softcap(h, n, c, nx.activations());
        upload(h, 0, x, 0, n);
    }

    private float[] host(Buf b, int n) {
        float[] h = new float[n];
        download(b, 0, h, 0, n);
        return h;
    }
}

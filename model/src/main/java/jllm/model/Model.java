package jllm.model;

import java.util.IdentityHashMap;
import java.util.Map;
import jllm.tensor.Backend;
import jllm.tensor.Buf;
import jllm.tensor.KvCache;
import jllm.tensor.KvType;
import jllm.tensor.Precision;
import jllm.tensor.Tensor;

/**
 * The one decoder every architecture runs through, forward and backward: embeddings, then per
 * layer [norm] → attention → [norm] → residual, [norm] → MLP or MoE → [norm] → residual, then the
 * final norm and the LM head. What differs between architectures is data in {@link Spec} (filled
 * by the architecture's class); the weights are in {@link Weights}. Every computation is a
 * {@link Backend} call on backend buffers, so a device backend runs this class unchanged.
 *
 * <p>There is one forward. Inference ({@link #forward}) runs it on a KV cache with one set of
 * buffers shared by all layers; training ({@link #trainForward}) runs the same code on packed
 * examples and keeps each layer's activations in a {@link Record} (or, with gradient
 * checkpointing, only each layer's input, recomputing the layer in backward). {@link #backward}
 * walks the same steps in reverse, each step next to the forward step it undoes; the LM head and
 * cross-entropy are fused and chunked ({@link #headLoss}).
 *
 * <p>{@link Spec#numerics} other than fp32 makes the inference forward round as a bf16/fp16
 * PyTorch model does, or as an implementation variant does ({@code jllm doctor}): each op's output
 * is rounded to the activation dtype ({@link #rnd}) and the ops with inner rounding points (norms,
 * RoPE, attention, the gated product, soft-caps) go to the backend's low-precision forms. With the
 * default numerics none of that runs and the calls are exactly those of the fp32 forward.
 */
public final class Model {
    public final Spec spec;
    public final Weights weights;
    private final Backend be;
    /**
     * Logits per LM head chunk: 128 MiB of fp32. Each chunk decodes the whole head matrix twice (logits
     * and dX), so rows per chunk are the head's arithmetic intensity: 256 rows of a 128,256 vocabulary
     * against 64 (the 32 MiB this was) made a small-270m LoRA step 10% cheaper (3.65 vs 4.02 CPU-s,
     * AMD EPYC Zen 4, 1 thread), for 60 MiB more peak RSS.
     */
    private int lossChunkFloats = 1 << 25;
    private long checkpointKeepBytes = 256L << 20;
    /** The last training step's record, backward scratch and LM head chunk buffers {xc, logits, dxc}, reused by the next step of the same shape. */
    private Record lastRecord;
    private Scratch lastScratch;
    private Buf[] headBufs;

    public Model(Spec spec, Weights weights, Backend be) {
        this.spec = spec;
        this.weights = weights;
        this.be = be;
    }

    public Backend backend() { return be; }

    /** Receives the hidden states as transformers' {@code output_hidden_states} defines them. */
    @FunctionalInterface
    public interface HiddenObserver {
        /** {@code index} 0 = embeddings, 1..L-1 = layer outputs, L = after the final norm. */
        void hidden(int index, float[] x, int rows, int width);
    }

    // ==== inference ==============================================================================

    /** The KV cache of one sequence (created by the backend); grows as tokens arrive. */
    public final class State {
        final KvCache cache = be.kvCache(spec.layers, spec.kvHeads, spec.headDim, kvType);
        int length;
        /** Buffers reused by every decode step (calls of up to {@link #REUSED_ROWS} tokens). */
        private Buffers small;

        public int length() { return length; }

        /** Forgets everything from position {@code n} on (e.g. to re-run a different continuation). */
        public void truncate(int n) {
            if (n < 0 || n > length) throw new IllegalArgumentException("cannot truncate " + length + " tokens to " + n);
            length = n;
        }

        /** Makes room for {@code needed} positions, or refuses up front when the cache cannot fit. */
        public void ensure(int needed) { cache.ensure(needed); }

        private Buffers buffers(int rows) {
            if (rows > REUSED_ROWS) return new Buffers(rows, false, true);
            if (small == null) small = new Buffers(REUSED_ROWS, false, true);
            return small;
        }
    }

    /** Decode steps reuse one buffer set of this many rows; a longer prompt gets its own for the call. */
    private static final int REUSED_ROWS = 16;

    public State newState() { return new State(); }

    private volatile boolean prepared;

    /**
     * Readies every weight matrix for inference at once ({@link Backend#prepare}: on the CPU the
     * quantized ones are repacked, a whole matrix per thread), rather than each at its first matmul.
     * The first {@link #forward} calls it; callers that time loading apart from running call it first.
     */
    public void prepare() {
        if (prepared) return;
        synchronized (this) {
            if (prepared) return;
            java.util.List<Tensor> ws = new java.util.ArrayList<>();
            for (Weights.Linear l : weights.linears()) ws.add(l.w);
            ws.add(weights.lmHead);
            be.prepare(ws);
            prepared = true;
        }
    }

    private KvType kvType = KvType.F32;

    /**
     * How the KV caches of new states store keys and values: F32 (the default: transformers'
     * values, exact parity), F16 or Q8_0 (half or a quarter of the memory and of the bytes a long
     * context makes each decode step read, at a bounded error).
     */
    public Model kvType(KvType type) {
        this.kvType = java.util.Objects.requireNonNull(type);
        return this;
    }

    public KvType kvType() { return kvType; }

    /**
     * Runs {@code tokens} after what {@code st} holds; returns logits {@code [rows, vocab]} for every
     * token when {@code allLogits}, else for the last one only.
     */
    public float[] forward(State st, int[] tokens, boolean allLogits, HiddenObserver obs) {
        int T = tokens.length, H = spec.hidden, V = spec.vocab;
        if (T == 0) throw new IllegalArgumentException("no tokens to run");
        checkTokens(tokens);
        prepare();
        st.ensure(st.length + T);
        Pass c = new Pass(tokens, Positions.continuing(st.length, T), st.cache, st.length, st.buffers(T), false);
        be.embed(weights.embed, tokens, T, c.x, spec.numerics.embedScale().round(spec.embedScale));
        rnd(c.x, T * H);
        observe(obs, 0, c.x, T);
        for (int l = 0; l < spec.layers; l++) {
            layerForward(l, c, c.buf.acts);
            if (l < spec.layers - 1) observe(obs, l + 1, c.x, T);
        }
        st.length += T;
        norm(c.x, c.x, T, weights.finalNormW, weights.finalNormB, null, null);
        observe(obs, spec.layers, c.x, T);

        int rows = allLogits ? T : 1;
        Buf in = c.x;
        if (!allLogits) {
            in = be.alloc(H);
            be.copy(c.x, (T - 1) * H, in, 0, H);
        }
        Buf logits = be.alloc(rows * V);
        be.matmul(weights.lmHead, in, logits, rows, null);
        rnd(logits, rows * V);
        if (spec.logitScale != 1f) {
            be.scale(logits, logits, spec.logitScale, rows * V);
            rnd(logits, rows * V);
        }
        if (spec.finalSoftcap > 0) {
            if (lowPrecision()) be.softcapRounded(logits, rows * V, spec.finalSoftcap, spec.numerics);
            else be.softcap(logits, rows * V, spec.finalSoftcap);
        }
        float[] out = new float[rows * V];
        be.download(logits, 0, out, 0, rows * V);
        return out;
    }

    private void observe(HiddenObserver obs, int index, Buf x, int rows) {
        if (obs == null) return;
        float[] h = new float[rows * spec.hidden];
        be.download(x, 0, h, 0, h.length);
        obs.hidden(index, h, rows, spec.hidden);
    }

    private void checkTokens(int[] tokens) {
        for (int id : tokens)
            if (id < 0 || id >= spec.vocab) throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + spec.vocab + ")");
    }

    // ==== buffers of one forward call ============================================================

    /** The residual stream, one layer's activation buffers, and the scratch each MoE expert runs in. */
    private final class Buffers {
        final int rows;
        final Buf x;
        final LayerActs acts;
        final Buf xe;
        final LayerActs.MlpActs expert;

        /** {@code sharedActs}: one activation set for all layers (inference, and training with checkpointing). */
        Buffers(int rows, boolean training, boolean sharedActs) {
            this.rows = rows;
            x = be.alloc(rows * spec.hidden);
            acts = sharedActs ? new LayerActs(be, spec, null, rows, training) : null;
            int expertInter = 0;
            for (Spec.LayerSpec l : spec.layer) if (l.ffn() instanceof Spec.Moe m) expertInter = Math.max(expertInter, m.intermediate());
            xe = expertInter > 0 ? be.alloc(rows * spec.hidden) : null;
            expert = expertInter > 0 ? new LayerActs.MlpActs(be, rows, expertInter, spec.hidden, spec.gated, training) : null;
        }
    }

    /** One forward call: its rows, positions, KV cache (null in training), buffers, and the per-call RoPE tables and query factors. */
    private final class Pass {
        final int[] tokens;
        final int rows;
        final Positions p;
        final KvCache cache;
        final int start;
        final boolean training;
        final Buffers buf;
        final Buf x;
        /**
         * Training with checkpointing: per layer, the kept outputs of its input projections {q, k, v, up, gate}
         * (null: the layer recomputes them); {@code recomputing}: backward's recomputation reads them instead.
         */
        Buf[][] kept;
        boolean recomputing;
        private final Map<Rope, Buf[]> ropeTables = new IdentityHashMap<>();
        private final Map<Spec.QueryScale, Buf> factors = new IdentityHashMap<>();

        /** {@code training}: adapters run in training mode (LoRA dropout); only {@link #trainForward} sets it. */
        Pass(int[] tokens, Positions p, KvCache cache, int start, Buffers buf, boolean training) {
            this.tokens = tokens;
            this.rows = tokens.length;
            this.p = p;
            this.cache = cache;
            this.start = start;
            this.training = training;
            this.buf = buf;
            this.x = buf.x;
        }

        /** cos and sin for this call's positions, computed once per RoPE and shared by the layers using it. */
        Buf[] rope(Rope r) {
            return ropeTables.computeIfAbsent(r, k -> {
                float[][] cs = k.tables(p.pos, rows, spec.numerics.rope());
                if (!k.interleaved) { // rotate-half casts cos/sin to the activation dtype; Llama 4's complex form stays fp32
                    spec.numerics.activations().round(cs[0]);
                    spec.numerics.activations().round(cs[1]);
                }
                return new Buf[] {upload(cs[0]), upload(cs[1])};
            });
        }

        Buf factors(Spec.QueryScale s) {
            return factors.computeIfAbsent(s, k -> {
                float[] f = new float[rows];
                for (int t = 0; t < rows; t++) f[t] = k.factor(p.pos[t]);
                return upload(f);
            });
        }
    }

    private Buf upload(float[] host) {
        Buf b = be.alloc(host.length);
        be.upload(host, 0, b, 0, host.length);
        return b;
    }

    // ==== the layer: forward and backward ========================================================

    /**
     * One decoder layer on the residual stream {@code c.x} (updated in place), writing its
     * intermediates to {@code a}.
     */
    private void layerForward(int l, Pass c, LayerActs a) {
        Weights.Layer w = weights.layers[l];
        int T = c.rows, H = spec.hidden;
        Buf x = c.x;
        if (a.xIn != null) be.copy(x, 0, a.xIn, 0, T * H);
        Buf in = w.attnNormW == null ? x : norm(x, a.xnA, T, w.attnNormW, w.attnNormB, a.meanA, a.rstdA);
        attentionForward(l, c, a, in);
        Buf o = w.postAttnNormW == null ? a.o : norm(a.o, a.on, T, w.postAttnNormW, w.postAttnNormB, a.meanPA, a.rstdPA);
        residual(x, o, T * H);
        if (a.xMid != null) be.copy(x, 0, a.xMid, 0, T * H);
        in = w.ffnNormW == null ? x : norm(x, a.xnF, T, w.ffnNormW, w.ffnNormB, a.meanF, a.rstdF);
        Buf f = ffnForward(l, c, a, in);
        if (w.postFfnNormW != null) f = norm(f, a.fn != null ? a.fn : f, T, w.postFfnNormW, w.postFfnNormB, a.meanPF, a.rstdPF);
        residual(x, f, T * H);
    }

    /**
     * Gradient checkpointing's recomputation of layer {@code l} from its saved input and mid-layer
     * residual: exactly the forward's values of everything {@link #layerBackward} reads. The output
     * projections (o_proj, down_proj) only feed the residual stream, which the saved residuals make
     * unnecessary, so they are skipped unless a post-norm's backward reads their output.
     */
    private void layerRecompute(int l, Pass c, LayerActs a, Buf xIn, Buf xMid) {
        Weights.Layer w = weights.layers[l];
        int T = c.rows, H = spec.hidden;
        be.copy(xIn, 0, a.xIn, 0, T * H);
        Buf in = w.attnNormW == null ? a.xIn : norm(a.xIn, a.xnA, T, w.attnNormW, w.attnNormB, a.meanA, a.rstdA);
        attentionForward(l, c, a, in, w.postAttnNormW != null);
        if (w.postAttnNormW != null) norm(a.o, a.on, T, w.postAttnNormW, w.postAttnNormB, a.meanPA, a.rstdPA);
        be.copy(xMid, 0, a.xMid, 0, T * H);
        in = w.ffnNormW == null ? a.xMid : norm(a.xMid, a.xnF, T, w.ffnNormW, w.ffnNormB, a.meanF, a.rstdF);
        Buf f;
        if (spec.layer[l].ffn() instanceof Spec.Dense d) {
            mlpForward(w.mlp, in, T, d.intermediate(), a.mlp, c.training, w.postFfnNormW != null, c.kept == null ? null : c.kept[l], true);
            f = a.mlp.f;
        } else {
            f = ffnForward(l, c, a, in);
        }
        if (w.postFfnNormW != null) norm(f, a.fn != null ? a.fn : f, T, w.postFfnNormW, w.postFfnNormB, a.meanPF, a.rstdPF);
    }

    /**
     * {@code dx} holds the gradient with respect to the layer's output and leaves holding the
     * gradient with respect to its input: each residual add passes dx through and adds what its
     * branch sends back.
     */
    /**
     * {@code needDx}: whether the gradient with respect to the layer's input is used (false for the
     * first layer under a frozen embedding: q, k and v then skip their input-gradient products).
     */
    private void layerBackward(int l, Pass c, LayerActs a, Buf dx, boolean needDx, Grads g, Scratch s) {
        Weights.Layer w = weights.layers[l];
        int T = c.rows, H = spec.hidden;
        // x_out = x_mid + r * post_ffn_norm(ffn(ffn_norm(x_mid)))
        be.scale(dx, s.dBranch, spec.residualScale, T * H);
        Buf f = ffnOutput(l, a), dF = s.dBranch;
        if (w.postFfnNormW != null) {
            normBackward(f, w.postFfnNormW, w.postFfnNormB, a.meanPF, a.rstdPF, s.dBranch, T, s.dF, false, g);
            dF = s.dF;
        }
        boolean ffnNorm = w.ffnNormW != null;
        Buf in = ffnNorm ? a.xnF : a.xMid;
        ffnBackward(l, c, a, in, dF, ffnNorm ? s.dXn : dx, !ffnNorm, g, s);
        if (ffnNorm) normBackward(a.xMid, w.ffnNormW, w.ffnNormB, a.meanF, a.rstdF, s.dXn, T, dx, true, g);
        // x_mid = x_in + r * post_attn_norm(attention(attn_norm(x_in)))
        be.scale(dx, s.dBranch, spec.residualScale, T * H);
        Buf dO = s.dBranch;
        if (w.postAttnNormW != null) {
            normBackward(a.o, w.postAttnNormW, w.postAttnNormB, a.meanPA, a.rstdPA, s.dBranch, T, s.dF, false, g);
            dO = s.dF;
        }
        boolean attnNorm = w.attnNormW != null;
        boolean dIn = needDx || g.of(w.attnNormW) != null || g.of(w.attnNormB) != null;
        in = attnNorm ? a.xnA : a.xIn;
        attentionBackward(l, c, a, in, dO, !dIn ? null : attnNorm ? s.dXn : dx, !attnNorm, g, s);
        if (attnNorm && dIn) normBackward(a.xIn, w.attnNormW, w.attnNormB, a.meanA, a.rstdA, s.dXn, T, dx, true, g);
    }

    // ---- norms (RMSNorm or LayerNorm, as the architecture says) ---------------------------------

    private Buf norm(Buf x, Buf y, int rows, Buf w, Buf b, Buf mean, Buf rstd) {
        if (lowPrecision() && spec.layerNorm) be.layerNormRounded(x, y, rows, spec.hidden, w, b, spec.normEps, spec.normOnePlus, spec.numerics);
        else if (spec.layerNorm) be.layerNorm(x, y, rows, spec.hidden, w, b, spec.normEps, spec.normOnePlus, mean, rstd);
        else rmsNorm(x, y, rows, spec.hidden, w, spec.normOnePlus, rstd);
        return y;
    }

    private void rmsNorm(Buf x, Buf y, int rows, int n, Buf w, boolean onePlus, Buf rstd) {
        if (lowPrecision()) be.rmsNormRounded(x, y, rows, n, w, spec.normEps, onePlus, spec.numerics);
        else be.rmsNorm(x, y, rows, n, w, spec.normEps, onePlus, rstd);
    }

    // ---- numerics (doctor's low-precision emulation; nothing here runs with the default fp32 numerics) ----

    private boolean lowPrecision() { return spec.numerics.activations() != Precision.FP32; }

    /** Rounds an op's output to the activation dtype, as a PyTorch model held in that dtype stores it. */
    private void rnd(Buf x, int n) {
        if (lowPrecision()) be.round(x, 0, n, spec.numerics.activations());
    }

    /** {@code x += s * branch}; in a low-precision dtype the product and the sum are two rounded ops. */
    private void residual(Buf x, Buf branch, int n) {
        if (!lowPrecision()) {
            be.addScaled(x, branch, spec.residualScale, n);
            return;
        }
        if (spec.residualScale != 1f) {
            be.scale(branch, branch, spec.residualScale, n);
            rnd(branch, n);
        }
        be.addScaled(x, branch, 1f, n);
        rnd(x, n);
    }

    private void normBackward(Buf x, Buf w, Buf b, Buf mean, Buf rstd, Buf dy, int rows, Buf dx, boolean accumulate, Grads g) {
        if (spec.layerNorm) be.layerNormBackward(x, w, spec.normOnePlus, mean, rstd, dy, rows, spec.hidden, dx, accumulate, g.of(w), g.of(b));
        else be.rmsNormBackward(x, w, spec.normOnePlus, rstd, dy, rows, spec.hidden, dx, accumulate, g.of(w));
    }

    // ---- linear layers (with an optional adapter) ------------------------------------------------

    private void linear(Weights.Linear l, Buf x, Buf y, int rows, boolean training) {
        be.matmul(l.w, x, y, rows, l.bias);
        if (l.adapter != null) l.adapter.forward(be, x, y, rows, training);
        rnd(y, rows * l.out());
    }

    /** {@link #linear} of several layers reading the same x (q/k/v, gate/up), which the backend may run as one job. */
    private void linears(Weights.Linear[] ls, Buf x, Buf[] ys, int rows, boolean training) {
        Tensor[] ws = new Tensor[ls.length];
        Buf[] bias = new Buf[ls.length];
        for (int i = 0; i < ls.length; i++) {
            ws[i] = ls[i].w;
            bias[i] = ls[i].bias;
        }
        be.matmuls(ws, x, ys, rows, bias);
        for (int i = 0; i < ls.length; i++) {
            if (ls[i].adapter != null) ls[i].adapter.forward(be, x, ys[i], rows, training);
            rnd(ys[i], rows * ls[i].out());
        }
    }

    private void linearBackward(Weights.Linear l, Buf x, Buf dy, int rows, Buf dx, boolean accumulate, Grads g) {
        be.matmulBackward(l.w, x, dy, rows, dx, accumulate, g.of(l.w), g.of(l.bias));
        if (l.adapter != null) l.adapter.backward(be, x, dy, dx, rows);
    }

    // ---- attention ---------------------------------------------------------------------------------

    /** The buffers holding q and k after the QK norm and RoPE ([0], [2]) and as attention reads them ([1], [3]). */
    private Buf[] qk(int l, LayerActs a) {
        boolean norm = spec.qkNorm == Spec.QkNorm.PER_HEAD || spec.qkNorm == Spec.QkNorm.WHOLE;
        boolean l2 = spec.qkNorm == Spec.QkNorm.L2_AFTER_ROPE && spec.layer[l].rope() != null;
        Buf qr = norm ? a.qn : a.q, kr = norm ? a.kn : a.k;
        return new Buf[] {qr, l2 ? a.ql : qr, kr, l2 ? a.kl : kr};
    }

    private void attentionForward(int l, Pass c, LayerActs a, Buf in) { attentionForward(l, c, a, in, true); }

    /** {@code project}: also the output projection (a recomputation whose backward never reads it skips it). */
    private void attentionForward(int l, Pass c, LayerActs a, Buf in, boolean project) {
        Weights.Layer w = weights.layers[l];
        Spec.LayerSpec ls = spec.layer[l];
        int T = c.rows, hd = spec.headDim, heads = spec.heads, kvHeads = spec.kvHeads, kvD = kvHeads * hd;
        Buf[] kept = c.kept == null ? null : c.kept[l];
        if (kept != null && c.recomputing) {
            be.copy(kept[0], 0, a.q, 0, T * heads * hd);
            be.copy(kept[1], 0, a.k, 0, T * kvD);
            be.copy(kept[2], 0, a.v, 0, T * kvD);
        } else {
            linears(new Weights.Linear[] {w.q, w.k, w.v}, in, new Buf[] {a.q, a.k, a.v}, T, c.training);
            if (kept != null) {
                be.copy(a.q, 0, kept[0], 0, T * heads * hd);
                be.copy(a.k, 0, kept[1], 0, T * kvD);
                be.copy(a.v, 0, kept[2], 0, T * kvD);
            }
        }
        Buf[] qk = qk(l, a);
        switch (spec.qkNorm) {
            case PER_HEAD -> {
                rmsNorm(a.q, qk[0], T * heads, hd, w.qNorm, spec.normOnePlus, a.rstdQ);
                rmsNorm(a.k, qk[2], T * kvHeads, hd, w.kNorm, spec.normOnePlus, a.rstdK);
            }
            case WHOLE -> {
                rmsNorm(a.q, qk[0], T, heads * hd, w.qNorm, false, a.rstdQ);
                rmsNorm(a.k, qk[2], T, kvD, w.kNorm, false, a.rstdK);
            }
            default -> { }
        }
        Rope rope = ls.rope();
        if (rope != null) {
            Buf[] cs = c.rope(rope);
            if (lowPrecision()) {
                be.ropeRounded(qk[0], T, heads, hd, rope.rotaryDim, cs[0], cs[1], rope.interleaved, spec.numerics);
                be.ropeRounded(qk[2], T, kvHeads, hd, rope.rotaryDim, cs[0], cs[1], rope.interleaved, spec.numerics);
            } else {
                be.rope(qk[0], T, heads, hd, rope.rotaryDim, cs[0], cs[1], rope.interleaved, false);
                be.rope(qk[2], T, kvHeads, hd, rope.rotaryDim, cs[0], cs[1], rope.interleaved, false);
            }
            if (spec.qkNorm == Spec.QkNorm.L2_AFTER_ROPE) {
                rmsNorm(qk[0], qk[1], T * heads, hd, null, false, a.rstdQl);
                rmsNorm(qk[2], qk[3], T * kvHeads, hd, null, false, a.rstdKl);
            }
        }
        if (ls.queryScale() != null) {
            be.scaleRows(qk[1], c.factors(ls.queryScale()), T, heads * hd);
            rnd(qk[1], T * heads * hd);
        }
        boolean rounded = spec.numerics.roundsAttention();
        if (c.cache != null) {
            be.kvStore(c.cache, l, qk[3], a.v, c.start, T);
            if (rounded) be.attentionRounded(qk[1], T, c.p.pos, c.cache, l, heads, hd, spec.attnScale, spec.attnSoftcap, ls.mask(), a.att, spec.numerics);
            else be.attention(qk[1], T, c.p.pos, c.cache, l, heads, hd, spec.attnScale, spec.attnSoftcap, ls.mask(), a.att);
        } else if (rounded) {
            be.attentionRounded(qk[1], T, c.p.pos, c.p.keyBase, qk[3], a.v, heads, kvHeads, hd, spec.attnScale, spec.attnSoftcap, ls.mask(), a.att, spec.numerics);
        } else {
            be.attention(qk[1], T, c.p.pos, c.p.keyBase, qk[3], a.v, heads, kvHeads, hd, spec.attnScale, spec.attnSoftcap, ls.mask(), a.att, a.lse);
        }
        if (project) linear(w.o, a.att, a.o, T, c.training);
    }

    private void attentionBackward(int l, Pass c, LayerActs a, Buf in, Buf dO, Buf dIn, boolean accumulate, Grads g, Scratch s) {
        Weights.Layer w = weights.layers[l];
        Spec.LayerSpec ls = spec.layer[l];
        int T = c.rows, hd = spec.headDim, heads = spec.heads, kvHeads = spec.kvHeads, kvD = kvHeads * hd;
        linearBackward(w.o, a.att, dO, T, s.dAtt, false, g);
        Buf[] qk = qk(l, a);
        be.attentionBackward(qk[1], qk[3], a.v, a.att, a.lse, s.dAtt, T, c.p.pos, c.p.keyBase, heads, kvHeads, hd,
                spec.attnScale, spec.attnSoftcap, ls.mask(), s.dQ, s.dK, s.dV);
        if (ls.queryScale() != null) be.scaleRows(s.dQ, c.factors(ls.queryScale()), T, heads * hd);
        Rope rope = ls.rope();
        if (rope != null) {
            if (spec.qkNorm == Spec.QkNorm.L2_AFTER_ROPE) {
                be.rmsNormBackward(qk[0], null, false, a.rstdQl, s.dQ, T * heads, hd, s.dQ, false, null);
                be.rmsNormBackward(qk[2], null, false, a.rstdKl, s.dK, T * kvHeads, hd, s.dK, false, null);
            }
            Buf[] cs = c.rope(rope);
            be.rope(s.dQ, T, heads, hd, rope.rotaryDim, cs[0], cs[1], rope.interleaved, true);
            be.rope(s.dK, T, kvHeads, hd, rope.rotaryDim, cs[0], cs[1], rope.interleaved, true);
        }
        switch (spec.qkNorm) {
            case PER_HEAD -> {
                be.rmsNormBackward(a.q, w.qNorm, spec.normOnePlus, a.rstdQ, s.dQ, T * heads, hd, s.dQ, false, g.of(w.qNorm));
                be.rmsNormBackward(a.k, w.kNorm, spec.normOnePlus, a.rstdK, s.dK, T * kvHeads, hd, s.dK, false, g.of(w.kNorm));
            }
            case WHOLE -> {
                be.rmsNormBackward(a.q, w.qNorm, false, a.rstdQ, s.dQ, T, heads * hd, s.dQ, false, g.of(w.qNorm));
                be.rmsNormBackward(a.k, w.kNorm, false, a.rstdK, s.dK, T, kvD, s.dK, false, g.of(w.kNorm));
            }
            default -> { }
        }
        linearBackward(w.q, in, s.dQ, T, dIn, accumulate, g);
        linearBackward(w.k, in, s.dK, T, dIn, true, g);
        linearBackward(w.v, in, s.dV, T, dIn, true, g);
    }

    // ---- feed-forward: dense MLP or mixture of experts --------------------------------------------

    private Buf ffnForward(int l, Pass c, LayerActs a, Buf in) {
        return switch (spec.layer[l].ffn()) {
            case Spec.Dense d -> {
                mlpForward(weights.layers[l].mlp, in, c.rows, d.intermediate(), a.mlp, c.training, true, c.kept == null ? null : c.kept[l], false);
                yield a.mlp.f;
            }
            case Spec.Moe m -> {
                moeForward(weights.layers[l], m, c, a.moe, in);
                yield a.moe.out;
            }
        };
    }

    private Buf ffnOutput(int l, LayerActs a) {
        return spec.layer[l].ffn() instanceof Spec.Dense ? a.mlp.f : a.moe.out;
    }

    private void ffnBackward(int l, Pass c, LayerActs a, Buf in, Buf dF, Buf dIn, boolean accumulate, Grads g, Scratch s) {
        switch (spec.layer[l].ffn()) {
            case Spec.Dense d -> mlpBackward(weights.layers[l].mlp, in, c.rows, d.intermediate(), a.mlp, dF, dIn, accumulate, g, s);
            case Spec.Moe m -> moeBackward(weights.layers[l], m, c, a.moe, in, dF, dIn, accumulate, g, s);
        }
    }

    /** {@code f = down(act(gate(x)) * up(x))}, or {@code down(act(up(x)))} when not gated. */
    private void mlpForward(Weights.Mlp m, Buf in, int rows, int inter, LayerActs.MlpActs a, boolean training) {
        mlpForward(m, in, rows, inter, a, training, true, null, false);
    }

    /**
     * {@code down}: also the down projection (a recomputation whose backward never reads it skips it);
     * {@code kept}: where the up and gate outputs are kept ([3], [4]), {@code restore}: read them from there instead of computing them.
     */
    private void mlpForward(Weights.Mlp m, Buf in, int rows, int inter, LayerActs.MlpActs a, boolean training, boolean down, Buf[] kept,
                            boolean restore) {
        boolean gated = m.gate() != null;
        if (kept != null && restore) {
            be.copy(kept[3], 0, a.u, 0, rows * inter);
            if (gated) be.copy(kept[4], 0, a.g, 0, rows * inter);
        } else {
            if (gated) linears(new Weights.Linear[] {m.up(), m.gate()}, in, new Buf[] {a.u, a.g}, rows, training);
            else linear(m.up(), in, a.u, rows, training);
            if (kept != null) {
                be.copy(a.u, 0, kept[3], 0, rows * inter);
                if (gated) be.copy(a.g, 0, kept[4], 0, rows * inter);
            }
        }
        if (gated) {
            if (lowPrecision()) be.gatedRounded(spec.act, a.g, a.u, a.h, rows * inter, spec.numerics);
            else be.gated(spec.act, a.g, a.u, a.h, rows * inter);
        } else {
            be.activate(spec.act, a.u, a.h, rows * inter);
            rnd(a.h, rows * inter);
        }
        if (down) linear(m.down(), a.h, a.f, rows, training);
    }

    private void mlpBackward(Weights.Mlp m, Buf in, int rows, int inter, LayerActs.MlpActs a, Buf dF, Buf dIn, boolean accumulate,
                             Grads g, Scratch s) {
        linearBackward(m.down(), a.h, dF, rows, s.dH, false, g);
        if (m.gate() != null) {
            be.gatedBackward(spec.act, a.g, a.u, s.dH, s.dG, s.dU, rows * inter);
            linearBackward(m.gate(), in, s.dG, rows, dIn, accumulate, g);
            linearBackward(m.up(), in, s.dU, rows, dIn, true, g);
        } else {
            be.activateBackward(spec.act, a.u, s.dH, s.dU, rows * inter);
            linearBackward(m.up(), in, s.dU, rows, dIn, accumulate, g);
        }
    }

    /** Each expert's tokens (rows) and routing slots ({@code t * k + j}), in token order. */
    private record ExpertRows(int[][] rows, int[][] slots) {
        static ExpertRows of(int[] chosen, int tokens, int k, int experts) {
            int[] count = new int[experts];
            for (int i = 0; i < tokens * k; i++) count[chosen[i]]++;
            int[][] rows = new int[experts][], slots = new int[experts][];
            for (int e = 0; e < experts; e++) { rows[e] = new int[count[e]]; slots[e] = new int[count[e]]; }
            java.util.Arrays.fill(count, 0);
            for (int t = 0; t < tokens; t++)
                for (int j = 0; j < k; j++) {
                    int e = chosen[t * k + j], n = count[e]++;
                    rows[e][n] = t;
                    slots[e][n] = t * k + j;
                }
            return new ExpertRows(rows, slots);
        }
    }

    /**
     * Softmax routers (Mixtral, Qwen3-MoE) scale each expert's output by its routing weight; the
     * sigmoid router (Llama 4) scales the expert's input instead and adds an always-on shared expert.
     */
    private void moeForward(Weights.Layer w, Spec.Moe m, Pass c, LayerActs.MoeActs a, Buf in) {
        int T = c.rows, H = spec.hidden, E = m.experts(), K = m.topK();
        boolean sigmoid = m.routing() == Spec.Routing.SIGMOID_TOPK;
        linear(w.router, in, a.routerLogits, T, c.training);
        be.route(a.routerLogits, T, E, K, sigmoid, m.renormalize(), a.chosen, a.weights, a.probs);
        rnd(a.weights, T * K);
        be.fill(a.out, 0, T * H, 0f);
        ExpertRows er = ExpertRows.of(a.chosen, T, K, E);
        for (int e = 0; e < E; e++) {
            int n = er.rows[e].length;
            if (n == 0) continue;
            be.gatherRows(in, er.rows[e], sigmoid ? er.slots[e] : null, a.weights, n, H, c.buf.xe);
            mlpForward(w.experts[e], c.buf.xe, n, m.intermediate(), c.buf.expert, c.training);
            be.scatterAddRows(c.buf.expert.f, er.rows[e], sigmoid ? null : er.slots[e], a.weights, n, H, a.out);
        }
        rnd(a.out, T * H); // low precision: the experts' sum rounded once (transformers rounds each expert's share)
        if (w.shared != null) {
            mlpForward(w.shared, in, T, m.sharedIntermediate(), a.shared, c.training);
            be.addScaled(a.out, a.shared.f, 1f, T * H);
            rnd(a.out, T * H);
        }
    }

    /** Experts' activations are not kept: each expert's forward is recomputed here from its gathered input. */
    private void moeBackward(Weights.Layer w, Spec.Moe m, Pass c, LayerActs.MoeActs a, Buf in, Buf dF, Buf dIn, boolean accumulate,
                             Grads g, Scratch s) {
        int T = c.rows, H = spec.hidden, E = m.experts(), K = m.topK();
        boolean sigmoid = m.routing() == Spec.Routing.SIGMOID_TOPK;
        if (!accumulate) be.fill(dIn, 0, T * H, 0f);
        if (w.shared != null) mlpBackward(w.shared, in, T, m.sharedIntermediate(), a.shared, dF, dIn, true, g, s);
        be.fill(s.dWeights, 0, T * K, 0f);
        ExpertRows er = ExpertRows.of(a.chosen, T, K, E);
        for (int e = 0; e < E; e++) {
            int n = er.rows[e].length;
            if (n == 0) continue;
            int[] slotsIn = sigmoid ? er.slots[e] : null, slotsOut = sigmoid ? null : er.slots[e];
            be.gatherRows(in, er.rows[e], slotsIn, a.weights, n, H, c.buf.xe);
            mlpForward(w.experts[e], c.buf.xe, n, m.intermediate(), c.buf.expert, true);
            be.scatterAddRowsBackward(dF, er.rows[e], slotsOut, a.weights, c.buf.expert.f, n, H, s.dYe, s.dWeights);
            mlpBackward(w.experts[e], c.buf.xe, n, m.intermediate(), c.buf.expert, s.dYe, s.dXe, false, g, s);
            be.gatherRowsBackward(s.dXe, er.rows[e], slotsIn, a.weights, in, n, H, dIn, s.dWeights);
        }
        be.routeBackward(a.routerLogits, a.probs, a.chosen, a.weights, s.dWeights, T, E, K, sigmoid, m.renormalize(), s.dRouter);
        linearBackward(w.router, in, s.dRouter, T, dIn, true, g);
    }

    // ==== training ===============================================================================

    /**
     * What a training forward kept for the backward: each layer's activations, or with gradient
     * checkpointing only each layer's input (the layer is recomputed in backward, bit-identically),
     * plus the final norm's input and the normalised hidden states fed to the LM head.
     */
    public final class Record {
        final Pass pass;
        final boolean checkpointing;
        final LayerActs[] acts;
        /** With checkpointing: each layer's input and its residual after attention. */
        final Buf[] inputs, mids;
        /** With checkpointing: the layers that keep their input projections' outputs (see {@link #checkpointKeepBytes}). */
        final Buf[][] kept;
        final Buf finalIn, finalMean, finalRstd, hidden;
        Buf dHidden;
        /** With checkpointing: the shared activations still hold the last layer's forward (its recomputation is skipped). */
        boolean lastLayerLive;

        /** {@code reuse}: the previous step's record of the same shape, whose buffers this one takes over (null: allocate). */
        private Record(Pass pass, boolean checkpointing, Record reuse) {
            this.pass = pass;
            this.checkpointing = checkpointing;
            if (reuse != null) {
                acts = reuse.acts;
                inputs = reuse.inputs;
                mids = reuse.mids;
                kept = reuse.kept;
                finalIn = reuse.finalIn;
                finalMean = reuse.finalMean;
                finalRstd = reuse.finalRstd;
                hidden = reuse.hidden;
                dHidden = reuse.dHidden;
                return;
            }
            int T = pass.rows, H = spec.hidden;
            acts = new LayerActs[spec.layers];
            inputs = checkpointing ? new Buf[spec.layers] : null;
            mids = checkpointing ? new Buf[spec.layers] : null;
            kept = checkpointing ? keptProjections(T) : null;
            for (int l = 0; l < spec.layers; l++) {
                if (checkpointing) {
                    inputs[l] = be.alloc(T * H);
                    mids[l] = be.alloc(T * H);
                } else {
                    acts[l] = new LayerActs(be, spec, spec.layer[l], T, true);
                }
            }
            finalIn = be.alloc(T * H);
            finalMean = spec.layerNorm ? be.alloc(T) : null;
            finalRstd = be.alloc(T);
            hidden = be.alloc(T * H);
        }

        public int rows() { return pass.rows; }

        /** Layers whose recomputation in backward reads their kept projections instead of running them. */
        public int layersKeepingProjections() {
            int n = 0;
            if (kept != null) for (Buf[] k : kept) if (k != null) n++;
            return n;
        }

        private boolean fits(int rows, boolean checkpointing) { return pass.rows == rows && this.checkpointing == checkpointing; }

        /** The final-norm output {@code [rows, hidden]} (what the LM head reads). */
        public Buf hidden() { return hidden; }

        /** The gradient with respect to {@link #hidden}, filled by {@link #headLoss} (or by the caller for another loss). */
        public Buf dHidden() {
            if (dHidden == null) dHidden = be.alloc(pass.rows * spec.hidden);
            return dHidden;
        }
    }

    /**
     * The forward pass of training on one packed row of examples ({@code p} says where each starts):
     * the same layer code as inference, with no KV cache and each example attending only to itself.
     * The record is valid until the next {@code trainForward} on this model: a call of the same shape
     * (rows, checkpointing) takes over its buffers, as {@link #backward} takes over the last step's
     * scratch and the LM head its chunk buffers. A step allocates nothing large after the first, so
     * the heap stays at one step's working set (fresh buffers each step grew it by ~95 MiB a step
     * for small-270m at 256 tokens until a full collection).
     */
    public Record trainForward(int[] tokens, Positions p, boolean checkpointing) {
        int T = tokens.length, H = spec.hidden;
        if (T == 0 || p.rows != T) throw new IllegalArgumentException(T + " tokens for " + p.rows + " positions");
        if (!p.selfContained()) throw new IllegalArgumentException("training positions must restart at each example");
        if (!spec.numerics.isDefault()) throw new IllegalStateException("training runs in fp32; numerics " + spec.numerics + " are an inference emulation");
        checkTokens(tokens);
        Record reuse = lastRecord != null && lastRecord.fits(T, checkpointing) ? lastRecord : null;
        Pass c = new Pass(tokens, p, null, 0, reuse != null ? reuse.pass.buf : new Buffers(T, true, checkpointing), true);
        Record r = new Record(c, checkpointing, reuse);
        lastRecord = r;
        c.kept = r.kept;
        be.embed(weights.embed, tokens, T, c.x, spec.embedScale);
        for (int l = 0; l < spec.layers; l++) {
            if (checkpointing) be.copy(c.x, 0, r.inputs[l], 0, T * H);
            layerForward(l, c, checkpointing ? c.buf.acts : r.acts[l]);
            if (checkpointing) be.copy(c.buf.acts.xMid, 0, r.mids[l], 0, T * H);
        }
        r.lastLayerLive = checkpointing;
        be.copy(c.x, 0, r.finalIn, 0, T * H);
        norm(r.finalIn, r.hidden, T, weights.finalNormW, weights.finalNormB, r.finalMean, r.finalRstd);
        return r;
    }

    /**
     * Memory that gradient checkpointing may spend keeping the input projections' outputs (q, k, v, up,
     * gate) of dense layers, so that backward's recomputation of those layers copies them instead of
     * running their GEMMs (for small-270m at 256 tokens: 7.5 MiB a layer, 22 of a step's 163 GMAC).
     * Layers keep them from the first on while the total fits; the last layer is never recomputed.
     * 0 = recompute everything (plain per-layer checkpointing). Gradients are the same bits either way.
     */
    public void checkpointKeepBytes(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("checkpoint keep budget of " + bytes + " bytes");
        this.checkpointKeepBytes = bytes;
        lastRecord = null;
    }

    /** Per layer, buffers for its kept projections {q, k, v, up, gate (null when not gated)}, or null where the budget ends. */
    private Buf[][] keptProjections(int T) {
        Buf[][] kept = new Buf[spec.layers][];
        long left = checkpointKeepBytes;
        int qD = spec.heads * spec.headDim, kvD = spec.kvHeads * spec.headDim;
        for (int l = 0; l < spec.layers - 1; l++) {
            if (!(spec.layer[l].ffn() instanceof Spec.Dense d)) continue;
            int inter = d.intermediate();
            long bytes = 4L * T * (qD + 2L * kvD + (spec.gated ? 2L : 1L) * inter);
            if (bytes > left) break;
            left -= bytes;
            kept[l] = new Buf[] {be.alloc(T * qD), be.alloc(T * kvD), be.alloc(T * kvD), be.alloc(T * inter), spec.gated ? be.alloc(T * inter) : null};
        }
        return kept;
    }

    /** Rows per chunk of the fused LM head + cross-entropy (tests shrink it to exercise chunking). */
    public void lossChunkFloats(int floats) {
        if (floats < 1) throw new IllegalArgumentException("loss chunk of " + floats + " floats");
        this.lossChunkFloats = floats;
    }

    /**
     * The LM head and cross-entropy, fused and chunked by rows so that at most one chunk of fp32
     * logits exists at a time: per chunk, logits = hidden W^T, the loss and its gradient in place
     * ({@link Backend#crossEntropy}), then {@code dHidden = dlogits W} and {@code dW += dlogits^T
     * hidden}. Returns the summed loss over rows whose label is not {@link Positions#IGNORE};
     * gradients are those of {@code dScale * sum} (dScale = 1 / target tokens of the whole step for
     * a mean; 0 = loss only).
     */
    public double headLoss(Record r, int[] labels, float dScale, Grads g) {
        return headLoss(r.hidden, r.rows(), labels, dScale, g, dScale == 0f ? null : r.dHidden());
    }

    /**
     * Rows per chunk of the LM head: at most {@link #lossChunkFloats} logits, the rows split evenly
     * over the chunks and, from 32 rows on, a multiple of 32 (a whole number of the GEMMs' token
     * groups: 65 rows would run as 96).
     */
    private int lossChunkRows(int T) {
        int max = Math.max(1, Math.min(T, lossChunkFloats / spec.vocab));
        if (max >= 32) max = max / 32 * 32;
        int chunks = (T + max - 1) / max, rows = (T + chunks - 1) / chunks;
        return rows >= 32 ? Math.min(max, (rows + 31) / 32 * 32) : rows;
    }

    /** {@link #headLoss(Record, int[], float, Grads)} on final-norm outputs {@code hidden}; {@code dH} null: loss only. */
    private double headLoss(Buf hidden, int T, int[] labels, float dScale, Grads g, Buf dH) {
        int H = spec.hidden, V = spec.vocab;
        if (labels.length != T) throw new IllegalArgumentException(labels.length + " labels for " + T + " rows");
        int chunk = lossChunkRows(T);
        if (headBufs == null || headBufs[0].size() != chunk * H) headBufs = new Buf[] {be.alloc(chunk * H), be.alloc(chunk * V), null};
        if (dH != null && headBufs[2] == null) headBufs[2] = be.alloc(chunk * H);
        Buf xc = headBufs[0], logits = headBufs[1], dxc = dH == null ? null : headBufs[2];
        Buf dW = dH == null ? null : g.of(weights.lmHead);
        float ds = dH == null ? 0f : dScale;
        double sum = 0;
        for (int r0 = 0; r0 < T; r0 += chunk) {
            int n = Math.min(chunk, T - r0);
            boolean any = false;
            for (int t = r0; t < r0 + n; t++) any |= labels[t] >= 0;
            if (!any) {
                if (dH != null) be.fill(dH, r0 * H, n * H, 0f);
                continue;
            }
            be.copy(hidden, r0 * H, xc, 0, n * H);
            be.matmul(weights.lmHead, xc, logits, n, null);
            sum += be.crossEntropy(logits, n, V, labels, r0, spec.logitScale, spec.finalSoftcap, ds, null);
            if (dH == null) continue;
            be.matmulBackward(weights.lmHead, xc, logits, n, dxc, false, dW, null);
            be.copy(dxc, 0, dH, r0 * H, n * H);
        }
        return sum;
    }

    /**
     * The summed cross-entropy over {@code labels} (entries other than {@link Positions#IGNORE}) of
     * packed examples, without gradients: evaluation. Adapters run in inference mode (no dropout) and
     * nothing is kept per layer: one set of activation buffers serves every layer, as in inference.
     */
    public double loss(int[] tokens, Positions p, int[] labels) {
        int T = tokens.length;
        if (T == 0 || p.rows != T) throw new IllegalArgumentException(T + " tokens for " + p.rows + " positions");
        if (!p.selfContained()) throw new IllegalArgumentException("positions must restart at each example");
        if (!spec.numerics.isDefault()) throw new IllegalStateException("training runs in fp32; numerics " + spec.numerics + " are an inference emulation");
        checkTokens(tokens);
        Pass c = new Pass(tokens, p, null, 0, new Buffers(T, false, true), false);
        be.embed(weights.embed, tokens, T, c.x, spec.embedScale);
        for (int l = 0; l < spec.layers; l++) layerForward(l, c, c.buf.acts);
        norm(c.x, c.x, T, weights.finalNormW, weights.finalNormB, null, null);
        return headLoss(c.x, T, labels, 0f, null, null);
    }

    /** Gradient buffers of the backward, allocated once per step and reused by every layer. */
    private final class Scratch {
        final int rows;
        final Buf dx, dBranch, dF, dXn, dAtt, dQ, dK, dV, dG, dU, dH, dYe, dXe, dWeights, dRouter;

        Scratch(int T) {
            rows = T;
            int H = spec.hidden, qD = spec.heads * spec.headDim, kvD = spec.kvHeads * spec.headDim;
            int inter = 0, k = 0, experts = 0;
            for (Spec.LayerSpec l : spec.layer)
                switch (l.ffn()) {
                    case Spec.Dense d -> inter = Math.max(inter, d.intermediate());
                    case Spec.Moe m -> {
                        inter = Math.max(inter, Math.max(m.intermediate(), m.sharedIntermediate()));
                        k = Math.max(k, m.topK());
                        experts = Math.max(experts, m.experts());
                    }
                }
            dx = be.alloc(T * H);
            dBranch = be.alloc(T * H);
            dF = be.alloc(T * H);
            dXn = be.alloc(T * H);
            dAtt = be.alloc(T * qD);
            dQ = be.alloc(T * qD);
            dK = be.alloc(T * kvD);
            dV = be.alloc(T * kvD);
            dG = spec.gated ? be.alloc(T * inter) : null;
            dU = be.alloc(T * inter);
            dH = be.alloc(T * inter);
            dYe = experts > 0 ? be.alloc(T * H) : null;
            dXe = experts > 0 ? be.alloc(T * H) : null;
            dWeights = experts > 0 ? be.alloc(T * k) : null;
            dRouter = experts > 0 ? be.alloc(T * experts) : null;
        }
    }

    /**
     * Backpropagates {@link Record#dHidden} (set by {@link #headLoss}) through the final norm, every
     * layer in reverse and the embedding, accumulating into the gradients {@code g} holds.
     */
    public void backward(Record r, Grads g) {
        Pass c = r.pass;
        int T = c.rows, H = spec.hidden;
        Scratch s = lastScratch != null && lastScratch.rows == T ? lastScratch : new Scratch(T);
        lastScratch = s;
        c.recomputing = true;
        normBackward(r.finalIn, weights.finalNormW, weights.finalNormB, r.finalMean, r.finalRstd, r.dHidden(), T, s.dx, false, g);
        for (int l = spec.layers - 1; l >= 0; l--) {
            LayerActs a = r.acts[l];
            if (r.checkpointing) {
                a = c.buf.acts;
                if (l < spec.layers - 1 || !r.lastLayerLive) layerRecompute(l, c, a, r.inputs[l], r.mids[l]);
                r.lastLayerLive = false;
            }
            layerBackward(l, c, a, s.dx, l > 0 || g.of(weights.embed) != null, g, s);
        }
        Buf dE = g.of(weights.embed);
        if (dE != null) be.embedBackward(s.dx, c.tokens, T, H, spec.embedScale, dE);
    }
}

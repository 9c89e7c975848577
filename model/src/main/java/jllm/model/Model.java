package jllm.model;

import java.util.Arrays;
import jllm.tensor.Backend;

/**
 * The one decoder every architecture runs through: embeddings, then per layer
 * [norm] → attention → [norm] → residual, [norm] → MLP or MoE → [norm] → residual, then the final
 * norm and the LM head. What differs between architectures is data in {@link Spec}; the weights are
 * in {@link Weights}. Activations are fp32 {@code [tokens, width]} arrays.
 */
public final class Model {
    public final Spec spec;
    public final Weights weights;
    private final Backend be;

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

    /** The KV cache of one sequence; grows as tokens arrive, up to {@code max_position_embeddings}. */
    public final class State {
        final float[][] k = new float[spec.layers][], v = new float[spec.layers][];
        int length;
        int capacity;

        public int length() { return length; }

        /** Forgets everything from position {@code n} on (e.g. to re-run a different continuation). */
        public void truncate(int n) {
            if (n < 0 || n > length) throw new IllegalArgumentException("cannot truncate " + length + " tokens to " + n);
            length = n;
        }

        /**
         * Makes room for {@code needed} positions. transformers itself runs past
         * {@code max_position_embeddings} (RoPE scaling exists for that), so the only limit is memory:
         * a cache that cannot fit in the heap is refused up front instead of failing halfway.
         */
        public void ensure(int needed) {
            long perToken = 2L * spec.layers * spec.kvHeads * spec.headDim * Float.BYTES;
            long budget = Runtime.getRuntime().maxMemory() / 2;
            if (needed < 0 || needed * perToken > budget || (long) needed * spec.kvHeads * spec.headDim > Integer.MAX_VALUE - 8)
                throw new IllegalArgumentException("a KV cache for " + needed + " tokens needs " + (needed * perToken >> 20)
                        + " MiB, more than half the Java heap (" + (budget >> 20) + " MiB available); use a shorter context or a larger -Xmx");
            if (needed <= capacity) return;
            int cap = (int) Math.min(Integer.MAX_VALUE / Math.max(1, spec.kvHeads * spec.headDim) - 8, Math.max(needed, Math.max(16L, capacity * 2L)));
            int kv = spec.kvHeads * spec.headDim;
            for (int l = 0; l < spec.layers; l++) {
                k[l] = k[l] == null ? new float[cap * kv] : Arrays.copyOf(k[l], cap * kv);
                v[l] = v[l] == null ? new float[cap * kv] : Arrays.copyOf(v[l], cap * kv);
            }
            capacity = cap;
        }
    }

    public State newState() { return new State(); }

    /**
     * Runs {@code tokens} after what {@code st} holds; returns logits {@code [rows, vocab]} for every
     * token when {@code allLogits}, else for the last one only.
     */
    public float[] forward(State st, int[] tokens, boolean allLogits, HiddenObserver obs) {
        int T = tokens.length, H = spec.hidden;
        if (T == 0) throw new IllegalArgumentException("no tokens to run");
        st.ensure(st.length + T);
        int[] pos = new int[T];
        for (int t = 0; t < T; t++) pos[t] = st.length + t;

        float[] x = new float[T * H];
        for (int t = 0; t < T; t++) {
            int id = tokens[t];
            if (id < 0 || id >= spec.vocab) throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + spec.vocab + ")");
            weights.embed.read((long) id * H, x, t * H, H);
        }
        if (spec.embedScale != 1f) for (int i = 0; i < x.length; i++) x[i] *= spec.embedScale;
        if (obs != null) obs.hidden(0, x, T, H);

        float[] h = new float[T * H];
        for (int l = 0; l < spec.layers; l++) {
            Weights.Layer w = weights.layers[l];
            Spec.LayerSpec ls = spec.layer[l];
            float[] in = normOrSame(x, h, T, w.attnNormW, w.attnNormB);
            float[] o = attention(st, l, w, ls, in, T, pos);
            if (w.postAttnNormW != null) norm(o, o, T, w.postAttnNormW, w.postAttnNormB);
            addResidual(x, o);
            in = normOrSame(x, h, T, w.ffnNormW, w.ffnNormB);
            float[] f = switch (ls.ffn()) {
                case Spec.Dense d -> mlp(w.mlp, in, T, d.intermediate());
                case Spec.Moe m -> moe(w, m, in, T);
            };
            if (w.postFfnNormW != null) norm(f, f, T, w.postFfnNormW, w.postFfnNormB);
            addResidual(x, f);
            if (obs != null && l < spec.layers - 1) obs.hidden(l + 1, x, T, H);
        }
        st.length += T;
        norm(x, x, T, weights.finalNormW, weights.finalNormB);
        if (obs != null) obs.hidden(spec.layers, x, T, H);

        int rows = allLogits ? T : 1;
        float[] last = allLogits ? x : Arrays.copyOfRange(x, (T - 1) * H, T * H);
        float[] logits = new float[rows * spec.vocab];
        be.matmul(weights.lmHead, last, logits, rows, null);
        if (spec.logitScale != 1f) for (int i = 0; i < logits.length; i++) logits[i] *= spec.logitScale;
        if (spec.finalSoftcap > 0) {
            float c = spec.finalSoftcap;
            for (int i = 0; i < logits.length; i++) logits[i] = (float) (c * Math.tanh(logits[i] / c));
        }
        return logits;
    }

    private float[] attention(State st, int l, Weights.Layer w, Spec.LayerSpec ls, float[] in, int T, int[] pos) {
        int hd = spec.headDim, qDim = spec.heads * hd, kvDim = spec.kvHeads * hd;
        float[] q = new float[T * qDim], k = new float[T * kvDim], v = new float[T * kvDim];
        be.matmul(w.wq, in, q, T, w.bq);
        be.matmul(w.wk, in, k, T, w.bk);
        be.matmul(w.wv, in, v, T, w.bv);
        switch (spec.qkNorm) {
            case PER_HEAD -> {
                be.rmsNorm(q, q, T * spec.heads, hd, w.qNorm, spec.normEps, spec.normOnePlus);
                be.rmsNorm(k, k, T * spec.kvHeads, hd, w.kNorm, spec.normEps, spec.normOnePlus);
            }
            case WHOLE -> {
                be.rmsNorm(q, q, T, qDim, w.qNorm, spec.normEps, false);
                be.rmsNorm(k, k, T, kvDim, w.kNorm, spec.normEps, false);
            }
            default -> { }
        }
        Rope rope = ls.rope();
        if (rope != null) {
            float[][] cs = rope.tables(pos, T);
            be.rope(q, T, spec.heads, hd, rope.rotaryDim, cs[0], cs[1], rope.interleaved);
            be.rope(k, T, spec.kvHeads, hd, rope.rotaryDim, cs[0], cs[1], rope.interleaved);
            if (spec.qkNorm == Spec.QkNorm.L2_AFTER_ROPE) {
                be.rmsNorm(q, q, T * spec.heads, hd, null, spec.normEps, false);
                be.rmsNorm(k, k, T * spec.kvHeads, hd, null, spec.normEps, false);
            }
        }
        if (ls.tempTuning()) {
            for (int t = 0; t < T; t++) {
                float sc = (float) (Math.log(Math.floor((pos[t] + 1f) / spec.attnTempFloor) + 1.0) * spec.attnTempScale + 1.0);
                for (int i = t * qDim; i < (t + 1) * qDim; i++) q[i] *= sc;
            }
        }
        System.arraycopy(k, 0, st.k[l], st.length * kvDim, T * kvDim);
        System.arraycopy(v, 0, st.v[l], st.length * kvDim, T * kvDim);
        float[] att = new float[T * qDim];
        be.attention(q, T, pos, st.k[l], st.v[l], spec.heads, spec.kvHeads, hd, spec.attnScale, spec.attnSoftcap, ls.mask(), att);
        float[] o = new float[T * spec.hidden];
        be.matmul(w.wo, att, o, T, w.bo);
        return o;
    }

    private float[] mlp(Weights.Mlp m, float[] in, int T, int inter) {
        float[] u = new float[T * inter];
        be.matmul(m.up(), in, u, T, m.upB());
        float[] a;
        if (m.gate() != null) {
            float[] g = new float[T * inter];
            be.matmul(m.gate(), in, g, T, m.gateB());
            a = g;
            be.gated(spec.act, g, u, a, T * inter);
        } else {
            be.activate(spec.act, u, T * inter);
            a = u;
        }
        float[] out = new float[T * spec.hidden];
        be.matmul(m.down(), a, out, T, m.downB());
        return out;
    }

    private float[] moe(Weights.Layer w, Spec.Moe m, float[] in, int T) {
        int H = spec.hidden, E = m.experts(), K = m.topK();
        float[] logits = new float[T * E];
        be.matmul(w.router, in, logits, T, null);
        int[] chosen = new int[T * K];
        float[] weight = new float[T * K];
        float[] p = new float[E];
        for (int t = 0; t < T; t++) {
            System.arraycopy(logits, t * E, p, 0, E);
            if (m.routing() == Spec.Routing.SOFTMAX_TOPK) softmax(p);
            topK(p, K, chosen, t * K);
            float sum = 0;
            for (int j = 0; j < K; j++) {
                float s = p[chosen[t * K + j]];
                weight[t * K + j] = m.routing() == Spec.Routing.SIGMOID_TOPK ? (float) (1.0 / (1.0 + Math.exp(-s))) : s;
                sum += weight[t * K + j];
            }
            if (m.renormalize()) for (int j = 0; j < K; j++) weight[t * K + j] /= sum;
        }
        float[] out = new float[T * H];
        int[] rowsOf = new int[T];
        float[] wOf = new float[T];
        for (int e = 0; e < E; e++) {
            int n = 0;
            for (int t = 0; t < T; t++)
                for (int j = 0; j < K; j++)
                    if (chosen[t * K + j] == e) { rowsOf[n] = t; wOf[n++] = weight[t * K + j]; }
            if (n == 0) continue;
            float[] xin = new float[n * H];
            for (int r = 0; r < n; r++) {
                System.arraycopy(in, rowsOf[r] * H, xin, r * H, H);
                // Llama 4 scales the expert's input by the routing score; softmax routers scale its output.
                if (m.routing() == Spec.Routing.SIGMOID_TOPK) for (int i = 0; i < H; i++) xin[r * H + i] *= wOf[r];
            }
            float[] y = mlp(w.experts[e], xin, n, m.intermediate());
            for (int r = 0; r < n; r++) {
                float sc = m.routing() == Spec.Routing.SIGMOID_TOPK ? 1f : wOf[r];
                int o = rowsOf[r] * H;
                for (int i = 0; i < H; i++) out[o + i] += y[r * H + i] * sc;
            }
        }
        if (w.shared != null) {
            float[] s = mlp(w.shared, in, T, m.sharedIntermediate());
            for (int i = 0; i < out.length; i++) out[i] = s[i] + out[i];
        }
        return out;
    }

    /** In-place fp32 softmax with the max subtracted. */
    static void softmax(float[] p) {
        float max = Float.NEGATIVE_INFINITY;
        for (float f : p) max = Math.max(max, f);
        float sum = 0;
        for (int i = 0; i < p.length; i++) { p[i] = (float) Math.exp(p[i] - max); sum += p[i]; }
        for (int i = 0; i < p.length; i++) p[i] /= sum;
    }

    /** Indices of the k largest values, largest first; ties go to the lower index. */
    static void topK(float[] p, int k, int[] out, int off) {
        boolean[] taken = new boolean[p.length];
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < p.length; i++) if (!taken[i] && (best < 0 || p[i] > p[best])) best = i;
            taken[best] = true;
            out[off + j] = best;
        }
    }

    private float[] normOrSame(float[] x, float[] scratch, int T, float[] w, float[] b) {
        if (w == null) return x;
        norm(x, scratch, T, w, b);
        return scratch;
    }

    private void norm(float[] x, float[] y, int T, float[] w, float[] b) {
        if (spec.layerNorm) be.layerNorm(x, y, T, spec.hidden, w, b, spec.normEps, spec.normOnePlus);
        else be.rmsNorm(x, y, T, spec.hidden, w, spec.normEps, spec.normOnePlus);
    }

    private void addResidual(float[] x, float[] branch) {
        float r = spec.residualScale;
        if (r == 1f) for (int i = 0; i < x.length; i++) x[i] += branch[i];
        else for (int i = 0; i < x.length; i++) x[i] += branch[i] * r;
    }
}

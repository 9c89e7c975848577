package jllm.model;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jllm.formats.FormatException;
import jllm.formats.TensorStore;
import jllm.tensor.Backend;
import jllm.tensor.Buf;
import jllm.tensor.Shapes;
import jllm.tensor.Tensor;

/**
 * The weights of a decoder, read from a {@link TensorStore} by the names in its {@link Spec},
 * shape-checked and handed to the backend once ({@link Backend#weight} for matrices, backend
 * buffers for norm weights and biases). {@link #params} lists every tensor with its place among
 * transformers' parameters, for gradients and full fine-tuning.
 */
public final class Weights {
    public Tensor embed, lmHead;
    public Buf finalNormW, finalNormB;
    public Layer[] layers;
    /** Every weight the forward reads, with where it sits among transformers' (5.x, in-memory) parameters. */
    public final List<Entry> params = new ArrayList<>();

    /**
     * A linear layer {@code y = x W^T (+ b)}, W {@code [out, in]} in any stored format, plus an
     * optional {@link Adapter} whose output is added to y (LoRA). The fields are mutable so a trainer
     * can swap in a trainable fp32 copy of W ({@link Weights#replace}) or attach an adapter.
     */
    public static final class Linear {
        public Tensor w;
        public Buf bias;
        public Adapter adapter;

        public Linear(Tensor w, Buf bias) {
            this.w = w;
            this.bias = bias;
        }

        public int out() { return w.dim(0); }

        public int in() { return w.dim(1); }
    }

    /**
     * Something added to a linear layer's output: LoRA's {@code y += s * dropout(x) A^T B^T} with
     * the base W frozen in whatever format it is stored in. The shared decoder calls
     * {@link #forward} right after the base product and {@link #backward} right after the base
     * backward. Gradient checkpointing runs a layer's forward twice per step (once, then again in
     * backward), so forward must be a deterministic function of its input and the step (a dropout
     * mask drawn from a counter-based generator, not a running one).
     */
    public interface Adapter {
        /** {@code y [rows, out] += adapter(x [rows, in])}; {@code training} enables dropout. */
        void forward(Backend be, Buf x, Buf y, int rows, boolean training);

        /** Accumulates the adapter's own parameter gradients and, when dx is not null, {@code dx += d adapter / dx}. */
        void backward(Backend be, Buf x, Buf dy, Buf dx, int rows);
    }

    /** A dense gated (or plain) MLP; gate is null when not gated. */
    public record Mlp(Linear gate, Linear up, Linear down) {}

    public static final class Layer {
        public Linear q, k, v, o;
        public Buf qNorm, kNorm;
        public Buf attnNormW, attnNormB, postAttnNormW, postAttnNormB, ffnNormW, ffnNormB, postFfnNormW, postFfnNormB;
        public Mlp mlp;
        public Linear router;
        public Mlp[] experts;
        public Mlp shared;
    }

    /**
     * Where a weight sits among transformers' parameters: all of tensor {@code name}, or, for
     * weights transformers keeps fused, matrix {@code expert} (-1 = none) of it at row
     * {@code offset} (column {@code offset}, transposed, for input-major layouts such as Llama 4's
     * experts). {@code pairedHeadDim > 0}: the rows are in llama.cpp's order for RoPE on adjacent
     * pairs (Q/K of Llama-architecture GGUF files): within each head of that size, row {@code 2i + b}
     * is transformers' row {@code b * headDim / 2 + i}.
     */
    public record Origin(String name, int expert, int offset, boolean transposed, int pairedHeadDim) {
        public Origin(String name, int expert, int offset, boolean transposed) { this(name, expert, offset, transposed, 0); }

        public static Origin of(String name) { return new Origin(name, -1, 0, false); }

        /** transformers' row for row {@code r} of this weight (undoing the pair order). */
        public int hfRow(int r) {
            if (pairedHeadDim == 0) return r;
            int h = r / pairedHeadDim, j = r % pairedHeadDim;
            return h * pairedHeadDim + (j % 2) * (pairedHeadDim / 2) + j / 2;
        }
    }

    /** A weight ({@link Tensor} or, for vectors, {@link Buf}) and its origin. */
    public record Entry(Object key, Origin origin) {
        public long[] shape() {
            return key instanceof Tensor t ? t.shape() : new long[] {((Buf) key).size()};
        }
    }

    private final TensorStore st;
    private final Spec s;
    private final Backend be;
    private final Set<String> used = new HashSet<>();

    private Weights(TensorStore st, Spec s, Backend be) {
        this.st = new Recording(st, used);
        this.s = s;
        this.be = be;
    }

    /**
     * Remembers every tensor read, whoever reads it (the shared loader or an architecture's hook for
     * fused weights), so "unexpected tensors" are exactly those nothing asked for.
     */
    private record Recording(TensorStore inner, Set<String> used) implements TensorStore {
        @Override public String source() { return inner.source(); }
        @Override public Set<String> names() { return inner.names(); }
        @Override public Info info(String name) { return inner.info(name); }
        @Override public long[] longs(String name) { return inner.longs(name); }

        @Override
        public Tensor tensor(String name) {
            Tensor t = inner.tensor(name);
            used.add(name);
            return t;
        }
    }

    /** Loads and checks every weight; tensors the architecture does not use are reported as unexpected. */
    public static Weights load(TensorStore st, Spec s, Architecture arch, Backend be) {
        Weights w = new Weights(st, s, be);
        w.loadAll(arch);
        return w;
    }

    private void loadAll(Architecture arch) {
        Spec.Names n = s.names;
        embed = param(mat(n.embed, s.vocab, s.hidden), Origin.of(n.embed));
        if (st.has(n.lmHead)) lmHead = param(mat(n.lmHead, s.vocab, s.hidden), Origin.of(n.lmHead));
        else if (s.tiedEmbeddings) lmHead = embed;
        else throw st.missing(n.lmHead + "' (and tie_word_embeddings is false");
        finalNormW = vec(n.finalNorm + ".weight", s.hidden);
        finalNormB = s.layerNorm ? optVec(n.finalNorm + ".bias", s.hidden) : null;
        layers = new Layer[s.layers];
        int q = s.heads * s.headDim, kv = s.kvHeads * s.headDim;
        for (int i = 0; i < s.layers; i++) {
            String p = String.format(n.layer, i);
            Layer l = new Layer();
            Tensor[] qkv = arch.qkv(st, p, s);
            Origin[] qkvAt = arch.qkvOrigins(p, s);
            l.q = linear(check(qkv[0], p + n.q, q, s.hidden), qkvAt[0], s.qkvBias ? p + n.q : null);
            l.k = linear(check(qkv[1], p + n.k, kv, s.hidden), qkvAt[1], s.qkvBias ? p + n.k : null);
            l.v = linear(check(qkv[2], p + n.v, kv, s.hidden), qkvAt[2], s.qkvBias ? p + n.v : null);
            l.o = linear(mat(p + n.o + ".weight", s.hidden, q), Origin.of(p + n.o + ".weight"), s.oBias ? p + n.o : null);
            switch (s.qkNorm) {
                case PER_HEAD -> { l.qNorm = vec(p + n.qNorm + ".weight", s.headDim); l.kNorm = vec(p + n.kNorm + ".weight", s.headDim); }
                case WHOLE -> { l.qNorm = vec(p + n.qNorm + ".weight", q); l.kNorm = vec(p + n.kNorm + ".weight", kv); }
                default -> { }
            }
            if (n.attnNorm != null) { l.attnNormW = vec(p + n.attnNorm + ".weight", s.hidden); l.attnNormB = normBias(p + n.attnNorm); }
            if (n.postAttnNorm != null) { l.postAttnNormW = vec(p + n.postAttnNorm + ".weight", s.hidden); l.postAttnNormB = normBias(p + n.postAttnNorm); }
            if (n.ffnNorm != null) { l.ffnNormW = vec(p + n.ffnNorm + ".weight", s.hidden); l.ffnNormB = normBias(p + n.ffnNorm); }
            if (n.postFfnNorm != null) { l.postFfnNormW = vec(p + n.postFfnNorm + ".weight", s.hidden); l.postFfnNormB = normBias(p + n.postFfnNorm); }
            switch (s.layer[i].ffn()) {
                case Spec.Dense d -> l.mlp = denseMlp(arch, p, d.intermediate(), n.gate, n.up, n.down);
                case Spec.Moe m -> {
                    l.router = linear(mat(p + n.router + ".weight", m.experts(), s.hidden), arch.routerOrigin(p, s), null);
                    l.experts = new Mlp[m.experts()];
                    for (int e = 0; e < m.experts(); e++) {
                        Tensor[] g = arch.expert(st, p, e, s);
                        Origin[] at = arch.expertOrigins(p, e, m.intermediate(), s);
                        String ep = p + String.format(n.expert, e);
                        l.experts[e] = new Mlp(linear(check(g[0], ep + n.expertGate, m.intermediate(), s.hidden), at[0], null),
                                linear(check(g[1], ep + n.expertUp, m.intermediate(), s.hidden), at[1], null),
                                linear(check(g[2], ep + n.expertDown, s.hidden, m.intermediate()), at[2], null));
                    }
                    if (m.sharedIntermediate() > 0)
                        l.shared = denseMlp(arch, p, m.sharedIntermediate(), n.shared + "gate_proj", n.shared + "up_proj", n.shared + "down_proj");
                }
            }
            layers[i] = l;
        }
    }

    private Mlp denseMlp(Architecture arch, String p, int inter, String gate, String up, String down) {
        Spec.Names n = s.names;
        boolean defaultNames = gate.equals(n.gate);
        Tensor[] gu = defaultNames ? arch.gateUp(st, p, s)
                : new Tensor[] {s.gated ? st.tensor(p + gate + ".weight") : null, st.tensor(p + up + ".weight")};
        Origin[] at = defaultNames ? arch.gateUpOrigins(p, s) : new Origin[] {Origin.of(p + gate + ".weight"), Origin.of(p + up + ".weight")};
        boolean b = s.mlpBias;
        Linear g = gu[0] == null ? null : linear(check(gu[0], p + gate, inter, s.hidden), at[0], b ? p + gate : null);
        Linear u = linear(check(gu[1], p + up, inter, s.hidden), at[1], b ? p + up : null);
        Linear d = linear(mat(p + down + ".weight", s.hidden, inter), Origin.of(p + down + ".weight"), b ? p + down : null);
        return new Mlp(g, u, d);
    }

    /** A linear layer; {@code biasPrefix} names its bias ({@code prefix.bias}) when it has one. */
    private Linear linear(Tensor w, Origin at, String biasPrefix) {
        Buf b = biasPrefix == null ? null : vec(biasPrefix + ".bias", w.dim(0));
        return new Linear(param(w, at), b);
    }

    private Tensor param(Tensor t, Origin at) {
        Tensor w = be.weight(t);
        params.add(new Entry(w, at));
        return w;
    }

    private Buf normBias(String prefix) {
        return s.layerNorm ? optVec(prefix + ".bias", s.hidden) : null;
    }

    private Tensor mat(String name, long rows, long cols) {
        return check(st.tensor(name), name.endsWith(".weight") ? name.substring(0, name.length() - 7) : name, rows, cols);
    }

    private Tensor check(Tensor t, String name, long rows, long cols) {
        if (t.rank() != 2 || t.shape()[0] != rows || t.shape()[1] != cols)
            throw new FormatException(st.source() + ": tensor '" + name + "' has shape " + Shapes.str(t.shape()) + ", expected [" + rows + ", " + cols + "] from config.json");
        return t;
    }

    private Buf vec(String name, long n) {
        Tensor t = st.tensor(name);
        if (t.numel() != n || t.rank() != 1)
            throw new FormatException(st.source() + ": tensor '" + name + "' has shape " + Shapes.str(t.shape()) + ", expected [" + n + "] from config.json");
        Buf b = be.wrap(t.toFloatArray());
        params.add(new Entry(b, Origin.of(name)));
        return b;
    }

    private Buf optVec(String name, long n) {
        return st.has(name) ? vec(name, n) : null;
    }

    /** Every linear layer (attention, MLPs, router, experts), in layer order. */
    public List<Linear> linears() {
        List<Linear> out = new ArrayList<>();
        for (Layer l : layers) {
            for (Linear x : new Linear[] {l.q, l.k, l.v, l.o, l.router}) if (x != null) out.add(x);
            List<Mlp> mlps = new ArrayList<>();
            if (l.mlp != null) mlps.add(l.mlp);
            if (l.experts != null) mlps.addAll(List.of(l.experts));
            if (l.shared != null) mlps.add(l.shared);
            for (Mlp m : mlps) for (Linear x : new Linear[] {m.gate(), m.up(), m.down()}) if (x != null) out.add(x);
        }
        return out;
    }

    /**
     * Puts {@code now} wherever {@code old} is used (a trainable fp32 copy of a stored weight); a tied
     * LM head follows its embedding.
     */
    public void replace(Tensor old, Tensor now) {
        if (embed == old) embed = now;
        if (lmHead == old) lmHead = now;
        for (Linear l : linears()) if (l.w == old) l.w = now;
        for (int i = 0; i < params.size(); i++) if (params.get(i).key() == old) params.set(i, new Entry(now, params.get(i).origin()));
    }

    /** Says where {@code key} sits (a file format that stores it differently from transformers). */
    public void origin(Object key, Origin at) {
        for (int i = 0; i < params.size(); i++) if (params.get(i).key() == key) params.set(i, new Entry(key, at));
    }

    /** The origin of each weight, by identity. */
    public Map<Object, Origin> origins() {
        Map<Object, Origin> m = new IdentityHashMap<>();
        for (Entry e : params) m.put(e.key(), e.origin());
        return m;
    }

    /** Tensors in the checkpoint that nothing read (a sign of a wrong architecture or a broken export). */
    public static Set<String> unexpected(TensorStore st, Weights w) {
        Set<String> out = new java.util.TreeSet<>(st.names());
        out.removeAll(w.used);
        out.removeIf(x -> x.endsWith("rotary_emb.inv_freq"));
        return out;
    }
}

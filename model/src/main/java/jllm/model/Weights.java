package jllm.model;

import java.util.HashSet;
import java.util.Set;
import jllm.formats.FormatException;
import jllm.formats.TensorStore;
import jllm.tensor.Shapes;
import jllm.tensor.Tensor;

/** The weights of a decoder, read from a {@link TensorStore} by the names in its {@link Spec}, shape-checked. */
public final class Weights {
    public Tensor embed, lmHead;
    public float[] finalNormW, finalNormB;
    public Layer[] layers;

    /** A dense gated (or plain) MLP; gate is null when not gated. */
    public record Mlp(Tensor gate, Tensor up, Tensor down, float[] gateB, float[] upB, float[] downB) {}

    public static final class Layer {
        public Tensor wq, wk, wv, wo;
        public float[] bq, bk, bv, bo, qNorm, kNorm;
        public float[] attnNormW, attnNormB, postAttnNormW, postAttnNormB, ffnNormW, ffnNormB, postFfnNormW, postFfnNormB;
        public Mlp mlp;
        public Tensor router;
        public Mlp[] experts;
        public Mlp shared;
    }

    private final TensorStore st;
    private final Spec s;
    private final Set<String> used = new HashSet<>();

    private Weights(TensorStore st, Spec s) {
        this.st = new Recording(st, used);
        this.s = s;
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
    public static Weights load(TensorStore st, Spec s, Architecture arch) {
        Weights w = new Weights(st, s);
        w.loadAll(arch);
        return w;
    }

    private void loadAll(Architecture arch) {
        Spec.Names n = s.names;
        embed = mat(n.embed, s.vocab, s.hidden);
        if (st.has(n.lmHead)) lmHead = mat(n.lmHead, s.vocab, s.hidden);
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
            l.wq = check(qkv[0], p + n.q, q, s.hidden);
            l.wk = check(qkv[1], p + n.k, kv, s.hidden);
            l.wv = check(qkv[2], p + n.v, kv, s.hidden);
            l.wo = mat(p + n.o + ".weight", s.hidden, q);
            if (s.qkvBias) {
                l.bq = vec(p + n.q + ".bias", q);
                l.bk = vec(p + n.k + ".bias", kv);
                l.bv = vec(p + n.v + ".bias", kv);
            }
            if (s.oBias) l.bo = vec(p + n.o + ".bias", s.hidden);
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
                    l.router = mat(p + n.router + ".weight", m.experts(), s.hidden);
                    l.experts = new Mlp[m.experts()];
                    for (int e = 0; e < m.experts(); e++) {
                        Tensor[] g = arch.expert(st, p, e, s);
                        String ep = p + String.format(n.expert, e);
                        l.experts[e] = new Mlp(check(g[0], ep + n.expertGate, m.intermediate(), s.hidden),
                                check(g[1], ep + n.expertUp, m.intermediate(), s.hidden),
                                check(g[2], ep + n.expertDown, s.hidden, m.intermediate()), null, null, null);
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
        Tensor g = gu[0] == null ? null : check(gu[0], p + gate, inter, s.hidden);
        Tensor u = check(gu[1], p + up, inter, s.hidden);
        Tensor d = mat(p + down + ".weight", s.hidden, inter);
        float[] gb = null, ub = null, db = null;
        if (s.mlpBias) {
            gb = g == null ? null : vec(p + gate + ".bias", inter);
            ub = vec(p + up + ".bias", inter);
            db = vec(p + down + ".bias", s.hidden);
        }
        return new Mlp(g, u, d, gb, ub, db);
    }

    private float[] normBias(String prefix) {
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

    private float[] vec(String name, long n) {
        Tensor t = st.tensor(name);
        if (t.numel() != n || t.rank() != 1)
            throw new FormatException(st.source() + ": tensor '" + name + "' has shape " + Shapes.str(t.shape()) + ", expected [" + n + "] from config.json");
        return t.toFloatArray();
    }

    private float[] optVec(String name, long n) {
        return st.has(name) ? vec(name, n) : null;
    }

    /** Tensors in the checkpoint that nothing read (a sign of a wrong architecture or a broken export). */
    public static Set<String> unexpected(TensorStore st, Weights w) {
        Set<String> out = new java.util.TreeSet<>(st.names());
        out.removeAll(w.used);
        out.removeIf(x -> x.endsWith("rotary_emb.inv_freq"));
        return out;
    }
}

package jllm.model.gguf;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import jllm.formats.FormatException;
import jllm.formats.TensorStore;
import jllm.formats.gguf.GgufFile;
import jllm.formats.gguf.GgufTensorStore;
import jllm.model.Config;
import jllm.model.Model;
import jllm.model.ModelLoader;
import jllm.model.Spec;
import jllm.tensor.Backend;
import jllm.tensor.Tensor;

/**
 * Runs a llama.cpp GGUF model on the shared decoder: metadata becomes a config.json, GGUF tensor
 * names map back to HF names (stacked experts become per-expert row views), and llama.cpp's own
 * conventions are undone in the spec rather than in the weights: Llama-architecture files rotate
 * adjacent pairs (their Q/K rows were permuted for that), Gemma files store norm gains as 1 + w,
 * and {@code rope_freqs} carries Llama 3.1 frequency scaling.
 */
public final class GgufModelLoader {
    private GgufModelLoader() {}

    public static Model load(Path path, Backend be, Consumer<String> warn) {
        GgufFile f = GgufFile.openManaged(path);
        GgufTensorStore gs = new GgufTensorStore(f);
        Config c = new Config(GgufConfig.toHf(f), path.toString());
        String arch = f.getString("general.architecture", "");
        float[] ropeFreqs = GgufConfig.factors(f, "rope_freqs.weight");
        Spec[] holder = new Spec[1];
        Consumer<Spec> adjust = s -> {
            holder[0] = s;
            boolean inter = TensorMap.permutesQk(arch);
            for (int i = 0; i < s.layers; i++) {
                Spec.LayerSpec l = s.layer[i];
                if (l.rope() == null) continue;
                var r = l.rope().withInterleaved(inter);
                if (ropeFreqs != null) r = r.withFrequencyFactors(ropeFreqs);
                s.layer[i] = new Spec.LayerSpec(l.mask(), r, l.ffn(), l.queryScale());
            }
            if (s.normOnePlus && !s.layerNorm) s.normOnePlus = false; // llama.cpp's Gemma converter stored 1 + w
        };
        // The spec decides the names, so map lazily: the store resolves HF names on first use.
        MappedStore ms = new MappedStore(gs, () -> holder[0]);
        Model m = ModelLoader.build(c, ms, be, warn, adjust, Set.of());
        if (TensorMap.permutesQk(arch))
            // Q/K rows stay in the file's pair order (RoPE runs interleaved); gradients and trained weights map back through the origin
            for (jllm.model.Weights.Layer l : m.weights.layers)
                for (Object w : new Object[] {l.q.w, l.k.w, l.q.bias, l.k.bias}) {
                    var o = w == null ? null : m.weights.origins().get(w);
                    if (o != null) m.weights.origin(w, new jllm.model.Weights.Origin(o.name(), o.expert(), o.offset(), o.transposed(), m.spec.headDim));
                }
        return m;
    }

    /** HF-named view of a GGUF file's tensors. */
    static final class MappedStore implements TensorStore {
        private final GgufTensorStore gs;
        private final java.util.function.Supplier<Spec> spec;
        private Map<String, TensorMap.Entry> byHf;

        MappedStore(GgufTensorStore gs, java.util.function.Supplier<Spec> spec) {
            this.gs = gs;
            this.spec = spec;
        }

        private Map<String, TensorMap.Entry> map() {
            if (byHf == null) {
                byHf = new LinkedHashMap<>();
                for (TensorMap.Entry e : TensorMap.entries(spec.get())) if (gs.has(e.gguf())) byHf.put(e.hf(), e);
                Set<String> used = new java.util.HashSet<>();
                byHf.values().forEach(e -> used.add(e.gguf()));
                used.addAll(Set.of("rope_freqs.weight", "rope_factors_long.weight", "rope_factors_short.weight"));
                Set<String> extra = new java.util.TreeSet<>(gs.names());
                extra.removeAll(used);
                if (!extra.isEmpty()) throw new FormatException(gs.source() + ": tensors this architecture does not use: " + extra);
            }
            return byHf;
        }

        @Override public String source() { return gs.source(); }

        @Override public Set<String> names() { return map().keySet(); }

        private final Map<String, Tensor> cache = new HashMap<>();

        @Override
        public Tensor tensor(String name) {
            TensorMap.Entry e = map().get(name);
            if (e == null) throw missing(name);
            return cache.computeIfAbsent(name, n -> {
                Tensor t = gs.tensor(e.gguf());
                if (e.role() != TensorMap.Role.EXPERT) return t;
                long[] s = t.shape(); // [E, rows, cols]
                if (s.length != 3 || s[0] != e.experts())
                    throw new FormatException(gs.source() + ": " + e.gguf() + " has shape " + java.util.Arrays.toString(s) + ", expected [" + e.experts() + ", rows, cols]");
                return t.reshape(s[0] * s[1], s[2]).rows(e.expert() * s[1], s[1]);
            });
        }

        @Override
        public long[] longs(String name) { return gs.longs(name); }
    }
}

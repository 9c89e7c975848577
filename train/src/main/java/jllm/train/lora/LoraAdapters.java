package jllm.train.lora;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jllm.model.Weights;
import jllm.tensor.Tensor;
import jllm.train.Param;
import jllm.train.peft.LoraPair;

/**
 * LoRA attached to a loaded model: one {@link LoraWeights} per adapted linear layer, set as that
 * layer's {@link Weights.Linear#adapter}. Module names are the Hugging Face ones the weights were
 * loaded from ({@code model.layers.0.self_attn.q_proj}), so targets resolve as in PEFT and the pairs
 * save under PEFT's names. A projection transformers keeps fused (Phi-3's {@code qkv_proj},
 * {@code gate_up_proj}) is one module with one pair, whose row ranges serve the decoder's q/k/v (or
 * gate/up) views. MoE routers and expert stacks stored as one fused tensor (Llama 4, Qwen3-MoE in
 * transformers 5) are not adapted.
 */
public final class LoraAdapters {
    public final LoraConfig config;
    /** The adapted modules in the model's order. */
    public final List<LoraWeights> pairs;
    /** Per pair: the head size when the layer's rows are in llama.cpp's pair order (Q/K of a Llama GGUF), else 0. */
    private final int[] pairedHeadDim;

    private LoraAdapters(LoraConfig config, List<LoraWeights> pairs, int[] pairedHeadDim) {
        this.config = config;
        this.pairs = List.copyOf(pairs);
        this.pairedHeadDim = pairedHeadDim;
    }

    /** One linear layer of the decoder and the rows of its module it computes. */
    private record Part(Weights.Linear linear, int first, Weights.Origin origin) { }

    /** The model's adaptable linear layers by Hugging Face module name (fused modules: several row ranges). */
    private static Map<String, List<Part>> modules(Weights w) {
        Map<Tensor, Weights.Origin> origin = new IdentityHashMap<>();
        for (Weights.Entry e : w.params) if (e.key() instanceof Tensor t) origin.put(t, e.origin());
        Map<String, List<Part>> modules = new LinkedHashMap<>();
        for (Weights.Layer l : w.layers) {
            List<Weights.Linear> linears = new ArrayList<>(List.of(l.q, l.k, l.v, l.o));
            addMlp(linears, l.mlp);
            addMlp(linears, l.shared);
            if (l.experts != null) for (Weights.Mlp m : l.experts) addMlp(linears, m);
            for (Weights.Linear lin : linears) {
                Weights.Origin o = origin.get(lin.w);
                if (o == null || o.expert() >= 0 || o.transposed() || !o.name().endsWith(".weight")) continue;
                String module = o.name().substring(0, o.name().length() - ".weight".length());
                modules.computeIfAbsent(module, k -> new ArrayList<>()).add(new Part(lin, o.offset(), o));
            }
        }
        return modules;
    }

    /** Creates and attaches the adapters {@code cfg} selects (PEFT init from {@code seed}). */
    public static LoraAdapters attach(Weights w, LoraConfig cfg, long seed) {
        Map<String, List<Part>> modules = modules(w);
        List<LoraWeights> pairs = new ArrayList<>();
        List<String> chosen = cfg.resolve(modules.keySet());
        int[] paired = new int[chosen.size()];
        for (String module : chosen) {
            List<Part> parts = modules.get(module);
            LoraWeights lora = LoraWeights.create(module, parts.get(0).linear.in(), outRows(parts), cfg, seed);
            paired[pairs.size()] = pairedHeadDim(parts);
            plug(module, parts, lora);
            pairs.add(lora);
        }
        return new LoraAdapters(cfg, pairs, paired);
    }

    /**
     * Attaches a saved adapter (jllm's or one written by PEFT) to a loaded model, without merging: each
     * pair goes on the module of the same Hugging Face name, with the adapter's scale (alpha / r, or
     * alpha / sqrt(r) with rsLoRA). B's rows are put in the model's row order where a GGUF file keeps
     * Q/K in llama.cpp's pair order. Every pair must find its module with the same shape.
     */
    public static LoraAdapters load(Weights w, jllm.train.peft.PeftAdapter adapter) {
        jllm.train.peft.LoraConfig pc = adapter.config;
        if (!adapter.saved.isEmpty())
            throw new IllegalArgumentException("the adapter trains whole modules too (modules_to_save: " + String.join(", ", adapter.saved.keySet())
                    + "); only LoRA pairs can be applied without merging");
        Map<String, List<Part>> modules = modules(w);
        List<LoraWeights> pairs = new ArrayList<>();
        int[] paired = new int[adapter.layers.size()];
        java.util.LinkedHashSet<String> leaves = new java.util.LinkedHashSet<>();
        for (LoraPair p : adapter.layers.values()) {
            List<Part> parts = modules.get(p.module());
            if (parts == null) {
                List<String> some = modules.keySet().stream().limit(4).toList();
                throw new IllegalArgumentException("the adapter's module " + p.module() + " is not a linear layer of this model (it has e.g. "
                        + String.join(", ", some) + "); was it trained on another architecture?");
            }
            int in = parts.get(0).linear.in(), out = outRows(parts);
            if (p.in() != in || p.out() != out)
                throw new IllegalArgumentException("the adapter's " + p.module() + " is [" + p.out() + ", " + p.in() + "] but the model's layer is ["
                        + out + ", " + in + "]; was it trained on another model?");
            int hd = pairedHeadDim(parts);
            float[] b = hd == 0 ? p.b().clone() : permuteRows(p.b(), p.r(), parts.get(0).origin, false);
            LoraWeights lora = new LoraWeights(p.module(), new Param(LoraWeights.peftName(p.module(), "A"), new long[] {p.r(), in}, p.a().clone()),
                    new Param(LoraWeights.peftName(p.module(), "B"), new long[] {out, p.r()}, b), pc.scale(), pc.dropout());
            paired[pairs.size()] = hd;
            plug(p.module(), parts, lora);
            pairs.add(lora);
            leaves.add(p.module().substring(p.module().lastIndexOf('.') + 1));
        }
        LoraConfig cfg = new LoraConfig(pc.r(), pc.alpha(), pc.dropout(), pc.useRslora(), List.copyOf(leaves));
        return new LoraAdapters(cfg, pairs, paired);
    }

    /** Takes the adapters off the model again (the layers compute their base product only). */
    public static void detachAll(Weights w) {
        for (Weights.Linear l : w.linears()) l.adapter = null;
    }

    private static int outRows(List<Part> parts) {
        int out = 0;
        for (Part p : parts) out = Math.max(out, p.first + p.linear.out());
        return out;
    }

    private static int pairedHeadDim(List<Part> parts) {
        return parts.size() == 1 ? parts.get(0).origin.pairedHeadDim() : 0;
    }

    private static void plug(String module, List<Part> parts, LoraWeights lora) {
        for (Part p : parts) {
            if (p.linear.adapter != null) throw new IllegalStateException(module + " already has an adapter");
            p.linear.adapter = p.first == 0 && p.linear.out() == lora.out ? lora : lora.rows(p.first, p.linear.out());
        }
    }

    /**
     * B's rows between transformers' order and the model's (llama.cpp's pair order): model row r is
     * transformers' row {@code origin.hfRow(r)}. {@code toHf}: model order in, transformers' order out.
     */
    private static float[] permuteRows(float[] b, int r, Weights.Origin origin, boolean toHf) {
        float[] out = new float[b.length];
        int rows = b.length / r;
        for (int row = 0; row < rows; row++) {
            int hf = origin.hfRow(row);
            if (toHf) System.arraycopy(b, row * r, out, hf * r, r);
            else System.arraycopy(b, hf * r, out, row * r, r);
        }
        return out;
    }

    private static void addMlp(List<Weights.Linear> out, Weights.Mlp m) {
        if (m == null) return;
        if (m.gate() != null) out.add(m.gate());
        out.add(m.up());
        out.add(m.down());
    }

    /** Every trainable parameter (A and B of each pair), for the optimizer. */
    public List<Param> params() {
        List<Param> out = new ArrayList<>();
        for (LoraWeights p : pairs) {
            out.add(p.a);
            out.add(p.b);
        }
        return out;
    }

    /** Dropout masks for the next micro-batch (see {@link LoraWeights#setStep}). */
    public void setStep(long runSeed, long step, int microBatch) {
        for (LoraWeights p : pairs) p.setStep(runSeed, step, microBatch);
    }

    /**
     * The pairs as {@link jllm.train.peft.PeftAdapter} saves them: the arrays themselves, except B of a
     * layer whose rows the model holds in llama.cpp's pair order (a copy in transformers' order).
     */
    public List<LoraPair> peftPairs() {
        List<LoraPair> out = new ArrayList<>();
        for (int i = 0; i < pairs.size(); i++) {
            LoraWeights p = pairs.get(i);
            float[] b = pairedHeadDim[i] == 0 ? p.b.value
                    : permuteRows(p.b.value, p.rank, new Weights.Origin("", -1, 0, false, pairedHeadDim[i]), true);
            out.add(new LoraPair(p.module, p.rank, p.in, p.out, p.a.value, b));
        }
        return out;
    }

    /**
     * The settings as {@link jllm.train.peft.PeftAdapter} records them: {@code target_modules} are the
     * leaf names actually adapted ({@code all-linear} resolved), as PEFT writes them.
     */
    public jllm.train.peft.LoraConfig peftConfig(List<String> modulesToSave, String baseModel) {
        java.util.LinkedHashSet<String> leaves = new java.util.LinkedHashSet<>();
        for (LoraWeights p : pairs) leaves.add(p.module.substring(p.module.lastIndexOf('.') + 1));
        return new jllm.train.peft.LoraConfig(config.r(), config.alpha(), config.dropout(), List.copyOf(leaves), config.rsLora(), modulesToSave, baseModel);
    }

    /** Trainable parameters in all pairs. */
    public long parameterCount() {
        long n = 0;
        for (LoraWeights p : pairs) n += (long) p.rank * (p.in + p.out);
        return n;
    }
}

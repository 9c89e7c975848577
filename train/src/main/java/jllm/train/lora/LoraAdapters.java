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

    private LoraAdapters(LoraConfig config, List<LoraWeights> pairs) {
        this.config = config;
        this.pairs = List.copyOf(pairs);
    }

    /** One linear layer of the decoder and the rows of its module it computes. */
    private record Part(Weights.Linear linear, int first) { }

    /** Creates and attaches the adapters {@code cfg} selects (PEFT init from {@code seed}). */
    public static LoraAdapters attach(Weights w, LoraConfig cfg, long seed) {
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
                modules.computeIfAbsent(module, k -> new ArrayList<>()).add(new Part(lin, o.offset()));
            }
        }
        List<LoraWeights> pairs = new ArrayList<>();
        for (String module : cfg.resolve(modules.keySet())) {
            List<Part> parts = modules.get(module);
            int in = parts.get(0).linear.in(), out = 0;
            for (Part p : parts) out = Math.max(out, p.first + p.linear.out());
            LoraWeights lora = LoraWeights.create(module, in, out, cfg, seed);
            for (Part p : parts) {
                if (p.linear.adapter != null) throw new IllegalStateException(module + " already has an adapter");
                p.linear.adapter = p.first == 0 && p.linear.out() == out ? lora : lora.rows(p.first, p.linear.out());
            }
            pairs.add(lora);
        }
        return new LoraAdapters(cfg, pairs);
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

    /** The pairs as {@link jllm.train.peft.PeftAdapter} saves them (the arrays themselves, not copies). */
    public List<LoraPair> peftPairs() {
        List<LoraPair> out = new ArrayList<>();
        for (LoraWeights p : pairs) out.add(new LoraPair(p.module, p.rank, p.in, p.out, p.a.value, p.b.value));
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

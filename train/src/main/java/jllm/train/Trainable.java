package jllm.train;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import jllm.model.Grads;
import jllm.model.Model;
import jllm.train.lora.LoraAdapters;
import jllm.train.lora.LoraConfig;

/**
 * What a run trains on a loaded model: LoRA adapters, full fine-tuning of all or selected weights, or
 * both (LoRA plus weights trained in full, PEFT's {@code modules_to_save}). Holds the {@link Param}s the
 * optimizer updates and the {@link Grads} the model's backward writes into; every gradient lives in
 * its parameter's {@code grad} array, so zeroing the parameters zeroes everything.
 */
public final class Trainable {
    private final List<Param> params;
    private final Grads grads;
    private final LoraAdapters lora;

    private Trainable(List<Param> params, Grads grads, LoraAdapters lora) {
        if (params.isEmpty()) throw new IllegalArgumentException("nothing to train: no parameter selected");
        this.params = List.copyOf(params);
        this.grads = grads;
        this.lora = lora;
    }

    /**
     * Attaches LoRA adapters as {@code cfg} says (PEFT's init from {@code seed}); the base stays frozen in
     * whatever format it was loaded or quantized in.
     */
    public static Trainable lora(Model m, LoraConfig cfg, long seed) {
        LoraAdapters a = LoraAdapters.attach(m.weights, cfg, seed);
        return new Trainable(a.params(), new Grads(), a);
    }

    /** Adapters already attached to the model (e.g. loaded from a PEFT directory to continue training). */
    public static Trainable lora(LoraAdapters attached) {
        return new Trainable(attached.params(), new Grads(), attached);
    }

    /**
     * Full fine-tuning of every weight whose transformers name {@code include} accepts ({@code n -> true}:
     * all): each becomes an fp32 master copy trained in place ({@link FullFineTuning}).
     */
    public static Trainable full(Model m, Predicate<String> include) {
        Grads g = new Grads();
        List<Param> p = FullFineTuning.trainable(m, g, include);
        if (p.isEmpty()) throw new IllegalArgumentException("full fine-tuning: no weight of the model matches the selection");
        return new Trainable(p, g, null);
    }

    /** LoRA adapters plus weights trained in full ({@code include} as in {@link #full}). */
    public static Trainable loraAndFull(Model m, LoraConfig cfg, long seed, Predicate<String> include) {
        Trainable l = lora(m, cfg, seed), f = full(m, include);
        List<Param> all = new ArrayList<>(l.params);
        all.addAll(f.params);
        return new Trainable(all, f.grads, l.lora);
    }

    /** Every trained parameter, adapters first, in the model's order: what the optimizer steps and a checkpoint saves. */
    public List<Param> params() { return params; }

    /** Where the model's backward writes the gradients of weights trained in full (empty for LoRA alone). */
    public Grads grads() { return grads; }

    /** The attached adapters, or null when no LoRA is trained. */
    public LoraAdapters lora() { return lora; }

    /** Number of trained values. */
    public long parameterCount() {
        long n = 0;
        for (Param p : params) n += p.value.length;
        return n;
    }

    void zeroGrads() {
        for (Param p : params) p.zeroGrad();
    }
}

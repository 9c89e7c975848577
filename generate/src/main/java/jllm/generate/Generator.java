package jllm.generate;

import java.util.function.IntPredicate;
import jllm.model.Model;

/** Prefill the prompt in one batched forward pass, then decode one token at a time on the KV cache. */
public final class Generator {
    private final Model model;

    public Generator(Model model) { this.model = model; }

    public interface TokenListener { void token(int id); }

    /**
     * Generates up to {@code maxTokens} tokens after {@code prompt}; stops early after a token for
     * which {@code stop} is true (that token is included). Returns the generated ids only.
     */
    public int[] generate(int[] prompt, int maxTokens, Sampler sampler, IntPredicate stop, TokenListener listener) {
        if (prompt.length == 0) throw new IllegalArgumentException("empty prompt: give at least one token (e.g. BOS)");
        Model.State st = model.newState();
        int budget = Math.max(0, Math.min(maxTokens, model.spec.maxPositions - prompt.length));
        int[] out = new int[budget];
        if (budget == 0) return out;
        float[] logits = model.forward(st, prompt, false, null);
        int n = 0;
        int vocab = model.spec.vocab;
        while (true) {
            int next = sampler.sample(logits, 0, vocab);
            out[n++] = next;
            if (listener != null) listener.token(next);
            if (n >= budget || (stop != null && stop.test(next))) break;
            logits = model.forward(st, new int[] {next}, false, null);
        }
        return java.util.Arrays.copyOf(out, n);
    }
}

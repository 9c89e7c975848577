package jllm.generate;

/** Picks the next token from a row of logits. */
@FunctionalInterface
public interface Sampler {
    int sample(float[] logits, int off, int vocab);

    /** Argmax; ties go to the lowest id, as torch.argmax does. */
    Sampler GREEDY = (logits, off, vocab) -> {
        int best = 0;
        for (int i = 1; i < vocab; i++) if (logits[off + i] > logits[off + best]) best = i;
        return best;
    };
}

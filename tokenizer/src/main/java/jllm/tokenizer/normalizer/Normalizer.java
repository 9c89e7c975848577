package jllm.tokenizer.normalizer;

/** Rewrites text before pre-tokenization (offsets are not tracked: jllm only needs ids). */
public interface Normalizer {
    String normalize(String s);
}

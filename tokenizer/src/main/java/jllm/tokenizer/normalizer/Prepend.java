package jllm.tokenizer.normalizer;

/** Prepends a string to non-empty text. */
public record Prepend(String prefix) implements Normalizer {
    @Override
    public String normalize(String s) { return s.isEmpty() ? s : prefix + s; }
}

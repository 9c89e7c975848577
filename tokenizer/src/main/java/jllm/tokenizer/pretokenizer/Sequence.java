package jllm.tokenizer.pretokenizer;

import java.util.List;

/** Applies pre-tokenizers in order, each to the pieces of the previous one. */
public record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
    @Override
    public List<String> apply(List<String> pieces, boolean atStart) {
        List<String> cur = pieces;
        for (PreTokenizer p : steps) cur = p.apply(cur, atStart);
        return cur;
    }
}

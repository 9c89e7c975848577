package jllm.tokenizer.pretokenizer;

import jllm.tokenizer.util.IntList;

import java.util.ArrayList;
import java.util.List;

/** Splits every piece on a pattern with a delimiter behavior (tokenizers' Split, Punctuation, Digits...). */
public record Split(SplitPattern pattern, Behavior behavior, boolean invert) implements PreTokenizer {
    @Override
    public List<String> apply(List<String> pieces, boolean atStart) {
        List<String> out = new ArrayList<>(pieces.size() * 4);
        IntList spans = new IntList(64);
        for (String p : pieces) {
            spans.clear();
            pattern.findMatches(p, spans);
            behavior.split(p, spans, invert, out);
        }
        return out;
    }
}

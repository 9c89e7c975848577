package jllm.tokenizer.pretokenizer;

import jllm.tokenizer.util.IntList;

/** A plain-string split pattern. */
public record LiteralPattern(String literal) implements SplitPattern {
    @Override
    public void findMatches(String s, IntList spans) {
        if (literal.isEmpty()) return;
        int i = 0;
        while ((i = s.indexOf(literal, i)) >= 0) {
            spans.add(i);
            spans.add(i + literal.length());
            i += literal.length();
        }
    }
}

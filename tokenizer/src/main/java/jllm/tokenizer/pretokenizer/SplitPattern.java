package jllm.tokenizer.pretokenizer;

import jllm.tokenizer.util.IntList;

/** Finds the non-overlapping matches of a split pattern, appending (start, end) char offsets. */
public interface SplitPattern {
    void findMatches(String s, IntList spans);
}

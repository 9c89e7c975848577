package jllm.tokenizer.processor;

import jllm.tokenizer.util.IntList;

/** Adds special tokens around an encoded sequence (only when special tokens are requested). */
public interface PostProcessor {
    IntList process(IntList ids);
}

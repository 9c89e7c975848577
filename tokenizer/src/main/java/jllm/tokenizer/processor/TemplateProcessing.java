package jllm.tokenizer.processor;

import jllm.tokenizer.util.IntList;

/**
 * tokenizers' TemplateProcessing for single sequences: the template is a list of items, each either
 * the sequence itself or the ids of a special token (pairs are not needed by jllm).
 */
public record TemplateProcessing(int[][] items) implements PostProcessor {
    /** An item that stands for the input sequence. */
    public static final int[] SEQUENCE = new int[0];

    @Override
    public IntList process(IntList ids) {
        IntList out = new IntList(ids.size() + 4);
        for (int[] item : items) {
            if (item == SEQUENCE) out.addAll(ids);
            else out.addAll(item);
        }
        return out;
    }
}

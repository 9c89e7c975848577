package jllm.tokenizer.processor;

import jllm.tokenizer.util.IntList;

import java.util.List;

public record ProcessorSequence(List<PostProcessor> steps) implements PostProcessor {
    @Override
    public IntList process(IntList ids) {
        for (PostProcessor p : steps) ids = p.process(ids);
        return ids;
    }
}

package jllm.tokenizer.normalizer;

import java.util.List;

public record NormalizerSequence(List<Normalizer> steps) implements Normalizer {
    @Override
    public String normalize(String s) {
        for (Normalizer n : steps) s = n.normalize(s);
        return s;
    }
}

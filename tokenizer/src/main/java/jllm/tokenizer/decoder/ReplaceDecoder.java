package jllm.tokenizer.decoder;

import jllm.tokenizer.normalizer.Replace;

import java.util.ArrayList;
import java.util.List;

public record ReplaceDecoder(Replace replace) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        for (String t : tokens) out.add(replace.normalize(t));
        return out;
    }
}

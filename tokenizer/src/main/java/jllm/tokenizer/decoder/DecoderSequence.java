package jllm.tokenizer.decoder;

import java.util.List;

public record DecoderSequence(List<Decoder> steps) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
        for (Decoder d : steps) tokens = d.decodeChain(tokens);
        return tokens;
    }
}

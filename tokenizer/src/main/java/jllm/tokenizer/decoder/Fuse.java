package jllm.tokenizer.decoder;

import java.util.List;

public record Fuse() implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) { return List.of(String.join("", tokens)); }
}

package jllm.tokenizer.decoder;

import java.util.List;

/** One step of tokenizers' decode chain: token strings in, token strings out (joined at the end). */
public interface Decoder {
    List<String> decodeChain(List<String> tokens);
}

package jllm.tokenizer.decoder;

import java.util.ArrayList;
import java.util.List;

/** Replacement chars back to spaces; in the first token they are dropped altogether unless the scheme is "never" (as tokenizers does). */
public record MetaspaceDecoder(char replacement, boolean stripFirst) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        for (int i = 0; i < tokens.size(); i++) {
            String t = i == 0 && stripFirst ? tokens.get(i).replace(String.valueOf(replacement), "")
                    : tokens.get(i).replace(replacement, ' ');
            out.add(t);
        }
        return out;
    }
}

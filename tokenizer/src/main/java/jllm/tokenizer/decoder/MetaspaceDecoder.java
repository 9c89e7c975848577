package jllm.tokenizer.decoder;

import java.util.ArrayList;
import java.util.List;

/** Replacement char back to spaces; the first token loses its leading space unless the scheme is "never". */
public record MetaspaceDecoder(char replacement, boolean stripFirst) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i).replace(replacement, ' ');
            if (i == 0 && stripFirst && t.startsWith(" ")) t = t.substring(1);
            out.add(t);
        }
        return out;
    }
}

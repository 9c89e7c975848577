package jllm.tokenizer.decoder;

import java.util.ArrayList;
import java.util.List;

/** Joins WordPiece tokens: continuation prefixes removed, spaces before word starts, optional cleanup. */
public record WordPieceDecoder(String prefix, boolean cleanup) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i);
            if (i != 0) t = t.startsWith(prefix) ? t.substring(prefix.length()) : " " + t;
            if (cleanup) t = cleanup(t);
            out.add(t);
        }
        return out;
    }

    /** transformers' clean_up_tokenization: no space before punctuation and common contractions. */
    public static String cleanup(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }
}

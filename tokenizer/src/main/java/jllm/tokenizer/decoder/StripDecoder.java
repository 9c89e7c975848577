package jllm.tokenizer.decoder;

import java.util.ArrayList;
import java.util.List;

/** Removes up to {@code start} leading and {@code stop} trailing occurrences of a char from every token. */
public record StripDecoder(char content, int start, int stop) implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        for (String t : tokens) {
            int a = 0;
            while (a < start && a < t.length() && t.charAt(a) == content) a++;
            int b = t.length(), k = 0;
            while (k < stop && b > a && t.charAt(b - 1) == content) { b--; k++; }
            out.add(t.substring(a, b));
        }
        return out;
    }
}

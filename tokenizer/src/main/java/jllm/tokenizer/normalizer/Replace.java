package jllm.tokenizer.normalizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Replaces every occurrence of a literal or regex with a literal (no group references, as in tokenizers). */
public record Replace(String literal, Pattern regex, String content) implements Normalizer {
    @Override
    public String normalize(String s) {
        if (regex == null) return literal.isEmpty() ? s : s.replace(literal, content);
        return regex.matcher(s).replaceAll(Matcher.quoteReplacement(content));
    }
}

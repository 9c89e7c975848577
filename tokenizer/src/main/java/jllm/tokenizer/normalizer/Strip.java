package jllm.tokenizer.normalizer;

import jllm.tokenizer.pretokenizer.CharClass;

/** Removes leading and/or trailing White_Space. */
public record Strip(boolean left, boolean right) implements Normalizer {
    @Override
    public String normalize(String s) {
        int a = 0, b = s.length();
        if (left) while (a < b && CharClass.isWhiteSpace(s.codePointAt(a))) a += Character.charCount(s.codePointAt(a));
        if (right) while (b > a && CharClass.isWhiteSpace(s.codePointBefore(b))) b -= Character.charCount(s.codePointBefore(b));
        return s.substring(a, b);
    }
}

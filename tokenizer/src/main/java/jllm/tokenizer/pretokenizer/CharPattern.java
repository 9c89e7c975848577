package jllm.tokenizer.pretokenizer;

import jllm.tokenizer.util.IntList;

import java.util.function.IntPredicate;

/** Every code point satisfying a predicate is one match (tokenizers' closure patterns). */
public record CharPattern(IntPredicate test) implements SplitPattern {
    @Override
    public void findMatches(String s, IntList spans) {
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            int k = Character.charCount(c);
            if (test.test(c)) { spans.add(i); spans.add(i + k); }
            i += k;
        }
    }

    /** Rust char::is_whitespace: the White_Space property. */
    public static boolean isWhitespace(int c) { return CharClass.isWhiteSpace(c); }

    /** ASCII punctuation or any Unicode punctuation category (tokenizers' is_punc). */
    public static boolean isPunctuation(int c) {
        if (c < 128) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
        return switch (Character.getType(c)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    /** Rust char::is_numeric: general categories Nd, Nl, No. */
    public static boolean isNumeric(int c) { return CharClass.of(c) == CharClass.NUMBER; }
}

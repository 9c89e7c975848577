package jllm.tokenizer.pretokenizer;

import java.util.List;

/** Factories for the simple splitters of tokenizers (Whitespace, BertPreTokenizer, Punctuation, Digits...). */
public final class WordPieceSplits {
    private WordPieceSplits() {}

    /** Whitespace: keeps runs of {@code \w+} and of {@code [^\w\s]+}, drops the rest. */
    public static PreTokenizer whitespace() {
        return new Split(new RegexPattern("\\w+|[^\\w\\s]+"), Behavior.REMOVED, true);
    }

    public static PreTokenizer whitespaceSplit() {
        return new Split(new CharPattern(CharPattern::isWhitespace), Behavior.REMOVED, false);
    }

    public static PreTokenizer punctuation(Behavior b) {
        return new Split(new CharPattern(CharPattern::isPunctuation), b, false);
    }

    public static PreTokenizer digits(boolean individual) {
        return new Split(new CharPattern(CharPattern::isNumeric), individual ? Behavior.ISOLATED : Behavior.CONTIGUOUS, false);
    }

    public static PreTokenizer bert() {
        return new Sequence(List.of(whitespaceSplit(), punctuation(Behavior.ISOLATED)));
    }

    public static PreTokenizer charDelimiter(int c) {
        return new Split(new CharPattern(x -> x == c), Behavior.REMOVED, false);
    }
}

package jllm.tokenizer.pretokenizer;

/**
 * Character classes as Oniguruma (used by Hugging Face tokenizers) defines them for UTF-8:
 * {@code \s} is the Unicode White_Space property, {@code \p{L}} and {@code \p{N}} the general
 * categories. java.lang.Character.isWhitespace differs (it excludes NBSP and includes U+001C..1F),
 * so the table is built here once for the BMP; supplementary code points are classified on the fly.
 */
public final class CharClass {
    private CharClass() {}

    public static final byte OTHER = 0, LETTER = 1, NUMBER = 2, SPACE = 3, NEWLINE = 4, MARK = 5;
    private static final byte[] BMP = new byte[65536];

    static {
        for (int c = 0; c < 65536; c++) BMP[c] = compute(c);
    }

    public static boolean isWhiteSpace(int c) {
        return (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F
                || c == 0x205F || c == 0x3000;
    }

    private static byte compute(int c) {
        if (c == '\r' || c == '\n') return NEWLINE;
        if (isWhiteSpace(c)) return SPACE;
        return switch (Character.getType(c)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.NON_SPACING_MARK, Character.COMBINING_SPACING_MARK, Character.ENCLOSING_MARK -> MARK;
            default -> OTHER;
        };
    }

    public static byte of(int cp) { return cp < 65536 ? BMP[cp] : compute(cp); }
}

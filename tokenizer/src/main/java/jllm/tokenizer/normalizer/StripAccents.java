package jllm.tokenizer.normalizer;

/** Removes combining marks (general categories Mn, Mc, Me), as tokenizers' StripAccents (usually after NFD). */
public record StripAccents() implements Normalizer {
    @Override
    public String normalize(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            int t = Character.getType(c);
            if (t != Character.NON_SPACING_MARK && t != Character.COMBINING_SPACING_MARK && t != Character.ENCLOSING_MARK) b.appendCodePoint(c);
            i += Character.charCount(c);
        }
        return b.toString();
    }
}

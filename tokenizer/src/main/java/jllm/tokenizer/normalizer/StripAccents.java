package jllm.tokenizer.normalizer;

/** Removes combining marks (general category Mn), as tokenizers' StripAccents (usually after NFD). */
public record StripAccents() implements Normalizer {
    @Override
    public String normalize(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            if (Character.getType(c) != Character.NON_SPACING_MARK) b.appendCodePoint(c);
            i += Character.charCount(c);
        }
        return b.toString();
    }
}

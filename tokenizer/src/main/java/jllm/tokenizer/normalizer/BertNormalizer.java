package jllm.tokenizer.normalizer;

import jllm.tokenizer.pretokenizer.CharClass;

/** BERT's cleanup: drop control chars, unify whitespace, pad CJK ideographs, strip accents, lowercase. */
public record BertNormalizer(boolean cleanText, boolean chineseChars, boolean stripAccents, boolean lowercase)
        implements Normalizer {
    @Override
    public String normalize(String s) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            if (cleanText) {
                if (c == 0 || c == 0xFFFD || isControl(c)) continue;
                if (CharClass.isWhiteSpace(c) || c == '\t' || c == '\n' || c == '\r') { b.append(' '); continue; }
            }
            if (chineseChars && isChinese(c)) { b.append(' ').appendCodePoint(c).append(' '); continue; }
            b.appendCodePoint(c);
        }
        String r = b.toString();
        if (stripAccents) {
            // Unlike the StripAccents normalizer (all marks), BERT's removes only non-spacing marks (Mn).
            String nfd = java.text.Normalizer.normalize(r, java.text.Normalizer.Form.NFD);
            StringBuilder s2 = new StringBuilder(nfd.length());
            for (int i = 0; i < nfd.length(); ) {
                int c = nfd.codePointAt(i);
                if (Character.getType(c) != Character.NON_SPACING_MARK) s2.appendCodePoint(c);
                i += Character.charCount(c);
            }
            r = s2.toString();
        }
        if (lowercase) r = new Lowercase().normalize(r);
        return r;
    }

    private static boolean isControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r') return false;
        int t = Character.getType(c);
        // Unassigned code points are kept: tokenizers' category tables only list assigned characters.
        return t == Character.CONTROL || t == Character.FORMAT || t == Character.PRIVATE_USE || t == Character.SURROGATE;
    }

    private static boolean isChinese(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }
}

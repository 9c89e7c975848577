package jllm.tokenizer.normalizer;

import java.util.Locale;

/**
 * Per-character full lowercase mapping, as Rust's char::to_lowercase: no context (a final capital
 * sigma becomes σ, not ς as String.toLowerCase would do), but multi-char results (İ -> i̇) kept.
 */
public record Lowercase() implements Normalizer {
    @Override
    public String normalize(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            int k = Character.charCount(c);
            String low = c < 128 ? null : new String(Character.toChars(c)).toLowerCase(Locale.ROOT);
            if (c < 128 && c >= 'A' && c <= 'Z') low = String.valueOf((char) (c + 32));
            if (low != null && !low.equals(s.substring(i, i + k))) {
                if (b == null) b = new StringBuilder(s.length()).append(s, 0, i);
                b.append(low);
            } else if (b != null) {
                b.appendCodePoint(c);
            }
            i += k;
        }
        return b == null ? s : b.toString();
    }
}

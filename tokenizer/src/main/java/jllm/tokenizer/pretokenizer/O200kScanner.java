package jllm.tokenizer.pretokenizer;

import jllm.tokenizer.util.IntList;

/**
 * Hand-written equivalent of the o200k split regex (GPT-4o, gpt-oss; {@link KnownPatterns#O200K}),
 * reproducing Oniguruma's ordered alternation and backtracking in linear time:
 * <pre>
 * A1 P? U* L+ C? | A2 P? U+ L* C? | \p{N}{1,3} | ' '?[^\s\p{L}\p{N}]+[\r\n/]* | \s*[\r\n]+ | \s+(?!\S) | \s+
 * </pre>
 * with P = [^\r\n\p{L}\p{N}], U = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], L = [\p{Ll}\p{Lm}\p{Lo}\p{M}] and
 * C = (?i:'s|'t|'re|'ve|'m|'ll|'d). U and L overlap (Lm, Lo, M), and marks are also in P.
 */
final class O200kScanner implements SplitPattern {
    private static final int U = 1, L = 2, LETTER = 4, NUMBER = 8, WS = 16, NL = 32;
    private static final byte[] BMP = new byte[65536];

    static {
        for (int c = 0; c < 65536; c++) BMP[c] = compute(c);
    }

    private static byte compute(int c) {
        int f = 0;
        if (c == '\r' || c == '\n') f |= NL;
        if (CharClass.isWhiteSpace(c)) f |= WS;
        switch (Character.getType(c)) {
            case Character.UPPERCASE_LETTER, Character.TITLECASE_LETTER -> f |= U | LETTER;
            case Character.LOWERCASE_LETTER -> f |= L | LETTER;
            case Character.MODIFIER_LETTER, Character.OTHER_LETTER -> f |= U | L | LETTER;
            case Character.NON_SPACING_MARK, Character.COMBINING_SPACING_MARK, Character.ENCLOSING_MARK -> f |= U | L;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> f |= NUMBER;
            default -> { }
        }
        return (byte) f;
    }

    private static int flags(int cp) { return cp < 65536 ? BMP[cp] : compute(cp); }

    private static boolean isP(int f) { return (f & (NL | LETTER | NUMBER)) == 0; }

    @Override
    public void findMatches(String s, IntList spans) {
        int n = s.length();
        int i = 0;
        while (i < n) {
            int end = match(s, i, n);
            spans.add(i);
            spans.add(end);
            i = end;
        }
    }

    private static int next(String s, int i) { return i + Character.charCount(s.codePointAt(i)); }

    /** U* L+ from j; returns the end or -1. */
    private static int a1(String s, int j, int n) {
        int e = j;
        int lastL = -1; // start of the last U-run char that is also in L
        while (e < n) {
            int f = flags(s.codePointAt(e));
            if ((f & U) == 0) break;
            if ((f & L) != 0) lastL = e;
            e = next(s, e);
        }
        if (e < n && (flags(s.codePointAt(e)) & L) != 0) {
            while (e < n && (flags(s.codePointAt(e)) & L) != 0) e = next(s, e);
            return e;
        }
        // Backtrack U*: the last L-capable char of the U run starts L+, which ends right after it.
        return lastL >= 0 ? next(s, lastL) : -1;
    }

    /** U+ L* from j; returns the end or -1. */
    private static int a2(String s, int j, int n) {
        if (j >= n || (flags(s.codePointAt(j)) & U) == 0) return -1;
        int e = j;
        while (e < n && (flags(s.codePointAt(e)) & U) != 0) e = next(s, e);
        while (e < n && (flags(s.codePointAt(e)) & L) != 0) e = next(s, e);
        return e;
    }

    private static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char) (c + 32) : c; }

    /** Optional (?i:'s|'t|'re|'ve|'m|'ll|'d) at e. */
    private static int contraction(String s, int e, int n) {
        if (e + 1 >= n || s.charAt(e) != '\'') return e;
        char d = lower(s.charAt(e + 1));
        if (e + 2 < n) {
            char x = lower(s.charAt(e + 2));
            if ((d == 'r' && x == 'e') || (d == 'v' && x == 'e') || (d == 'l' && x == 'l')) return e + 3;
        }
        if (d == 's' || d == '\u017F' || d == 't' || d == 'm' || d == 'd') return e + 2;
        return e;
    }

    private static int match(String s, int i, int n) {
        int c = s.codePointAt(i);
        int f = flags(c);
        int after = i + Character.charCount(c);
        // A1, with the optional prefix tried first, then without it.
        if (isP(f) && after < n) {
            int e = a1(s, after, n);
            if (e > 0) return contraction(s, e, n);
        }
        int e = a1(s, i, n);
        if (e > 0) return contraction(s, e, n);
        // A2, same order.
        if (isP(f) && after < n) {
            e = a2(s, after, n);
            if (e > 0) return contraction(s, e, n);
        }
        e = a2(s, i, n);
        if (e > 0) return contraction(s, e, n);
        // \p{N}{1,3}
        if ((f & NUMBER) != 0) {
            int j = i;
            for (int d = 0; d < 3 && j < n && (flags(s.codePointAt(j)) & NUMBER) != 0; d++) j = next(s, j);
            return j;
        }
        // ' '?[^\s\p{L}\p{N}]+[\r\n/]*
        int j = i;
        if (c == ' ' && after < n && isOther(flags(s.codePointAt(after)))) j = after;
        if (isOther(j == i ? f : flags(s.codePointAt(j)))) {
            while (j < n && isOther(flags(s.codePointAt(j)))) j = next(s, j);
            while (j < n && (s.charAt(j) == '\r' || s.charAt(j) == '\n' || s.charAt(j) == '/')) j++;
            return j;
        }
        // whitespace run
        int w = i, lastNl = -1;
        while (w < n) {
            int fw = flags(s.codePointAt(w));
            if ((fw & WS) == 0) break;
            if ((fw & NL) != 0) lastNl = w;
            w = next(s, w);
        }
        if (lastNl >= 0) return lastNl + 1;
        if (w == n) return n;
        int last = s.offsetByCodePoints(w, -1);
        if (last > i) return last;
        return w > i ? w : after;
    }

    private static boolean isOther(int f) { return (f & (WS | LETTER | NUMBER)) == 0; }
}

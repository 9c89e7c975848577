package jllm.tokenizer.pretokenizer;

import jllm.tokenizer.util.IntList;

import static jllm.tokenizer.pretokenizer.CharClass.*;
import static jllm.tokenizer.pretokenizer.Gpt2Scanner.isSpace;
import static jllm.tokenizer.pretokenizer.Gpt2Scanner.run;
import static jllm.tokenizer.pretokenizer.Gpt2Scanner.runOther;

/**
 * Hand-written equivalent of the Llama 3 / cl100k split regex ({@link KnownPatterns#LLAMA3}) and of
 * the Qwen2 variant (single digits): linear time, no backtracking, identical matches.
 */
final class Cl100kScanner implements SplitPattern {
    private final int maxDigits;
    /** Oniguruma's (?i) folds U+017F (long s) to s; llama.cpp's ASCII-only rewrite ('[sS]) does not. */
    private final boolean unicodeFold;

    Cl100kScanner(int maxDigits) { this(maxDigits, true); }

    Cl100kScanner(int maxDigits, boolean unicodeFold) {
        this.maxDigits = maxDigits;
        this.unicodeFold = unicodeFold;
    }

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

    /** (?i:'s|'t|'re|'ve|'m|'ll|'d) with Unicode case folding (U+017F long s folds to s). */
    private int contraction(String s, int i, int n) {
        if (i + 1 >= n) return -1;
        char d = asciiLower(s.charAt(i + 1));
        if (d == 's' || (unicodeFold && d == '\u017F') || d == 't' || d == 'm' || d == 'd') return i + 2;
        if (i + 2 < n) {
            char e = asciiLower(s.charAt(i + 2));
            if ((d == 'r' && e == 'e') || (d == 'v' && e == 'e') || (d == 'l' && e == 'l')) return i + 3;
        }
        return -1;
    }

    private static char asciiLower(char c) { return c >= 'A' && c <= 'Z' ? (char) (c + 32) : c; }

    private int match(String s, int i, int n) {
        int c = s.codePointAt(i);
        int cl = Character.charCount(c);
        if (c == '\'') {
            int e = contraction(s, i, n);
            if (e > 0) return e;
        }
        byte k = of(c);
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (k == LETTER) return run(s, i, n, LETTER);
        if (k != NEWLINE && k != NUMBER && i + cl < n && of(s.codePointAt(i + cl)) == LETTER) {
            return run(s, i + cl, n, LETTER);
        }
        // \p{N}{1,maxDigits}
        if (k == NUMBER) {
            int j = i;
            for (int d = 0; d < maxDigits && j < n; d++) {
                int x = s.codePointAt(j);
                if (of(x) != NUMBER) break;
                j += Character.charCount(x);
            }
            return j;
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        int j = i;
        if (c == ' ' && i + 1 < n) {
            byte k2 = of(s.codePointAt(i + 1));
            if (!isSpace(k2) && k2 != LETTER && k2 != NUMBER) j = i + 1;
        }
        byte kj = j == i ? k : of(s.codePointAt(j));
        if (!isSpace(kj) && kj != LETTER && kj != NUMBER) {
            int e = runOther(s, j, n);
            while (e < n && (s.charAt(e) == '\r' || s.charAt(e) == '\n')) e++;
            return e;
        }
        // whitespace run starting at i
        int e = i;
        int lastNl = -1;
        while (e < n) {
            int x = s.codePointAt(e);
            byte kx = of(x);
            if (!isSpace(kx)) break;
            if (kx == NEWLINE) lastNl = e;
            e += Character.charCount(x);
        }
        // \s*[\r\n]+
        if (lastNl >= 0) return lastNl + 1;
        // \s+(?!\S)
        if (e == n) return n;
        int last = s.offsetByCodePoints(e, -1);
        if (last > i) return last;
        // \s+
        return e;
    }
}

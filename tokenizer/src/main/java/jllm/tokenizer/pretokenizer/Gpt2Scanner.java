package jllm.tokenizer.pretokenizer;

import jllm.tokenizer.util.IntList;

import static jllm.tokenizer.pretokenizer.CharClass.*;

/**
 * Hand-written equivalent of the GPT-2 split regex ({@link KnownPatterns#GPT2}): linear time, no
 * regex backtracking or recursion, same matches as Oniguruma's leftmost-alternative semantics.
 */
final class Gpt2Scanner implements SplitPattern {
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

    static boolean isSpace(byte k) { return k == SPACE || k == NEWLINE; }

    private static int match(String s, int i, int n) {
        int c = s.codePointAt(i);
        if (c == '\'' && i + 1 < n) {
            char d = s.charAt(i + 1);
            if (d == 's' || d == 't' || d == 'm' || d == 'd') return i + 2;
            if (i + 2 < n) {
                char e = s.charAt(i + 2);
                if ((d == 'r' && e == 'e') || (d == 'v' && e == 'e') || (d == 'l' && e == 'l')) return i + 3;
            }
        }
        int j = i;
        int cj = c;
        if (c == ' ' && i + 1 < n) {
            j = i + 1;
            cj = s.codePointAt(j);
        }
        byte k = of(cj);
        if (k == LETTER) return run(s, j, n, LETTER);
        if (k == NUMBER) return run(s, j, n, NUMBER);
        if (!isSpace(k)) return runOther(s, j, n);
        // whitespace at i (c is whitespace here, or c == ' ' followed by whitespace)
        int e = i;
        while (e < n) {
            int x = s.codePointAt(e);
            if (!isSpace(of(x))) break;
            e += Character.charCount(x);
        }
        if (e == n) return n;
        int last = s.offsetByCodePoints(e, -1);
        return last > i ? last : e;
    }

    static int run(String s, int j, int n, byte kind) {
        while (j < n) {
            int x = s.codePointAt(j);
            if (of(x) != kind) break;
            j += Character.charCount(x);
        }
        return j;
    }

    /** [^\s\p{L}\p{N}]+ */
    static int runOther(String s, int j, int n) {
        while (j < n) {
            int x = s.codePointAt(j);
            byte k = of(x);
            if (k == LETTER || k == NUMBER || isSpace(k)) break;
            j += Character.charCount(x);
        }
        return j;
    }
}

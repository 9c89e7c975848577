package jllm.tokenizer.pretokenizer;

import jllm.formats.FormatException;
import jllm.tokenizer.util.IntList;

import java.util.List;

/** What happens to the delimiters found by a split pattern (tokenizers' SplitDelimiterBehavior). */
public enum Behavior {
    REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

    public static Behavior parse(String s) {
        return switch (s) {
            case "Removed" -> REMOVED;
            case "Isolated" -> ISOLATED;
            case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> MERGED_WITH_NEXT;
            case "Contiguous" -> CONTIGUOUS;
            default -> throw new FormatException("unknown split behavior '" + s + "'");
        };
    }

    /**
     * Splits {@code s} given the match spans (sorted, non-overlapping) and adds the non-empty pieces.
     * Mirrors tokenizers: the string is cut into alternating (span, isMatch) runs, then merged.
     */
    public void split(String s, IntList spans, boolean invert, List<String> out) {
        int n = s.length();
        // Build the alternating list of (start, end, isMatch).
        IntList parts = new IntList(spans.size() * 2 + 4);
        int prev = 0;
        if (n == 0) return;
        for (int k = 0; k < spans.size(); k += 2) {
            int a = spans.get(k), b = spans.get(k + 1);
            if (prev != a) { parts.add(prev); parts.add(a); parts.add(invert ? 1 : 0); }
            parts.add(a); parts.add(b); parts.add(invert ? 0 : 1);
            prev = b;
        }
        if (prev != n) { parts.add(prev); parts.add(n); parts.add(invert ? 1 : 0); }
        int m = parts.size() / 3;
        switch (this) {
            case REMOVED -> {
                for (int k = 0; k < m; k++) if (parts.get(3 * k + 2) == 0) emit(s, parts.get(3 * k), parts.get(3 * k + 1), out);
            }
            case ISOLATED -> {
                for (int k = 0; k < m; k++) emit(s, parts.get(3 * k), parts.get(3 * k + 1), out);
            }
            case MERGED_WITH_PREVIOUS -> {
                IntList acc = new IntList();
                boolean prevMatch = false;
                for (int k = 0; k < m; k++) {
                    boolean isMatch = parts.get(3 * k + 2) == 1;
                    if (isMatch && !prevMatch && acc.size() > 0) {
                        acc.set(acc.size() - 1, parts.get(3 * k + 1));
                    } else {
                        acc.add(parts.get(3 * k));
                        acc.add(parts.get(3 * k + 1));
                    }
                    prevMatch = isMatch;
                }
                for (int k = 0; k < acc.size(); k += 2) emit(s, acc.get(k), acc.get(k + 1), out);
            }
            case MERGED_WITH_NEXT -> {
                IntList acc = new IntList();
                boolean prevMatch = false;
                for (int k = m - 1; k >= 0; k--) {
                    boolean isMatch = parts.get(3 * k + 2) == 1;
                    if (isMatch && !prevMatch && acc.size() > 0) {
                        acc.set(acc.size() - 2, parts.get(3 * k));
                    } else {
                        acc.add(parts.get(3 * k));
                        acc.add(parts.get(3 * k + 1));
                    }
                    prevMatch = isMatch;
                }
                for (int k = acc.size() - 2; k >= 0; k -= 2) emit(s, acc.get(k), acc.get(k + 1), out);
            }
            case CONTIGUOUS -> {
                IntList acc = new IntList();
                boolean prevMatch = false;
                for (int k = 0; k < m; k++) {
                    boolean isMatch = parts.get(3 * k + 2) == 1;
                    if (isMatch == prevMatch && acc.size() > 0) {
                        acc.set(acc.size() - 1, parts.get(3 * k + 1));
                    } else {
                        acc.add(parts.get(3 * k));
                        acc.add(parts.get(3 * k + 1));
                    }
                    prevMatch = isMatch;
                }
                for (int k = 0; k < acc.size(); k += 2) emit(s, acc.get(k), acc.get(k + 1), out);
            }
        }
    }

    private static void emit(String s, int a, int b, List<String> out) {
        if (b > a) out.add(a == 0 && b == s.length() ? s : s.substring(a, b));
    }
}

package jllm.train.data;

import java.util.List;
import java.util.Locale;

/**
 * Exact-match accuracy of predictions against the dataset's expected responses.
 *
 * <p>Normalisation: leading and trailing whitespace is removed from both sides ({@link String#strip()},
 * Unicode white space), nothing else: case, punctuation and inner spacing count. Rows whose expected
 * value is missing or blank are not scored ({@code n} counts the scored rows).
 */
public final class ExactMatch {
    public record Score(int matches, int n) {
        public double value() { return n == 0 ? Double.NaN : (double) matches / n; }

        /** The line {@code predict} prints: {@code exact_match=0.7853 n=191}. */
        public String line() { return String.format(Locale.ROOT, "exact_match=%.4f n=%d", value(), n); }
    }

    private ExactMatch() { }

    public static String normalise(String s) { return s == null ? null : s.strip(); }

    public static boolean matches(String predicted, String expected) {
        return expected != null && !expected.isBlank() && normalise(expected).equals(normalise(predicted == null ? "" : predicted));
    }

    public static Score score(List<String> predicted, List<String> expected) {
        if (predicted.size() != expected.size()) throw new IllegalArgumentException(predicted.size() + " predictions for " + expected.size() + " rows");
        int m = 0, n = 0;
        for (int i = 0; i < expected.size(); i++) {
            String e = expected.get(i);
            if (e == null || e.isBlank()) continue;
            n++;
            if (matches(predicted.get(i), e)) m++;
        }
        return new Score(m, n);
    }
}

package jllm.template;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Python str algorithms on Java strings (whitespace per str.isspace, indices in code points), each in
 * time linear in its input and charged to the render's {@link Budget}: a hostile string can make them
 * fail, never make them slow.
 */
final class Strs {
    private Strs() {
    }

    static boolean isSpace(int c) {
        if (c >= 9 && c <= 13 || c >= 0x1c && c <= 0x20 || c == 0x85) return true;
        int t = Character.getType(c);
        return t == Character.SPACE_SEPARATOR || t == Character.LINE_SEPARATOR || t == Character.PARAGRAPH_SEPARATOR;
    }

    /** Python's {@code len(s)}: code points. */
    static int length(String s) {
        if (s.length() >= 64) Budget.current().scan(s.length());
        return s.codePointCount(0, s.length());
    }

    /** A substring about to be built: charged like any new string. */
    private static String sub(String s, int from, int to, Budget b) {
        if (from == 0 && to == s.length()) return s;
        b.string(to - from);
        return s.substring(from, to);
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        Budget b = Budget.current();
        // A long character set is looked up in a bit set, so stripping stays linear in the string.
        BitSet set = null;
        if (chars != null && chars.length() > 16) {
            int max = chars.codePoints().max().orElse(0);
            b.alloc(16 + max / 8);
            b.scan(chars.length());
            set = new BitSet(max + 1);
            for (int i = 0; i < chars.length(); ) {
                int c = chars.codePointAt(i);
                set.set(c);
                i += Character.charCount(c);
            }
        }
        int begin = 0, end = s.length();
        if (left) while (begin < end && strippable(s.codePointAt(begin), chars, set)) begin += Character.charCount(s.codePointAt(begin));
        if (right) while (end > begin && strippable(s.codePointBefore(end), chars, set)) end -= Character.charCount(s.codePointBefore(end));
        b.scan(begin + (s.length() - end));
        return sub(s, begin, end, b);
    }

    private static boolean strippable(int c, String chars, BitSet set) {
        if (chars == null) return isSpace(c);
        return set != null ? set.get(c) : chars.indexOf(c) >= 0;
    }

    static List<Object> split(String s, String sep, long max, boolean fromRight) {
        Budget b = Budget.current();
        List<Object> out = new ArrayList<>();
        if (max < 0) max = Long.MAX_VALUE;
        if (sep == null) {
            if (!fromRight) {
                int i = 0, n = s.length();
                while (true) {
                    while (i < n && isSpace(s.charAt(i))) i++;
                    if (i >= n) break;
                    if (out.size() == max) {
                        add(out, strip(s.substring(i), null, false, true), b);
                        break;
                    }
                    int j = i;
                    while (j < n && !isSpace(s.charAt(j))) j++;
                    add(out, sub(s, i, j, b), b);
                    i = j;
                }
            } else {
                int e = s.length();
                while (true) {
                    while (e > 0 && isSpace(s.charAt(e - 1))) e--;
                    if (e <= 0) break;
                    if (out.size() == max) {
                        add(out, strip(s.substring(0, e), null, true, false), b);
                        break;
                    }
                    int begin = e;
                    while (begin > 0 && !isSpace(s.charAt(begin - 1))) begin--;
                    add(out, sub(s, begin, e, b), b);
                    e = begin;
                }
                Collections.reverse(out);
            }
            b.scan(s.length());
            return out;
        }
        if (!fromRight) {
            int i = 0;
            while (out.size() < max) {
                int at = indexOf(s, sep, i);
                if (at < 0) break;
                add(out, sub(s, i, at, b), b);
                i = at + sep.length();
            }
            add(out, sub(s, i, s.length(), b), b);
        } else {
            int e = s.length();
            while (out.size() < max) {
                if (e - sep.length() < 0) break;
                int at = lastIndexOf(s, sep, e - sep.length());
                if (at < 0) break;
                add(out, sub(s, at + sep.length(), e, b), b);
                e = at;
            }
            add(out, sub(s, 0, e, b), b);
            Collections.reverse(out);
        }
        return out;
    }

    /** Adds one piece to a list being built, charging its slot. */
    private static void add(List<Object> out, String piece, Budget b) {
        b.alloc(Budget.LIST_SLOT);
        b.step();
        out.add(piece);
    }

    static List<Object> splitlines(String s, boolean keep) {
        Budget b = Budget.current();
        List<Object> out = new ArrayList<>();
        int i = 0, start = 0, n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            int eol = -1;
            if (c == '\r' && i + 1 < n && s.charAt(i + 1) == '\n') eol = 2;
            else if (c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d || c == 0x1e || c == 0x85
                    || c == 0x2028 || c == 0x2029) eol = 1;
            if (eol > 0) {
                add(out, sub(s, start, keep ? i + eol : i, b), b);
                i += eol;
                start = i;
            } else i++;
        }
        if (start < n) add(out, sub(s, start, n, b), b);
        b.scan(n);
        return out;
    }

    static String replace(String s, String old, String neu, long count) {
        Budget b = Budget.current();
        if (count < 0) count = Long.MAX_VALUE;
        if (old.isEmpty()) {
            // The new text goes before every character and at the end: the size is known before building.
            long slots = Math.min(count, length(s) + 1L);
            b.string(s.length() + Budget.mul(slots, neu.length()));
            StringBuilder sb = new StringBuilder();
            long done = 0;
            int i = 0;
            while (i <= s.length()) {
                if (done < count) {
                    sb.append(neu);
                    done++;
                }
                if (i == s.length()) break;
                int cp = s.codePointAt(i);
                sb.appendCodePoint(cp);
                i += Character.charCount(cp);
            }
            return sb.toString();
        }
        StringBuilder sb = new StringBuilder();
        int i = 0;
        long done = 0;
        while (done < count) {
            int at = indexOf(s, old, i);
            if (at < 0) break;
            b.size(sb.length() + (long) (at - i) + neu.length() + (s.length() - at - old.length()));
            b.chars((at - i) + (long) neu.length());
            sb.append(s, i, at).append(neu);
            i = at + old.length();
            done++;
        }
        if (done == 0) return s;
        b.string(sb.length() + (long) (s.length() - i));
        b.free(2L * sb.length());
        return sb.append(s, i, s.length()).toString();
    }

    // ---- search --------------------------------------------------------------------------------

    /**
     * Needles up to this long use String.indexOf (fast, at most this many comparisons per character);
     * longer ones use Knuth-Morris-Pratt, since String.indexOf takes time proportional to
     * text length times needle length on inputs such as {@code 'a' * n} searched for {@code 'a' * m + 'b'}.
     */
    private static final int SHORT_NEEDLE = 32;

    /** {@code s.indexOf(sub, from)} in linear time; the characters scanned are charged. */
    static int indexOf(String s, String sub, int from) {
        int n = s.length(), m = sub.length();
        from = Math.max(0, from);
        if (m == 0) return Math.min(from, n);
        if (n - from < m) return -1;
        Budget b = Budget.current();
        int at;
        if (m <= SHORT_NEEDLE) at = s.indexOf(sub, from);
        else {
            int[] fail = failure(sub, false, b);
            at = -1;
            for (int i = from, k = 0; i < n; i++) {
                char c = s.charAt(i);
                while (k > 0 && sub.charAt(k) != c) k = fail[k - 1];
                if (sub.charAt(k) == c) k++;
                if (k == m) {
                    at = i - m + 1;
                    break;
                }
            }
        }
        b.scan((at < 0 ? n : at + m) - from);
        return at;
    }

    /** {@code s.lastIndexOf(sub, from)} (a match starting at or before {@code from}) in linear time. */
    static int lastIndexOf(String s, String sub, int from) {
        int n = s.length(), m = sub.length();
        from = Math.min(from, n - m);
        if (from < 0) return -1;
        if (m == 0) return from;
        Budget b = Budget.current();
        int at;
        if (m <= SHORT_NEEDLE) at = s.lastIndexOf(sub, from);
        else {
            // KMP over the reversed text and needle.
            int[] fail = failure(sub, true, b);
            at = -1;
            for (int i = from + m - 1, k = 0; i >= 0; i--) {
                char c = s.charAt(i);
                while (k > 0 && sub.charAt(m - 1 - k) != c) k = fail[k - 1];
                if (sub.charAt(m - 1 - k) == c) k++;
                if (k == m) {
                    at = i;
                    break;
                }
            }
        }
        b.scan(from + m - (at < 0 ? 0 : at));
        return at;
    }

    /** KMP failure function of {@code p} (read backwards when {@code reversed}). */
    private static int[] failure(String p, boolean reversed, Budget b) {
        int m = p.length();
        b.alloc(16 + 4L * m);
        b.scan(m);
        int[] f = new int[m];
        for (int i = 1, k = 0; i < m; i++) {
            char c = reversed ? p.charAt(m - 1 - i) : p.charAt(i);
            while (k > 0 && (reversed ? p.charAt(m - 1 - k) : p.charAt(k)) != c) k = f[k - 1];
            if ((reversed ? p.charAt(m - 1 - k) : p.charAt(k)) == c) k++;
            f[i] = k;
        }
        return f;
    }

    // ---- case mapping --------------------------------------------------------------------------
    //
    // Python maps case with Unicode's full mappings (one character may become up to three: 'ß'.upper()
    // is 'SS') and lowercases a capital sigma to the final form 'ς' at the end of a word. Java's
    // String.toUpperCase does the same but copies its whole result again for every character that
    // expands, which made ('ß' * 200000)|upper take seconds; these loops are linear.

    /** Full mappings that differ from Character's simple ones, sorted by code point. */
    private static final class Special {
        private static final int[] UPPER_KEYS, LOWER_KEYS, TITLE_KEYS;
        private static final String[] UPPER, LOWER, TITLE;

        static {
            // Every full upper/lower mapping of more than one character is in the BMP (a test checks this
            // over all code points), so one pass over it finds them in Java's own tables.
            List<Integer> uk = new ArrayList<>(), lk = new ArrayList<>();
            List<String> uv = new ArrayList<>(), lv = new ArrayList<>();
            for (int c = 0x80; c <= 0xFFFF; c++) {
                if (Character.isSurrogate((char) c)) continue;
                String one = String.valueOf((char) c);
                String u = one.toUpperCase(Locale.ROOT);
                if (u.length() != 1 || u.charAt(0) != Character.toUpperCase(c)) {
                    uk.add(c);
                    uv.add(u);
                }
                String l = one.toLowerCase(Locale.ROOT);
                if (l.length() != 1 || l.charAt(0) != Character.toLowerCase(c)) {
                    lk.add(c);
                    lv.add(l);
                }
            }
            UPPER_KEYS = uk.stream().mapToInt(Integer::intValue).toArray();
            UPPER = uv.toArray(String[]::new);
            LOWER_KEYS = lk.stream().mapToInt(Integer::intValue).toArray();
            LOWER = lv.toArray(String[]::new);
            // Java has no full titlecase mapping: these are the unconditional multi-character entries of
            // Unicode's SpecialCasing.txt (title column), as Python's str.title uses them.
            String table = "00DF:0053 0073,0149:02BC 004E,01F0:004A 030C,0390:0399 0308 0301,03B0:03A5 0308 0301,0587:0535 0582,"
                    + "1E96:0048 0331,1E97:0054 0308,1E98:0057 030A,1E99:0059 030A,1E9A:0041 02BE,1F50:03A5 0313,1F52:03A5 0313 0300,"
                    + "1F54:03A5 0313 0301,1F56:03A5 0313 0342,1FB2:1FBA 0345,1FB4:0386 0345,1FB6:0391 0342,1FB7:0391 0342 0345,"
                    + "1FC2:1FCA 0345,1FC4:0389 0345,1FC6:0397 0342,1FC7:0397 0342 0345,1FD2:0399 0308 0300,1FD3:0399 0308 0301,"
                    + "1FD6:0399 0342,1FD7:0399 0308 0342,1FE2:03A5 0308 0300,1FE3:03A5 0308 0301,1FE4:03A1 0313,1FE6:03A5 0342,"
                    + "1FE7:03A5 0308 0342,1FF2:1FFA 0345,1FF4:038F 0345,1FF6:03A9 0342,1FF7:03A9 0342 0345,FB00:0046 0066,"
                    + "FB01:0046 0069,FB02:0046 006C,FB03:0046 0066 0069,FB04:0046 0066 006C,FB05:0053 0074,FB06:0053 0074,"
                    + "FB13:0544 0576,FB14:0544 0565,FB15:0544 056B,FB16:054E 0576,FB17:0544 056D";
            String[] entries = table.split(",");
            TITLE_KEYS = new int[entries.length];
            TITLE = new String[entries.length];
            for (int i = 0; i < entries.length; i++) {
                String[] kv = entries[i].split(":");
                TITLE_KEYS[i] = Integer.parseInt(kv[0], 16);
                StringBuilder sb = new StringBuilder();
                for (String h : kv[1].split(" ")) sb.appendCodePoint(Integer.parseInt(h, 16));
                TITLE[i] = sb.toString();
            }
        }

        static String get(int[] keys, String[] values, int c) {
            int i = Arrays.binarySearch(keys, c);
            return i >= 0 ? values[i] : null;
        }
    }

    /** Every code point whose full upper or lower mapping differs from its simple one (for the test). */
    static int[] specialCaseCodePoints() {
        return java.util.stream.IntStream.concat(Arrays.stream(Special.UPPER_KEYS), Arrays.stream(Special.LOWER_KEYS)).toArray();
    }

    private static void upper(StringBuilder sb, int c) {
        if (c < 0x80) sb.append((char) (c >= 'a' && c <= 'z' ? c - 32 : c));
        else if (c <= 0xFFFF && Special.get(Special.UPPER_KEYS, Special.UPPER, c) instanceof String m) sb.append(m);
        else sb.appendCodePoint(Character.toUpperCase(c));
    }

    private static void lowerOne(StringBuilder sb, int c) {
        if (c < 0x80) sb.append((char) (c >= 'A' && c <= 'Z' ? c + 32 : c));
        else if (c <= 0xFFFF && Special.get(Special.LOWER_KEYS, Special.LOWER, c) instanceof String m) sb.append(m);
        else sb.appendCodePoint(Character.toLowerCase(c));
    }

    private static void titleOne(StringBuilder sb, int c) {
        if (c < 0x80) sb.append((char) (c >= 'a' && c <= 'z' ? c - 32 : c));
        else if (Special.get(Special.TITLE_KEYS, Special.TITLE, c) instanceof String m) sb.append(m);
        else sb.appendCodePoint(Character.toTitleCase(c));
    }

    /** Python's lower_ucs4: the full lowercase, with a capital sigma in word-final position as 'ς'. */
    private static void lower(StringBuilder sb, String s, int i, int c, int from, int to) {
        if (c == 0x3A3) sb.append(finalSigma(s, i, from, to) ? 'ς' : 'σ');
        else lowerOne(sb, c);
    }

    /**
     * Unicode's Final_Sigma condition within {@code s[from:to]}, as CPython's handle_capital_sigma: a cased
     * letter before (skipping case-ignorable characters) and none after. Each run of case-ignorable
     * characters is scanned by at most the one sigma on each side of it, so whole strings stay linear.
     */
    private static boolean finalSigma(String s, int i, int from, int to) {
        int j = i, c = 0;
        boolean found = false;
        while (j > from) {
            c = s.codePointBefore(j);
            j -= Character.charCount(c);
            if (!caseIgnorable(c)) {
                found = true;
                break;
            }
        }
        if (!found || !isCased(c)) return false;
        j = i + 1;
        while (j < to) {
            c = s.codePointAt(j);
            if (!caseIgnorable(c)) return !isCased(c);
            j += Character.charCount(c);
        }
        return true;
    }

    /** Unicode's Cased property (Lowercase, Uppercase or titlecase letter), as Python's _PyUnicode_IsCased. */
    static boolean isCased(int c) {
        return Character.isLowerCase(c) || Character.isUpperCase(c) || Character.isTitleCase(c);
    }

    /** Unicode's Case_Ignorable: marks, format characters, modifiers, and the word-internal punctuation of Word_Break. */
    static boolean caseIgnorable(int c) {
        switch (Character.getType(c)) {
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.FORMAT, Character.MODIFIER_LETTER,
                 Character.MODIFIER_SYMBOL -> {
                return true;
            }
            default -> {
                // Word_Break = MidLetter, MidNumLet or Single_Quote
                return switch (c) {
                    case 0x27, 0x2E, 0x3A, 0xB7, 0x387, 0x55F, 0x5F4, 0x2018, 0x2019, 0x2024, 0x2027, 0xFE13, 0xFE52, 0xFE55, 0xFF07,
                         0xFF0E, 0xFF1A -> true;
                    default -> false;
                };
            }
        }
    }

    private static final int UPPER = 0, LOWER = 1, SWAP = 2, FOLD = 3;

    /** A case-mapped copy of {@code s}; it can grow to three times the input, checked as it grows. */
    private static String map(String s, int mode) {
        Budget b = Budget.current();
        b.scan(s.length());
        int max = b.limits.maxStringChars();
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            switch (mode) {
                case UPPER -> upper(sb, c);
                case LOWER -> lower(sb, s, i, c, 0, s.length());
                case SWAP -> {
                    if (Character.isUpperCase(c)) lower(sb, s, i, c, 0, s.length());
                    else if (Character.isLowerCase(c)) upper(sb, c);
                    else sb.appendCodePoint(c);
                }
                default -> fold(sb, c);
            }
            i += Character.charCount(c);
            if (sb.length() > max) b.size(sb.length());
        }
        return charged(sb, s, b);
    }

    /** The result, charged; the input itself when nothing changed. */
    private static String charged(StringBuilder sb, String s, Budget b) {
        if (sb.length() == s.length() && s.contentEquals(sb)) {
            b.scan(s.length());
            return s;
        }
        b.string(sb.length());
        return sb.toString();
    }

    static String upper(String s) {
        return map(s, UPPER);
    }

    static String lower(String s) {
        return map(s, LOWER);
    }

    static String swapcase(String s) {
        return map(s, SWAP);
    }

    static String casefold(String s) {
        return map(s, FOLD);
    }

    /**
     * Python's full case folding: the lowercase of the uppercase, except where CaseFolding.txt says
     * otherwise (Cherokee folds to its capitals, 'ẞ' to "ss", and the Turkic dotless 'ı' stays).
     */
    private static void fold(StringBuilder sb, int c) {
        if (c < 0x80) {
            lowerOne(sb, c);
            return;
        }
        if (c >= 0x13A0 && c <= 0x13F5) sb.append((char) c);
        else if (c >= 0x13F8 && c <= 0x13FD) sb.append((char) (c - 8));
        else if (c >= 0xAB70 && c <= 0xABBF) sb.append((char) (c - 0xAB70 + 0x13A0));
        else if (c == 0x1E9E) sb.append("ss");
        else if (c == 0x131) sb.append('ı');
        else {
            StringBuilder up = new StringBuilder(3);
            upper(up, c);
            for (int k = 0; k < up.length(); ) {
                int u = up.codePointAt(k);
                lowerOne(sb, u);
                k += Character.charCount(u);
            }
        }
    }

    /** Python's str.title: a character after a cased one is lowercased, any other titlecased. */
    static String title(String s) {
        Budget b = Budget.current();
        b.scan(s.length());
        int max = b.limits.maxStringChars();
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            if (prevCased) lower(sb, s, i, c, 0, s.length());
            else titleOne(sb, c);
            prevCased = isCased(c);
            i += Character.charCount(c);
            if (sb.length() > max) b.size(sb.length());
        }
        return charged(sb, s, b);
    }

    /** Python's str.capitalize: the first character titlecased, the rest lowercased. */
    static String capitalize(String s) {
        if (s.isEmpty()) return s;
        Budget b = Budget.current();
        b.scan(s.length());
        int max = b.limits.maxStringChars();
        StringBuilder sb = new StringBuilder(s.length());
        int first = s.codePointAt(0);
        titleOne(sb, first);
        for (int i = Character.charCount(first); i < s.length(); ) {
            int c = s.codePointAt(i);
            lower(sb, s, i, c, 0, s.length());
            i += Character.charCount(c);
            if (sb.length() > max) b.size(sb.length());
        }
        return charged(sb, s, b);
    }

    /**
     * jinja2's title filter: the string split into words and runs of separators (whitespace, '-', and
     * opening brackets '(', '{', '[', '<'), each piece as {@code piece[0].upper() + piece[1:].lower()}.
     * Unlike str.title, the first letter is uppercased ('ß' becomes "SS") and a final sigma only sees its own piece.
     */
    static String jinjaTitle(String s) {
        Budget b = Budget.current();
        b.scan(s.length());
        int max = b.limits.maxStringChars();
        StringBuilder sb = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            int c = s.codePointAt(i);
            boolean sep = titleSeparator(c);
            int end = i + Character.charCount(c);
            while (end < s.length() && titleSeparator(s.codePointAt(end)) == sep) end += Character.charCount(s.codePointAt(end));
            upper(sb, c);
            for (int k = i + Character.charCount(c); k < end; ) {
                int d = s.codePointAt(k);
                lower(sb, s, k, d, i + Character.charCount(c), end);
                k += Character.charCount(d);
            }
            i = end;
            if (sb.length() > max) b.size(sb.length());
        }
        return charged(sb, s, b);
    }

    private static boolean titleSeparator(int c) {
        return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || isSpace(c);
    }

    /** Python's str.isupper: a cased character and no lowercase or titlecase one. */
    static boolean isUpper(String s) {
        return casedOnly(s, true);
    }

    /** Python's str.islower: a cased character and no uppercase or titlecase one. */
    static boolean isLower(String s) {
        return casedOnly(s, false);
    }

    private static boolean casedOnly(String s, boolean upper) {
        Budget.current().scan(s.length());
        boolean cased = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            if ((upper ? Character.isLowerCase(c) : Character.isUpperCase(c)) || Character.isTitleCase(c)) return false;
            if (upper ? Character.isUpperCase(c) : Character.isLowerCase(c)) cased = true;
            i += Character.charCount(c);
        }
        return cased;
    }

    /** Python's str.istitle: uppercase and titlecase letters only after uncased ones, lowercase only after cased ones. */
    static boolean isTitle(String s) {
        Budget.current().scan(s.length());
        boolean cased = false, prevCased = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            if (Character.isUpperCase(c) || Character.isTitleCase(c)) {
                if (prevCased) return false;
                prevCased = cased = true;
            } else if (Character.isLowerCase(c)) {
                if (!prevCased) return false;
                prevCased = cased = true;
            } else prevCased = false;
            i += Character.charCount(c);
        }
        return cased;
    }

    // ---- layout --------------------------------------------------------------------------------

    static String center(String s, int width, char fill) {
        int len = length(s);
        if (width <= len) return s;
        Budget.current().string((long) width - len + s.length());
        int marg = width - len;
        int left = marg / 2 + (marg & width & 1);
        String f = String.valueOf(fill);
        return f.repeat(left) + s + f.repeat(marg - left);
    }

    // ---- slicing -------------------------------------------------------------------------------

    /** s[start:end] with Python index rules (None = open end). */
    static String slice(String s, Object start, Object end) {
        return slice(s, new Ops.Slice(start, end, null));
    }

    /** {@code s[a:b:c]} in code points, without materializing the characters (Python's rules for the bounds). */
    static String slice(String s, Ops.Slice sl) {
        Budget b = Budget.current();
        boolean bmp = s.length() < 64 ? s.codePoints().allMatch(Character::isBmpCodePoint) : noSurrogates(s, b);
        int[] cps = null;
        int n = s.length();
        if (!bmp) {
            b.alloc(16 + 4L * n);
            cps = s.codePoints().toArray();
            n = cps.length;
        }
        long[] r = Ops.sliceRange(n, sl);
        long start = r[0], step = r[1], count = r[2];
        if (count == 0) return "";
        if (step == 1 && bmp) return sub(s, (int) start, (int) (start + count), b);
        b.string(bmp ? count : 2 * count);
        b.scan(count);
        StringBuilder sb = new StringBuilder((int) count);
        for (long k = 0, i = start; k < count; k++, i += step) {
            if (bmp) sb.append(s.charAt((int) i));
            else sb.appendCodePoint(cps[(int) i]);
        }
        return sb.toString();
    }

    private static boolean noSurrogates(String s, Budget b) {
        b.scan(s.length());
        for (int i = 0; i < s.length(); i++) if (Character.isSurrogate(s.charAt(i))) return false;
        return true;
    }
}

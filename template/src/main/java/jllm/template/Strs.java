package jllm.template;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** Python str algorithms on Java strings (whitespace per str.isspace, indices in code points). */
final class Strs {
    private Strs() {
    }

    static boolean isSpace(int c) {
        if (c >= 9 && c <= 13 || c >= 0x1c && c <= 0x20 || c == 0x85) return true;
        int t = Character.getType(c);
        return t == Character.SPACE_SEPARATOR || t == Character.LINE_SEPARATOR || t == Character.PARAGRAPH_SEPARATOR;
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int b = 0, e = s.length();
        if (left) while (b < e && strippable(s.codePointAt(b), chars)) b += Character.charCount(s.codePointAt(b));
        if (right) while (e > b && strippable(s.codePointBefore(e), chars)) e -= Character.charCount(s.codePointBefore(e));
        return s.substring(b, e);
    }

    private static boolean strippable(int c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
    }

    static List<Object> split(String s, String sep, long max, boolean fromRight) {
        List<Object> out = new ArrayList<>();
        if (max < 0) max = Long.MAX_VALUE;
        if (sep == null) {
            if (!fromRight) {
                int i = 0, n = s.length();
                while (true) {
                    while (i < n && isSpace(s.charAt(i))) i++;
                    if (i >= n) break;
                    if (out.size() == max) {
                        out.add(strip(s.substring(i), null, false, true));
                        break;
                    }
                    int j = i;
                    while (j < n && !isSpace(s.charAt(j))) j++;
                    out.add(s.substring(i, j));
                    i = j;
                }
            } else {
                int e = s.length();
                while (true) {
                    while (e > 0 && isSpace(s.charAt(e - 1))) e--;
                    if (e <= 0) break;
                    if (out.size() == max) {
                        out.add(strip(s.substring(0, e), null, true, false));
                        break;
                    }
                    int b = e;
                    while (b > 0 && !isSpace(s.charAt(b - 1))) b--;
                    out.add(s.substring(b, e));
                    e = b;
                }
                Collections.reverse(out);
            }
            return out;
        }
        if (!fromRight) {
            int i = 0;
            while (out.size() < max) {
                int at = s.indexOf(sep, i);
                if (at < 0) break;
                out.add(s.substring(i, at));
                i = at + sep.length();
            }
            out.add(s.substring(i));
        } else {
            int e = s.length();
            while (out.size() < max) {
                int at = s.lastIndexOf(sep, e - sep.length());
                if (at < 0 || e - sep.length() < 0) break;
                out.add(s.substring(at + sep.length(), e));
                e = at;
            }
            out.add(s.substring(0, e));
            Collections.reverse(out);
        }
        return out;
    }

    static List<Object> splitlines(String s, boolean keep) {
        List<Object> out = new ArrayList<>();
        int i = 0, start = 0, n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            int eol = -1;
            if (c == '\r' && i + 1 < n && s.charAt(i + 1) == '\n') eol = 2;
            else if (c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d || c == 0x1e || c == 0x85
                    || c == 0x2028 || c == 0x2029) eol = 1;
            if (eol > 0) {
                out.add(s.substring(start, keep ? i + eol : i));
                i += eol;
                start = i;
            } else i++;
        }
        if (start < n) out.add(s.substring(start));
        return out;
    }

    static String replace(String s, String old, String neu, long count) {
        if (count < 0) count = Long.MAX_VALUE;
        if (old.isEmpty()) {
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
            int at = s.indexOf(old, i);
            if (at < 0) break;
            sb.append(s, i, at).append(neu);
            i = at + old.length();
            done++;
        }
        return sb.append(s.substring(i)).toString();
    }

    /** Python's str.title: a cased character after an uncased one is uppercased, the rest lowercased. */
    static String title(String s) {
        StringBuilder sb = new StringBuilder();
        boolean prevCased = false;
        for (int c : s.codePoints().toArray()) {
            boolean cased = Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
            sb.appendCodePoint(cased ? (prevCased ? Character.toLowerCase(c) : Character.toTitleCase(c)) : c);
            prevCased = cased;
        }
        return sb.toString();
    }

    static String capitalize(String s) {
        if (s.isEmpty()) return s;
        int first = s.codePointAt(0);
        return new String(Character.toChars(Character.toTitleCase(first))) + s.substring(Character.charCount(first)).toLowerCase(Locale.ROOT);
    }

    static String center(String s, int width, char fill) {
        int len = s.codePointCount(0, s.length());
        if (width <= len) return s;
        int marg = width - len;
        int left = marg / 2 + (marg & width & 1);
        String f = String.valueOf(fill);
        return f.repeat(left) + s + f.repeat(marg - left);
    }

    /** s[start:end] with Python index rules (None = open end). */
    static String slice(String s, Object start, Object end) {
        List<Object> cps = Py.chars(s);
        List<Object> part = Ops.slice(cps, new Ops.Slice(start, end, null), false);
        StringBuilder sb = new StringBuilder();
        for (Object o : part) sb.append((String) o);
        return sb.toString();
    }
}

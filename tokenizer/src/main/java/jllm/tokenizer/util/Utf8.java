package jllm.tokenizer.util;

import java.nio.charset.StandardCharsets;

/** UTF-8 / UTF-16 helpers with the project's defined behaviour for broken text. */
public final class Utf8 {
    private Utf8() {}

    /**
     * Java strings may hold lone surrogates, which no UTF-8 tokenizer can see; they are replaced by
     * U+FFFD, exactly what the UTF-8 encoder of the JDK (and a Rust String built from it) would do.
     */
    public static String sanitize(String s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return fix(s);
            }
        }
        return s;
    }

    private static String fix(String s) {
        StringBuilder b = new StringBuilder(s.length());
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                b.append(c).append(s.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                b.append('\uFFFD');
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** Lossy decode: each maximal invalid subsequence becomes U+FFFD (as Rust's from_utf8_lossy). */
    public static String decodeLossy(byte[] b, int len) {
        return new String(b, 0, len, StandardCharsets.UTF_8);
    }

    public static boolean isValid(byte[] b, int off, int len) {
        int i = off, end = off + len;
        while (i < end) {
            int c = b[i] & 0xFF;
            if (c < 0x80) { i++; continue; }
            int n, min;
            if (c >= 0xC2 && c <= 0xDF) { n = 1; min = 0x80; }
            else if (c >= 0xE0 && c <= 0xEF) { n = 2; min = 0x800; }
            else if (c >= 0xF0 && c <= 0xF4) { n = 3; min = 0x10000; }
            else return false;
            if (i + n >= end) return false;
            int cp = c & (0x3F >> n);
            for (int k = 1; k <= n; k++) {
                int d = b[i + k] & 0xFF;
                if ((d & 0xC0) != 0x80) return false;
                cp = (cp << 6) | (d & 0x3F);
            }
            if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
            i += n + 1;
        }
        return true;
    }
}

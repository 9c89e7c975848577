package jllm.tokenizer.decoder;

import jllm.tokenizer.util.Utf8;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Turns runs of {@code <0xXX>} tokens into text; an invalid UTF-8 run yields one U+FFFD per byte. */
public record ByteFallbackDecoder() implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        byte[] buf = new byte[16];
        int n = 0;
        for (String t : tokens) {
            int b = byteOf(t);
            if (b >= 0) {
                if (n == buf.length) buf = java.util.Arrays.copyOf(buf, n * 2);
                buf[n++] = (byte) b;
                continue;
            }
            n = flush(buf, n, out);
            out.add(t);
        }
        flush(buf, n, out);
        return out;
    }

    private static int flush(byte[] buf, int n, List<String> out) {
        if (n == 0) return 0;
        if (Utf8.isValid(buf, 0, n)) out.add(new String(buf, 0, n, StandardCharsets.UTF_8));
        else for (int i = 0; i < n; i++) out.add("\uFFFD");
        return 0;
    }

    static int byteOf(String t) {
        if (t.length() != 6 || !t.startsWith("<0x") || t.charAt(5) != '>') return -1;
        int hi = Character.digit(t.charAt(3), 16), lo = Character.digit(t.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }
}

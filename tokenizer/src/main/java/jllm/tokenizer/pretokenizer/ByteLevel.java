package jllm.tokenizer.pretokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * GPT-2 byte-level pre-tokenizer: optional prefix space, optional GPT-2 regex split, then each UTF-8
 * byte is written as one printable character of the GPT-2 byte alphabet.
 */
public final class ByteLevel implements PreTokenizer {
    /** byte -> alphabet char, and the inverse (chars up to U+0143). */
    public static final char[] BYTE_TO_CHAR = new char[256];
    public static final int[] CHAR_TO_BYTE = new int[0x144];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private final boolean addPrefixSpace;
    private final Split regexSplit;

    public ByteLevel(boolean addPrefixSpace, boolean useRegex) {
        this.addPrefixSpace = addPrefixSpace;
        this.regexSplit = useRegex ? new Split(new Gpt2Scanner(), Behavior.ISOLATED, false) : null;
    }

    @Override
    public List<String> apply(List<String> pieces, boolean atStart) {
        List<String> cur = pieces;
        if (addPrefixSpace) {
            cur = new ArrayList<>(pieces.size());
            for (String p : pieces) cur.add(p.startsWith(" ") ? p : " " + p);
        }
        if (regexSplit != null) cur = regexSplit.apply(cur, atStart);
        List<String> out = new ArrayList<>(cur.size());
        for (String p : cur) out.add(map(p));
        return out;
    }

    /** Maps text to the byte-level alphabet; ASCII-only strings take a fast path. */
    public static String map(String p) {
        int n = p.length();
        boolean ascii = true;
        for (int i = 0; i < n; i++) {
            char c = p.charAt(i);
            if (c >= 128 || BYTE_TO_CHAR[c] != c) { ascii = false; break; }
        }
        if (ascii) return p;
        byte[] bytes = p.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(out);
    }
}

package jllm.tokenizer;

import java.util.SplittableRandom;

/** Seeded random strings that stress tokenizers: mixed scripts, emoji, whitespace runs, marks, look-alikes. */
final class FuzzText {
    private static final String[] ATOMS = {
            " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", "\u00A0", "\u3000", "\u2028", "\u200B", "\u000B", "\f", "\u0085",
            "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "'\u017F", "'Re", "'", "\"",
            "<s>", "</s>", "<unk>", "<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|eot_id|>", "<start_of_turn>",
            "<end_of_turn>", "<bos>", "<0x41>", "<|endoftext|>", "<think>", "<|im_start", "im_end|>", "< s>", "<S>",
            "\u2581", "\u2581\u2581", "##", "\u0120", "\u010A",
            "\uD83D\uDE00", "\uD83E\uDD17", "\uD83D\uDC4D\uD83C\uDFFD", "\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67",
            "\u2764\uFE0F", "\uD83C\uDFF3\uFE0F\u200D\uD83C\uDF08", "\u2600", "\uFE0F", "\u200D",
            "e\u0301", "\u0301", "\u0308", "\u0627\u0644", "\u05E9\u05DC", "\u0939\u093F", "\u0E44\u0E17",
            "\uFB01", "\uFF26", "\u2160", "\u00BD", "\u0660\u0661", "\u0966", "\u00B2", "\uD835\uDC00", "\u1F00",
            "...", "!!", "?!", "--", "__", "==", "->", "::", "{}", "()", "[]", "<>", "#", "$", "%", "&", "*", "@", "\\", "/",
            "http://x.y/z?a=1", "1,000", "3.14", "0x1F", "1e-9", "\u0000", "\u0001", "\u007F", "\uFFFD", "\uE000",
    };
    private static final int[][] RANGES = {
            {'a', 'z'}, {'A', 'Z'}, {'0', '9'}, {'!', '/'}, {0xC0, 0x17F}, {0x391, 0x3C9}, {0x410, 0x44F},
            {0x4E00, 0x4FFF}, {0x3041, 0x3096}, {0x30A1, 0x30FA}, {0xAC00, 0xAD00}, {0x600, 0x64A}, {0x5D0, 0x5EA},
            {0x900, 0x97F}, {0xE01, 0xE5B}, {0x1F300, 0x1F64F}, {0x2000, 0x206F}, {0x2190, 0x21FF}, {0x300, 0x36F},
            {0x1100, 0x11FF}, {0xFF01, 0xFF5E}, {0x10A0, 0x10FF}, {0x1E00, 0x1EFF}, {0x20, 0x7E}, {0x80, 0xBF},
    };

    private FuzzText() {}

    static String next(SplittableRandom r) {
        int len = r.nextInt(100) < 5 ? r.nextInt(400) : r.nextInt(40);
        StringBuilder b = new StringBuilder();
        while (b.length() < len) {
            int k = r.nextInt(10);
            if (k < 3) {
                b.append(ATOMS[r.nextInt(ATOMS.length)]);
            } else if (k < 5) {
                int[] rg = RANGES[r.nextInt(RANGES.length)];
                int n = 1 + r.nextInt(8);
                for (int i = 0; i < n; i++) b.appendCodePoint(rg[0] + r.nextInt(rg[1] - rg[0] + 1));
            } else if (k < 8) {
                int n = 1 + r.nextInt(10);
                for (int i = 0; i < n; i++) b.append((char) ('a' + r.nextInt(26)));
            } else if (k < 9) {
                int n = 1 + r.nextInt(12);
                for (int i = 0; i < n; i++) b.append((char) ('0' + r.nextInt(10)));
            } else {
                b.append(' ');
            }
        }
        return b.toString();
    }
}

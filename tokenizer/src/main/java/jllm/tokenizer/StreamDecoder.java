package jllm.tokenizer;

import java.util.Arrays;

/**
 * Incremental detokenization for generation: feed ids one at a time and get the text that became
 * final. A token may end in the middle of a UTF-8 character (byte tokens, byte-level BPE) and
 * SentencePiece decoders treat a leading space differently at the start of a text, so each step
 * decodes a short window that begins a few tokens back ({@code prefix}) and emits only what lies
 * beyond the text already emitted ({@code read}); text ending in U+FFFD is held back until the
 * character completes. Linear in the number of tokens. Not thread-safe (one per generation).
 */
public final class StreamDecoder {
    private final Tokenizer tokenizer;
    private final boolean skipSpecial;
    private int[] ids = new int[64];
    private int n;
    private int prefix;
    private int read;

    StreamDecoder(Tokenizer tokenizer, boolean skipSpecial) {
        this.tokenizer = tokenizer;
        this.skipSpecial = skipSpecial;
    }

    /** Adds one id; returns the newly completed text (possibly empty). */
    public String push(int id) {
        if (n == ids.length) ids = Arrays.copyOf(ids, n * 2);
        ids[n++] = id;
        String before = tokenizer.decode(Arrays.copyOfRange(ids, prefix, read), skipSpecial);
        String after = tokenizer.decode(Arrays.copyOfRange(ids, prefix, n), skipSpecial);
        if (after.length() > before.length() && !after.endsWith("\uFFFD") && after.startsWith(before)) {
            String delta = after.substring(before.length());
            prefix = read;
            read = n;
            return delta;
        }
        if (!after.startsWith(before) && !after.endsWith("\uFFFD")) {
            // The window's decoding changed shape (rare normalizing decoders): restart the window here.
            String delta = after.length() > before.length() ? after.substring(before.length()) : "";
            prefix = read;
            read = n;
            return delta;
        }
        return "";
    }

    /** Whatever is still held back (an incomplete character at the very end becomes U+FFFD). */
    public String flush() {
        String before = tokenizer.decode(Arrays.copyOfRange(ids, prefix, read), skipSpecial);
        String after = tokenizer.decode(Arrays.copyOfRange(ids, prefix, n), skipSpecial);
        prefix = read = n;
        return after.length() > before.length() && after.startsWith(before) ? after.substring(before.length()) : "";
    }
}

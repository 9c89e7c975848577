package jllm.tokenizer.model;

import jllm.tokenizer.pretokenizer.CharClass;
import jllm.tokenizer.pretokenizer.CharPattern;
import jllm.tokenizer.util.IntList;

import java.text.Normalizer;

/**
 * llama.cpp's WordPiece ("bert" GGUF vocabularies): the converter stores word-initial pieces with a
 * leading "▁" and continuations bare. Text is NFD-normalized, lowercased, split on whitespace and
 * around punctuation / ASCII symbols / CJK ideographs; each word, prefixed with "▁", is segmented by
 * greedy longest match, and a word that cannot be fully segmented becomes the unknown token.
 */
public final class LlamaCppWordPiece implements Model {
    private final Vocab vocab;
    private final int unkId;
    private final int maxTokenLen;

    public LlamaCppWordPiece(Vocab vocab, int unkId) {
        this.vocab = vocab;
        this.unkId = unkId;
        int m = 1;
        for (String t : vocab.tokens) if (t != null) m = Math.max(m, t.length());
        this.maxTokenLen = m;
    }

    @Override
    public void encode(String text, IntList out) {
        String nfd = Normalizer.normalize(text, Normalizer.Form.NFD);
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < nfd.length(); ) {
            int c = nfd.codePointAt(i);
            i += Character.charCount(c);
            if (CharClass.isWhiteSpace(c)) { flush(word, out); continue; }
            if (c == 0 || c == 0xFFFD || Character.getType(c) == Character.CONTROL) continue;
            // llama.cpp drops combining accents after NFD (BERT uncased vocabularies have none).
            if (Character.getType(c) == Character.NON_SPACING_MARK) continue;
            String low = new String(Character.toChars(c)).toLowerCase(java.util.Locale.ROOT);
            if (CharPattern.isPunctuation(c) || (c < 0x7F && isSymbol(c)) || isChinese(c)) {
                flush(word, out);
                word.append(low);
                flush(word, out);
            } else {
                word.append(low);
            }
        }
        flush(word, out);
    }

    private static boolean isSymbol(int c) {
        int t = Character.getType(c);
        return t == Character.MATH_SYMBOL || t == Character.CURRENCY_SYMBOL || t == Character.MODIFIER_SYMBOL || t == Character.OTHER_SYMBOL;
    }

    private static boolean isChinese(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }

    private void flush(StringBuilder word, IntList out) {
        if (word.isEmpty()) return;
        String w = "\u2581" + word;
        word.setLength(0);
        int mark = out.size();
        int n = w.length();
        for (int i = 0; i < n; ) {
            int found = -1, end = -1;
            for (int j = Math.min(n, i + maxTokenLen); j > i; j--) {
                int id = vocab.id(w.substring(i, j));
                if (id >= 0) { found = id; end = j; break; }
            }
            if (found < 0) { out.truncate(mark); break; }
            out.add(found);
            i = end;
        }
        if (out.size() == mark) out.add(unkId);
    }

    @Override public String idToToken(int id) { return vocab.token(id); }
    @Override public int tokenToId(String token) { return vocab.id(token); }
    @Override public int vocabSize() { return vocab.size(); }
}

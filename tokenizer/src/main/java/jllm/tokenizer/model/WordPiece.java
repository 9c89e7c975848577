package jllm.tokenizer.model;

import jllm.tokenizer.util.IntList;

/** Greedy longest-match-first WordPiece (BERT); a word with no full segmentation becomes the unknown token. */
public final class WordPiece implements Model {
    private final Vocab vocab;
    private final int unkId;
    private final String prefix;
    private final int maxChars;

    public WordPiece(Vocab vocab, String unkToken, String prefix, int maxInputCharsPerWord) {
        this.vocab = vocab;
        this.unkId = vocab.id(unkToken);
        if (unkId < 0) throw new jllm.formats.FormatException("WordPiece unknown token '" + unkToken + "' is not in the vocabulary");
        this.prefix = prefix;
        this.maxChars = maxInputCharsPerWord;
    }

    @Override
    public void encode(String w, IntList out) {
        if (w.codePointCount(0, w.length()) > maxChars) { out.add(unkId); return; }
        int mark = out.size();
        int start = 0, n = w.length();
        while (start < n) {
            int end = n;
            int found = -1;
            while (start < end) {
                String sub = w.substring(start, end);
                if (start > 0) sub = prefix + sub;
                int id = vocab.id(sub);
                if (id >= 0) { found = id; break; }
                end = w.offsetByCodePoints(end, -1);
            }
            if (found < 0) {
                out.truncate(mark);
                out.add(unkId);
                return;
            }
            out.add(found);
            start = end;
        }
    }

    @Override public String idToToken(int id) { return vocab.token(id); }
    @Override public int tokenToId(String token) { return vocab.id(token); }
    @Override public int vocabSize() { return vocab.size(); }
}

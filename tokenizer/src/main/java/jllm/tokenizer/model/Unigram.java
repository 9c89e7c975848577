package jllm.tokenizer.model;

import jllm.tokenizer.util.IntList;

import java.nio.charset.StandardCharsets;

/**
 * SentencePiece Unigram: Viterbi search for the segmentation with the highest total log-probability.
 * An unknown character scores (min score - 10) as in SentencePiece; consecutive unknowns fuse when
 * asked; with byte fallback an unknown character becomes its UTF-8 byte tokens instead.
 */
public final class Unigram implements Model {
    private static final double UNK_PENALTY = 10.0;

    private final Vocab vocab;
    private final double[] scores;
    private final int unkId;
    private final boolean byteFallback;
    private final boolean fuseUnk;
    private final double unkScore;
    private final int maxLen;
    /** Vocabulary pieces by UTF-16 chars; Viterbi walks it from each position to find every piece that starts there. */
    private final jllm.tokenizer.util.StringTrie trie;
    private final int[] byteIds = new int[256];

    public Unigram(Vocab vocab, double[] scores, int unkId, boolean byteFallback, boolean fuseUnk, boolean[] usable) {
        this.vocab = vocab;
        this.scores = scores;
        // An unknown-token id that is not in the vocabulary is no unknown token at all.
        this.unkId = unkId >= 0 && unkId < vocab.size() ? unkId : -1;
        this.byteFallback = byteFallback;
        this.fuseUnk = fuseUnk;
        double min = Double.MAX_VALUE;
        for (double s : scores) min = Math.min(min, s);
        unkScore = min - UNK_PENALTY;
        trie = new jllm.tokenizer.util.StringTrie(vocab.size());
        int ml = 1;
        for (int id = 0; id < vocab.tokens.length; id++) {
            String t = vocab.tokens[id];
            if (t == null || t.isEmpty() || (usable != null && !usable[id])) continue;
            ml = Math.max(ml, t.length());
            trie.put(t, id);
        }
        maxLen = ml;
        for (int b = 0; b < 256; b++) byteIds[b] = vocab.id(String.format("<0x%02X>", b));
    }

    @Override
    public void encode(String s, IntList out) {
        int n = s.length();
        if (n == 0) return;
        double[] best = new double[n + 1];
        int[] from = new int[n + 1];
        int[] tok = new int[n + 1];
        java.util.Arrays.fill(best, Double.NEGATIVE_INFINITY);
        best[0] = 0;
        for (int i = 0; i < n; i++) {
            if (best[i] == Double.NEGATIVE_INFINITY) continue;
            if (Character.isLowSurrogate(s.charAt(i)) && i > 0 && Character.isHighSurrogate(s.charAt(i - 1))) continue;
            int node = jllm.tokenizer.util.StringTrie.ROOT;
            boolean singleChar = false;
            int cpEnd = i + Character.charCount(s.codePointAt(i));
            for (int j = i; j < n && j - i < maxLen; j++) {
                node = trie.step(node, s.charAt(j));
                if (node < 0) break;
                int id = trie.value(node);
                if (id >= 0 && (j + 1 == n || !Character.isLowSurrogate(s.charAt(j + 1)) || !Character.isHighSurrogate(s.charAt(j)))) {
                    double sc = best[i] + scores[id];
                    if (sc > best[j + 1]) { best[j + 1] = sc; from[j + 1] = i; tok[j + 1] = id; }
                    if (j + 1 == cpEnd) singleChar = true;
                }
            }
            if (!singleChar) {
                double sc = best[i] + unkScore;
                if (sc > best[cpEnd]) { best[cpEnd] = sc; from[cpEnd] = i; tok[cpEnd] = -1; }
            }
        }
        IntList rev = new IntList();
        IntList starts = new IntList();
        for (int e = n; e > 0; e = from[e]) { rev.add(tok[e]); starts.add(from[e]); }
        boolean prevUnk = false;
        for (int k = rev.size() - 1; k >= 0; k--) {
            int id = rev.get(k);
            if (id >= 0) { out.add(id); prevUnk = false; continue; }
            int a = starts.get(k);
            int b = k > 0 ? starts.get(k - 1) : n;
            if (byteFallback) {
                for (byte x : s.substring(a, b).getBytes(StandardCharsets.UTF_8)) out.add(byteIds[x & 0xFF] >= 0 ? byteIds[x & 0xFF] : unk(s, a, b));
                prevUnk = false;
            } else {
                if (!(fuseUnk && prevUnk)) out.add(unk(s, a, b));
                prevUnk = true;
            }
        }
    }

    /** The unknown token for {@code s[a, b)}; without one (as tokenizers does) the text cannot be encoded. */
    private int unk(String s, int a, int b) {
        if (unkId < 0)
            throw new IllegalArgumentException("cannot encode '" + s.substring(a, b) + "': the Unigram vocabulary has no piece for it and no unknown token");
        return unkId;
    }

    @Override public String idToToken(int id) { return vocab.token(id); }
    @Override public int tokenToId(String token) { return vocab.id(token); }
    @Override public int vocabSize() { return vocab.size(); }
}

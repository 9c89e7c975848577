package jllm.tokenizer.model;

import jllm.tokenizer.util.IntList;
import jllm.tokenizer.util.LongLongMap;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-pair encoding as in Hugging Face {@code tokenizers}: start from one symbol per character (or
 * per byte token when {@code byteFallback} and the character is unknown), then repeatedly apply the
 * lowest-ranked merge, leftmost first. SentencePiece-BPE vocabularies without merges (GGUF "llama",
 * {@code .model}, llama2.c) are expressed as merges ranked by the score of the merged token, which
 * gives exactly SentencePiece's highest-score-first, leftmost-first order.
 */
public final class Bpe implements Model {
    private static final int CACHE_MAX = 200_000;
    private static final int CACHE_MAX_LEN = 64;

    private final Vocab vocab;
    /** (left id << 32 | right id) -> (rank << 32 | merged id). */
    private final LongLongMap merges;
    private final LongLongMap charIds = new LongLongMap(1024);
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean byteFallback;
    private final boolean ignoreMerges;
    private final String prefix;
    private final String suffix;
    private final int[] byteIds = new int[256];
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();
    /**
     * SentencePiece-style inputs (Llama 2) arrive as one piece for the whole text. When no token
     * contains "▁" after another character, no merge can cross the start of a "▁" run, so the
     * piece can be cut there and the parts merged independently (and cached) with the same result.
     */
    private final boolean cutAtMetaspace;

    public Bpe(Vocab vocab, LongLongMap merges, String unkToken, boolean fuseUnk, boolean byteFallback,
               boolean ignoreMerges, String continuingSubwordPrefix, String endOfWordSuffix) {
        this.vocab = vocab;
        this.merges = merges;
        this.unkId = unkToken == null ? -1 : vocab.id(unkToken);
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        this.prefix = continuingSubwordPrefix == null || continuingSubwordPrefix.isEmpty() ? null : continuingSubwordPrefix;
        this.suffix = endOfWordSuffix == null || endOfWordSuffix.isEmpty() ? null : endOfWordSuffix;
        for (int i = 0; i < vocab.tokens.length; i++) {
            String t = vocab.tokens[i];
            if (t != null && !t.isEmpty() && t.codePointCount(0, t.length()) == 1) charIds.putIfAbsent(t.codePointAt(0), i);
        }
        for (int b = 0; b < 256; b++) byteIds[b] = vocab.id(String.format("<0x%02X>", b));
        int withPrefix = 0;
        boolean crossing = false;
        for (String t : vocab.tokens) {
            if (t == null) continue;
            if (t.startsWith("\u2581")) withPrefix++;
            for (int i = 1; i < t.length() && !crossing; i++) {
                if (t.charAt(i) == '\u2581' && t.charAt(i - 1) != '\u2581') crossing = true;
            }
        }
        // "▁" itself must be a token, or unknown-token fusing could span the cut.
        cutAtMetaspace = !crossing && withPrefix > 100 && prefix == null && suffix == null && charIds.get('\u2581', -1) >= 0;
    }

    /** Builds the merge table from "a b" pairs (rank = position). Unknown parts are a format error. */
    public static LongLongMap mergesFromPairs(Vocab vocab, String[][] pairs, String prefix) {
        LongLongMap m = new LongLongMap(pairs.length);
        String pre = prefix == null ? "" : prefix;
        for (int r = 0; r < pairs.length; r++) {
            String a = pairs[r][0], b = pairs[r][1];
            int bs = pre.isEmpty() || !b.startsWith(pre) ? 0 : pre.length();
            if (!merge(m, r, vocab.id(a), vocab.id(b), vocab.id(a, 0, a.length(), b, bs, b.length()))) throw missing(r, a + " " + b);
        }
        return m;
    }

    /**
     * As {@link #mergesFromPairs} from GGUF's merge lines ("a b", split at the first space after the
     * first character), without making the parts' strings. (Looking the ids up on two threads gained
     * nothing on a cold JVM: the pool and the lambda cost what the second core saved.)
     */
    public static LongLongMap mergesFromLines(Vocab vocab, String[] lines) {
        LongLongMap m = new LongLongMap(lines.length);
        for (int r = 0; r < lines.length; r++) {
            String s = lines[r];
            int sp = s.indexOf(' ', 1), n = s.length();
            if (sp < 0) throw new jllm.formats.FormatException("merge #" + r + " '" + s + "' is not 'a b'");
            if (!merge(m, r, vocab.id(s, 0, sp), vocab.id(s, sp + 1, n), vocab.id(s, 0, sp, s, sp + 1, n))) throw missing(r, s);
        }
        return m;
    }

    /** Adds merge r (first rank wins); false where a part or the result is not in the vocabulary. */
    private static boolean merge(LongLongMap m, int r, int ia, int ib, int im) {
        if (ia < 0 || ib < 0 || im < 0) return false;
        m.putIfAbsent(((long) ia << 32) | ib, ((long) r << 32) | im);
        return true;
    }

    private static jllm.formats.FormatException missing(int r, String pair) {
        return new jllm.formats.FormatException("BPE merge #" + r + " '" + pair + "' uses a token missing from the vocabulary");
    }

    /**
     * SentencePiece-style merges: every way of writing a vocabulary token as the concatenation of
     * two other tokens is a merge, ranked by the merged token's score (higher first, ties by id).
     */
    public static LongLongMap mergesFromScores(Vocab vocab, float[] scores, boolean[] mergeable) {
        int n = vocab.tokens.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> {
            int c = Float.compare(scores[y], scores[x]);
            return c != 0 ? c : Integer.compare(x, y);
        });
        int[] rank = new int[n];
        for (int r = 0, prevRank = 0; r < n; r++) {
            // Equal scores share a rank so the leftmost pair wins, as in SentencePiece.
            if (r > 0 && scores[order[r]] != scores[order[r - 1]]) prevRank = r;
            rank[order[r]] = prevRank;
        }
        LongLongMap m = new LongLongMap(n * 2);
        for (int id = 0; id < n; id++) {
            String t = vocab.tokens[id];
            if (t == null || (mergeable != null && !mergeable[id])) continue;
            for (int k = 1; k < t.length(); k++) {
                if (Character.isLowSurrogate(t.charAt(k))) continue;
                int a = vocab.id(t.substring(0, k)), b = vocab.id(t.substring(k));
                if (a < 0 || b < 0) continue;
                m.putIfAbsent(((long) a << 32) | b, ((long) rank[id] << 32) | id);
            }
        }
        return m;
    }

    @Override
    public void encode(String piece, IntList out) {
        if (cutAtMetaspace && piece.length() > 1 && !ignoreMerges) {
            int start = 0;
            for (int i = 1; i < piece.length(); i++) {
                if (piece.charAt(i) == '\u2581' && piece.charAt(i - 1) != '\u2581') {
                    encodeWord(piece.substring(start, i), out);
                    start = i;
                }
            }
            encodeWord(start == 0 ? piece : piece.substring(start), out);
            return;
        }
        encodeWord(piece, out);
    }

    private void encodeWord(String piece, IntList out) {
        if (piece.isEmpty()) return;
        boolean cacheable = piece.length() <= CACHE_MAX_LEN;
        if (cacheable) {
            int[] hit = cache.get(piece);
            if (hit != null) { out.addAll(hit); return; }
        }
        if (ignoreMerges) {
            int id = vocab.id(piece);
            if (id >= 0) { out.add(id); return; }
        }
        int[] ids = mergeWord(piece);
        if (cacheable && cache.size() < CACHE_MAX) cache.put(piece, ids);
        out.addAll(ids);
    }

    private int symbolId(String s) { return vocab.id(s); }

    private int[] mergeWord(String w) {
        int n = w.length();
        int[] sym = new int[n + 4];
        int count = 0;
        boolean prevUnk = false;
        for (int i = 0; i < n; ) {
            int cp = w.codePointAt(i);
            int next = i + Character.charCount(cp);
            int id;
            if (prefix == null && suffix == null) {
                id = (int) charIds.get(cp, -1);
            } else {
                String s = w.substring(i, next);
                if (prefix != null && i > 0) s = prefix + s;
                if (suffix != null && next == n) s = s + suffix;
                id = symbolId(s);
            }
            if (id >= 0) {
                if (count + 1 > sym.length) sym = Arrays.copyOf(sym, sym.length * 2);
                sym[count++] = id;
                prevUnk = false;
            } else if (byteFallback && allBytesKnown(w, i, next)) {
                byte[] bytes = w.substring(i, next).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                if (count + bytes.length > sym.length) sym = Arrays.copyOf(sym, sym.length * 2 + bytes.length);
                for (byte b : bytes) sym[count++] = byteIds[b & 0xFF];
                prevUnk = false;
            } else if (unkId >= 0) {
                if (!(fuseUnk && prevUnk)) {
                    if (count + 1 > sym.length) sym = Arrays.copyOf(sym, sym.length * 2);
                    sym[count++] = unkId;
                }
                prevUnk = true;
            }
            // Without an unknown token an unrepresentable character is dropped, as tokenizers does.
            i = next;
        }
        return merge(sym, count);
    }

    private boolean allBytesKnown(String w, int from, int to) {
        for (byte b : w.substring(from, to).getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            if (byteIds[b & 0xFF] < 0) return false;
        }
        return true;
    }

    /** Heap-driven merging: O(n log n) even for a 10 MB piece without pre-tokenization. */
    private int[] merge(int[] sym, int n) {
        if (n <= 1) return Arrays.copyOf(sym, n);
        int[] next = new int[n];
        int[] prev = new int[n];
        boolean[] dead = new boolean[n];
        for (int i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; }
        long[] heap = new long[Math.max(16, n)];
        int hs = 0;
        for (int i = 0; i + 1 < n; i++) {
            long m = merges.get(((long) sym[i] << 32) | sym[i + 1], -1);
            if (m >= 0) { if (hs == heap.length) heap = Arrays.copyOf(heap, hs * 2); hs = push(heap, hs, ((m >>> 32) << 32) | i); }
        }
        while (hs > 0) {
            long top = heap[0];
            hs = pop(heap, hs);
            int pos = (int) top;
            int rank = (int) (top >>> 32);
            if (dead[pos]) continue;
            int r = next[pos];
            if (r < 0) continue;
            long m = merges.get(((long) sym[pos] << 32) | sym[r], -1);
            if (m < 0 || (int) (m >>> 32) != rank) continue;
            sym[pos] = (int) m;
            dead[r] = true;
            int rr = next[r];
            next[pos] = rr;
            if (rr >= 0) prev[rr] = pos;
            int p = prev[pos];
            if (p >= 0) {
                long mp = merges.get(((long) sym[p] << 32) | sym[pos], -1);
                if (mp >= 0) { if (hs == heap.length) heap = Arrays.copyOf(heap, hs * 2); hs = push(heap, hs, ((mp >>> 32) << 32) | p); }
            }
            if (rr >= 0) {
                long mn = merges.get(((long) sym[pos] << 32) | sym[rr], -1);
                if (mn >= 0) { if (hs == heap.length) heap = Arrays.copyOf(heap, hs * 2); hs = push(heap, hs, ((mn >>> 32) << 32) | pos); }
            }
        }
        int c = 0;
        for (int i = 0; i >= 0; i = next[i]) sym[c++] = sym[i];
        return Arrays.copyOf(sym, c);
    }

    private static int push(long[] h, int n, long v) {
        int i = n++;
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (h[p] <= v) break;
            h[i] = h[p];
            i = p;
        }
        h[i] = v;
        return n;
    }

    private static int pop(long[] h, int n) {
        long v = h[--n];
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            if (l >= n) break;
            int c = l + 1 < n && h[l + 1] < h[l] ? l + 1 : l;
            if (h[c] >= v) break;
            h[i] = h[c];
            i = c;
        }
        h[i] = v;
        return n;
    }

    @Override public String idToToken(int id) { return vocab.token(id); }
    @Override public int tokenToId(String token) { return vocab.id(token); }
    @Override public int vocabSize() { return vocab.size(); }
    public Vocab vocab() { return vocab; }
}

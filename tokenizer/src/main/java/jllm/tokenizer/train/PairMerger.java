package jllm.tokenizer.train;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * The BPE learning loop over a bag of words: repeatedly merge the most frequent adjacent symbol pair.
 *
 * <p>Pair counts are updated incrementally: each pair keeps the list of words it occurs in, a merge
 * rewrites only those words and adjusts the counts of the pairs they touch, and a max-heap with lazy
 * deletion (an entry whose count is stale is re-queued with the current count when it surfaces) picks
 * the next pair. Recounting every pair after every merge would cost O(corpus x merges).
 *
 * <p>Ties (equal counts) go to the pair with the smaller left id, then the smaller right id, so the
 * result depends only on the input, never on hash order.
 */
final class PairMerger {
    /** A barrier: a symbol that never pairs (byte-fallback characters outside the alphabet). */
    static final int BARRIER = -1;

    /** One learned merge: {@code left right -> merged}. */
    record Merge(int left, int right, int merged, long count) {}

    /** Decides the id of the symbol a merge creates (a new id, or an existing token with the same text). */
    interface Symbols {
        int merge(int left, int right);

        /** False once the vocabulary is as large as asked. */
        boolean wantMore();
    }

    private static final class Stat {
        long count;
        int[] words = new int[4];
        int n;
        int lastWord = -1;

        void addWord(int w) {
            if (w == lastWord) return;
            if (n == words.length) words = java.util.Arrays.copyOf(words, n * 2);
            words[n++] = w;
            lastWord = w;
        }
    }

    private record Entry(long count, int left, int right) {}

    private final int[][] words;
    private final long[] freq;
    private final Map<Long, Stat> pairs = new HashMap<>();
    private final PriorityQueue<Entry> heap = new PriorityQueue<>((x, y) -> {
        if (x.count != y.count) return Long.compare(y.count, x.count);
        if (x.left != y.left) return Integer.compare(x.left, y.left);
        return Integer.compare(x.right, y.right);
    });

    PairMerger(int[][] words, long[] freq) {
        this.words = words;
        this.freq = freq;
    }

    private static long key(int a, int b) { return ((long) a << 32) | (b & 0xFFFFFFFFL); }

    private Stat stat(long k) { return pairs.computeIfAbsent(k, x -> new Stat()); }

    /** Learns merges until {@code symbols.wantMore()} is false or no pair occurs {@code minCount} times. */
    List<Merge> learn(Symbols symbols, long minCount, java.util.function.IntConsumer progress) {
        for (int w = 0; w < words.length; w++) {
            int[] s = words[w];
            for (int i = 0; i + 1 < s.length; i++) {
                if (s[i] == BARRIER || s[i + 1] == BARRIER) continue;
                Stat st = stat(key(s[i], s[i + 1]));
                st.count += freq[w];
                st.addWord(w);
            }
        }
        pairs.forEach((k, st) -> heap.add(new Entry(st.count, (int) (k >>> 32), (int) (long) k)));
        List<Merge> out = new ArrayList<>();
        while (symbols.wantMore()) {
            Entry top = heap.poll();
            if (top == null) break;
            Stat st = pairs.get(key(top.left, top.right));
            long cur = st == null ? 0 : st.count;
            if (cur != top.count) {
                if (cur > 0) heap.add(new Entry(cur, top.left, top.right));
                continue;
            }
            if (cur < minCount) break;
            int merged = symbols.merge(top.left, top.right);
            apply(top.left, top.right, merged, st);
            out.add(new Merge(top.left, top.right, merged, cur));
            if (progress != null) progress.accept(out.size());
        }
        return out;
    }

    /** Rewrites every word holding {@code a b}, moving counts from the old pairs to the new ones. */
    private void apply(int a, int b, int merged, Stat ab) {
        Map<Long, Stat> grown = new HashMap<>();
        int[] list = java.util.Arrays.copyOf(ab.words, ab.n);
        for (int w : list) {
            int[] s = words[w];
            if (!contains(s, a, b)) continue;
            long f = freq[w];
            int[] t = new int[s.length];
            int n = 0;
            for (int i = 0; i < s.length; i++) {
                if (i + 1 < s.length && s[i] == a && s[i + 1] == b) {
                    t[n++] = merged;
                    i++;
                } else {
                    t[n++] = s[i];
                }
            }
            t = java.util.Arrays.copyOf(t, n);
            addPairs(s, -f, w, null, merged);
            addPairs(t, f, w, grown, merged);
            words[w] = t;
        }
        for (var e : grown.entrySet()) {
            Stat st = e.getValue();
            if (st.count > 0) heap.add(new Entry(st.count, (int) (e.getKey() >>> 32), (int) (long) e.getKey()));
        }
    }

    /** Adds f to every pair of s; pairs holding the new symbol also learn that word w holds them. */
    private void addPairs(int[] s, long f, int w, Map<Long, Stat> grown, int merged) {
        for (int i = 0; i + 1 < s.length; i++) {
            if (s[i] == BARRIER || s[i + 1] == BARRIER) continue;
            long k = key(s[i], s[i + 1]);
            Stat st = stat(k);
            st.count += f;
            if (grown != null && (s[i] == merged || s[i + 1] == merged)) {
                st.addWord(w);
                grown.put(k, st);
            }
        }
    }

    private static boolean contains(int[] s, int a, int b) {
        for (int i = 0; i + 1 < s.length; i++) if (s[i] == a && s[i + 1] == b) return true;
        return false;
    }
}

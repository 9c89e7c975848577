package jllm.tokenizer.util;

/** Char trie answering "longest key starting at position i" without allocation. */
public final class StringTrie {
    private final LongLongMap edges;
    private int[] value;
    private int nodes = 1;

    public StringTrie() { this(16); }

    /** Sized for about {@code keys} keys (avoids rehashing while a large vocabulary is added). */
    public StringTrie(int keys) {
        edges = new LongLongMap(Math.max(64, keys * 4));
        value = new int[Math.max(64, keys)];
        java.util.Arrays.fill(value, -1);
    }

    /** The root node, where every walk starts. */
    public static final int ROOT = 0;

    /** The node reached from {@code node} by char {@code c}, or -1 (for walks that need every prefix, e.g. Viterbi). */
    public int step(int node, char c) { return (int) edges.get(((long) node << 16) | c, -1); }

    /** The value of the key ending at {@code node}, or -1. */
    public int value(int node) { return value[node]; }

    /** Adds a key; the first value put for a key wins. */
    public void put(String key, int v) {
        if (key.isEmpty()) return;
        int node = 0;
        for (int i = 0; i < key.length(); i++) {
            long k = ((long) node << 16) | key.charAt(i);
            long c = edges.get(k, -1);
            if (c < 0) {
                c = nodes++;
                if (nodes > value.length) {
                    int old = value.length;
                    value = java.util.Arrays.copyOf(value, old * 2);
                    java.util.Arrays.fill(value, old, value.length, -1);
                }
                edges.put(k, c);
            }
            node = (int) c;
        }
        if (value[node] < 0) value[node] = v;
    }

    public boolean isEmpty() { return nodes == 1; }

    /** (length << 32 | value) of the longest key at s[i..], or -1. */
    public long longest(String s, int i) {
        int node = 0;
        long best = -1;
        for (int j = i; j < s.length(); j++) {
            long c = edges.get(((long) node << 16) | s.charAt(j), -1);
            if (c < 0) break;
            node = (int) c;
            if (value[node] >= 0) best = ((long) (j + 1 - i) << 32) | value[node];
        }
        return best;
    }
}

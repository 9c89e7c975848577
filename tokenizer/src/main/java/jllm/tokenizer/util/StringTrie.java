package jllm.tokenizer.util;

/** Char trie answering "longest key starting at position i" without allocation. */
public final class StringTrie {
    private final LongLongMap edges = new LongLongMap(64);
    private int[] value = new int[64];
    private int nodes = 1;

    public StringTrie() { java.util.Arrays.fill(value, -1); }

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

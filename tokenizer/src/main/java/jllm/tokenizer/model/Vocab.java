package jllm.tokenizer.model;

import java.util.Map;

/** Bidirectional token table. Ids may be sparse; the array is sized to the largest id + 1. */
public final class Vocab {
    /**
     * Ids beyond this are refused: the table is sized by the largest id, so one id of 2,000,000,000 in
     * a hostile file would otherwise ask for gigabytes. Real vocabularies stay below 2^19.
     */
    public static final int MAX_ID = (1 << 24) - 1;

    final String[] tokens;
    /**
     * The index from text to id: open addressing, {@code index[2 s]} a token's {@code String.hashCode},
     * {@code index[2 s + 1]} its position in {@link #keys} + 1 (0: empty). Written here rather than a {@code HashMap<String,
     * Integer>} because loading a tokenizer is mostly lookups (three per BPE merge, 280k merges for
     * Llama 3) and each HashMap lookup chases a node, a key and its bytes: 0.3-0.5 s per load of
     * a GGUF vocabulary went to {@code HashMap.getNode}. Here a probe reads one int pair, and the
     * lookups of a merge's parts ({@link #id(String, int, int)}, {@link #id(String, int, int, String,
     * int, int)}) need no substring.
     */
    private final int[] index;
    private final int mask;
    /**
     * Where a probe ran past {@link #MAX_PROBE} slots, the texts are indexed by a HashMap instead (it
     * keeps colliding String keys in a tree): a vocabulary of texts crafted to share one hash would
     * otherwise take quadratic time to load. Real vocabularies stay far below the limit (a run of 256
     * occupied slots at load factor 1/2 has a probability of about e^-49).
     */
    private Map<String, Integer> flooded;
    private static final int MAX_PROBE = 256;
    /** The indexed texts and, where they are not {@link #tokens} in id order, their ids. */
    private final String[] keys;
    private final int[] keyIds;

    public Vocab(Map<String, Integer> ids) {
        int max = -1;
        for (var e : ids.entrySet()) {
            int v = e.getValue();
            if (v < 0 || v > MAX_ID) throw new jllm.formats.FormatException(outOfRange("token '" + e.getKey() + "'", v));
            max = Math.max(max, v);
        }
        tokens = new String[max + 1];
        // keys of their own: two texts may share an id, and each must still find it
        keys = new String[ids.size()];
        keyIds = new int[ids.size()];
        int k = 0;
        for (var e : ids.entrySet()) {
            tokens[e.getValue()] = e.getKey();
            keys[k] = e.getKey();
            keyIds[k++] = e.getValue();
        }
        mask = capacity(keys.length) - 1;
        index = new int[2 * (mask + 1)];
        for (int i = 0; i < keys.length; i++) insert(keys[i].hashCode(), i);
    }

    /** Ids are positions; a text that repeats keeps its first id (GGUF vocabularies may repeat a string). */
    public static Vocab of(String[] tokens) {
        return new Vocab(tokens);
    }

    private Vocab(String[] tokens) {
        if (tokens.length > MAX_ID + 1) throw new jllm.formats.FormatException(outOfRange("token #" + tokens.length, tokens.length - 1));
        this.tokens = tokens.clone();
        keys = this.tokens;
        keyIds = null;
        mask = capacity(tokens.length) - 1;
        index = new int[2 * (mask + 1)];
        for (int i = 0; i < tokens.length; i++) if (tokens[i] != null && id(tokens[i]) < 0) insert(tokens[i].hashCode(), i);
    }

    private static int capacity(int n) {
        return Integer.highestOneBit(Math.max(4, n) * 2 - 1) << 1;
    }

    /** The first slot of hash h: String hashes of similar texts differ in their low bits little. */
    private int slot(int h) {
        return (h * 0x9E3779B9 >>> 7) & mask;
    }

    /** Key {@code k} (with hash h) into the first free slot of its probe. */
    private void insert(int h, int k) {
        if (flooded != null) {
            flooded.putIfAbsent(keys[k], idOf(k));
            return;
        }
        int s = slot(h), probe = 0;
        while (index[2 * s + 1] != 0) {
            s = (s + 1) & mask;
            if (++probe > MAX_PROBE) {
                flood(k);
                return;
            }
        }
        index[2 * s] = h;
        index[2 * s + 1] = k + 1;
    }

    /** Moves the keys the table holds (no text twice), then key k, into {@link #flooded}. */
    private void flood(int k) {
        Map<String, Integer> m = new java.util.HashMap<>();
        for (int s = 0; s <= mask; s++) {
            int v = index[2 * s + 1];
            if (v != 0) m.put(keys[v - 1], idOf(v - 1));
        }
        m.put(keys[k], idOf(k));
        flooded = m;
    }

    private int idOf(int k) { return keyIds == null ? k : keyIds[k]; }

    public int id(String token) {
        if (flooded != null) return flooded.getOrDefault(token, -1);
        int h = token.hashCode();
        for (int s = slot(h); ; s = (s + 1) & mask) {
            int v = index[2 * s + 1];
            if (v == 0) return -1;
            if (index[2 * s] == h && keys[v - 1].equals(token)) return idOf(v - 1);
        }
    }

    /** The id of {@code text.substring(from, to)}, or -1. */
    public int id(String text, int from, int to) {
        return id(text, from, to, "", 0, 0);
    }

    /** The id of {@code a.substring(a0, a1) + b.substring(b0, b1)}, or -1, without making either string. */
    public int id(String a, int a0, int a1, String b, int b0, int b1) {
        if (flooded != null) return flooded.getOrDefault(a.substring(a0, a1) + b.substring(b0, b1), -1);
        int h = 0;
        for (int i = a0; i < a1; i++) h = 31 * h + a.charAt(i);
        for (int i = b0; i < b1; i++) h = 31 * h + b.charAt(i);
        int la = a1 - a0, n = la + b1 - b0;
        for (int s = slot(h); ; s = (s + 1) & mask) {
            int v = index[2 * s + 1];
            if (v == 0) return -1;
            String t = keys[v - 1];
            if (index[2 * s] == h && t.length() == n && t.regionMatches(0, a, a0, la) && t.regionMatches(la, b, b0, n - la)) return idOf(v - 1);
        }
    }

    /** The message for a token id outside 0..MAX_ID. */
    public static String outOfRange(String what, long id) {
        return what + " has id " + id + ", outside 0.." + MAX_ID + " (no real vocabulary is that large)";
    }

    public String token(int id) { return id >= 0 && id < tokens.length ? tokens[id] : null; }

    public int size() { return tokens.length; }
}
